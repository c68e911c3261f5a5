"""Sentence spans for news text: used by chunking, the extractive answerer and the citation check."""

from __future__ import annotations

import re

from rag.nlp.calendar import MONTH_ABBREVIATIONS
from rag.nlp.text import normalize

__all__ = ["sentence_spans", "statement_spans", "split_sentences", "words", "normalize", "long_quotes"]

_ABBREV = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "gov", "sen", "rep", "col", "lt", "sgt", "capt",
    "inc", "co", "corp", "ltd", "vs", "etc", "no", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m", "ft", "mt",
    "approx", "est", "fig", *MONTH_ABBREVIATIONS,
}
# A sentence ends at . ! ? (or an ellipsis), then any closing quotes or brackets, then white space.
_END = re.compile(r"""([.!?]+|…)["'”’)\]]*(?=\s)""")
_PARA = re.compile(r"\n\s*\n")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _PARA.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; paragraphs (and single line breaks) always end a sentence.

    Spans are trimmed of surrounding white space, so text[start:end] is the sentence exactly.
    """
    out: list[tuple[int, int]] = []
    for ps, pe in _paragraph_spans(text):
        for ls, le in _line_spans(text, ps, pe):
            start = ls
            for m in _END.finditer(text, ls, le):
                end = m.end()
                before = text[start:m.start()]
                last = before.rsplit(None, 1)[-1].lower().strip("(\"'“‘") if before.strip() else ""
                if m.group(1) == "." and (last in _ABBREV or re.fullmatch(r"[a-z]", last)):
                    continue  # "Mr." or an initial "J." does not end a sentence
                nxt = text[end:le].lstrip()
                if nxt and nxt[0].islower():
                    continue  # "... said the U.S. envoy" style: the next word is lowercase
                _add(out, text, start, end)
                start = end
            _add(out, text, start, le)
    return out


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, pos = [], start
    while True:
        nl = text.find("\n", pos, end)
        if nl < 0:
            spans.append((pos, end))
            return spans
        spans.append((pos, nl))
        pos = nl + 1


def _add(out: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append((start, end))


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def words(text: str) -> list[str]:
    """Lowercased word tokens."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def statement_spans(text: str, max_join: int = 4) -> list[tuple[int, int]]:
    """Sentence spans, except that a quotation running over several sentences stays one statement."""
    spans = sentence_spans(text)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        s, e = spans[i]
        j = i
        while (_quote_marks(text[s:e]) % 2 == 1 and j + 1 < len(spans) and j - i < max_join - 1
               and "\n\n" not in text[e:spans[j + 1][0]]):
            j += 1
            e = spans[j][1]
        out.append((s, e))
        i = j + 1
    return out


def _quote_marks(text: str) -> int:
    return text.count('"') + text.count("“") + text.count("”")


def long_quotes(text: str, min_words: int = 4) -> list[str]:
    """Quoted passages of at least min_words words (a one-word scare quote is not a statement)."""
    return [q for q in re.findall(r"[\"“]([^\"“”]+)[\"”]", text) if len(q.split()) >= min_words]
