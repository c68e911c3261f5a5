"""Every sentence of an answer is checked against the passages it cites before the user sees it.

No sentence is exempt: notes, hedges and "I could not find" sentences are judged like any other (fixed
sentences the product writes, such as refusals, are added after the check and never pass through it).
A sentence is kept when a passage it cites states it (rag/claims: quotes word for word, the words, numbers
with units, dates, names, polarity, attribution and the words around a quote); an uncited sentence is kept
only if some given passage states it, and then gets that passage's [n]. Markers naming no given passage are
removed. A citation is built from the retrieved passage, never from what the answerer wrote: its quote is the
span of the passage (offsets in the article text) that supports the sentence. Each drop keeps its reason.

`Checker` checks one sentence at a time with stable numbering (for streaming); `check` checks a whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from .claims import Verdict, judge
from .schema import Citation, Hit
from .sentences import statement_spans

__all__ = ["check", "checked_stream", "Checked", "Checker", "SentenceCheck", "REFUSAL_PREFIX", "split_claims"]

_MARK = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_TRAILING = re.compile(r"([.!?]+[\"'”’)]*)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_AFTER_MARKS = re.compile(r"\d\](?:\s*\[\d+\])*([.!?]*[\"'”’)]*)\s+(?=[A-Z\"“‘'(])")
REFUSAL_PREFIX = "The coverage I have does not answer"
_UNCITED_THRESHOLD = 0.7  # an uncited sentence must be carried more fully by the passage it is given


@dataclass
class SentenceCheck:
    """The verdict on one sentence: its kept text (with the answer's [n]) or why it was dropped."""

    sentence: str  # the claim, markers removed
    kept: str  # the sentence with its new [n] markers; "" when dropped
    citations: list[Citation]  # citations this sentence added to the answer
    dropped: dict | None = None  # {"sentence", "rule", "detail", "passage"} when dropped


@dataclass
class Checked:
    text: str
    citations: list[Citation]
    claims_checked: int
    claims_dropped: int
    dropped: list[dict] = field(default_factory=list)  # {"sentence", "rule", "detail", "passage"} per drop


def split_claims(text: str) -> list[str]:
    """The sentences of an answer, each with the markers that follow it ("said so. [1]" -> "said so [1].")."""
    text = _TRAILING.sub(lambda m: " " + m.group(2).strip() + m.group(1), text)
    out, pos = [], 0
    cuts = [m.end(1) for m in _AFTER_MARKS.finditer(text)] + [len(text)]
    for cut in cuts:  # a marker before a new sentence ends its claim, even inside an unclosed quotation
        segment = text[pos:cut]
        out.extend(segment[s:e] for s, e in statement_spans(segment))
        pos = cut
    return out


class Checker:
    """Checks the sentences of one answer against its hits; passage n is hits[n-1]. The answer's citation
    numbers are given in order of first use, so sentences can be checked (and shown) one by one."""

    def __init__(self, hits: Sequence[Hit], *, threshold: float = 0.5, renumber: bool = True) -> None:
        self.hits = list(hits)
        self.threshold = threshold
        self.renumber = renumber  # False: keep the hit numbers as the markers (for callers holding the hits)
        self.citations: list[Citation] = []
        self.checked = 0
        self.dropped: list[dict] = []
        self._numbering: dict[tuple[int, tuple[int, int]], int] = {}

    def add(self, sentence: str) -> SentenceCheck:
        marks = [int(x) for m in _MARK.finditer(sentence) for x in re.split(r"\s*,\s*", m.group(1))]
        claim = _MARK.sub("", sentence).strip()
        if not claim:
            return SentenceCheck(claim, "", [])
        self.checked += 1
        valid = [n for n in dict.fromkeys(marks) if 1 <= n <= len(self.hits)]
        supported, first_fail = self._supported(claim, valid)
        if not supported:
            n, verdict = first_fail
            reason = {"sentence": claim, "rule": verdict.rule if verdict else "uncited",
                      "detail": verdict.detail if verdict else "", "passage": n}
            if marks and not valid:
                reason.update(rule="marker", detail=" ".join(f"[{m}]" for m in marks), passage=None)
            self.dropped.append(reason)
            return SentenceCheck(claim, "", [], reason)
        new: list[Citation] = []
        labels = []
        for n, span in supported:
            key = (n, span)
            if key not in self._numbering:
                self._numbering[key] = len(self._numbering) + 1
                c = _citation(self._numbering[key] if self.renumber else n, self.hits[n - 1], span)
                self.citations.append(c)
                new.append(c)
            labels.append(self._numbering[key] if self.renumber else n)
        return SentenceCheck(claim, _marked(claim, "".join(f"[{i}]" for i in dict.fromkeys(labels))), new)

    def _supported(self, claim: str, valid: list[int]):
        """[(n, span)] of the passages that state the claim, and (n, verdict) of the first refusal."""
        first_fail: tuple[int | None, Verdict | None] = (valid[0] if valid else None, None)
        supported: list[tuple[int, tuple[int, int]]] = []
        for n in valid:
            v = judge(claim, self.hits[n - 1].passage.text, threshold=self.threshold)
            if v.ok:
                supported.append((n, v.span))
            elif first_fail[1] is None:
                first_fail = (n, v)
        if supported or not valid:
            if not valid:  # uncited: keep it only if a given passage states it, and cite that passage
                for n in range(1, len(self.hits) + 1):
                    v = judge(claim, self.hits[n - 1].passage.text, threshold=max(self.threshold, _UNCITED_THRESHOLD))
                    if v.ok:
                        return [(n, v.span)], first_fail
                    if first_fail[1] is None or _closer(v, first_fail[1]):
                        first_fail = (n, v)
            return supported, first_fail
        if len(valid) > 1:  # a sentence joining what two cited passages say: judge it against them together
            joined = "\n\n".join(self.hits[n - 1].passage.text for n in valid)
            v = judge(claim, joined, threshold=self.threshold)
            if v.ok:
                return [(n, _span_in(self.hits, valid, n, v.span)) for n in valid], first_fail
        return supported, first_fail

    def result(self) -> tuple[list[Citation], int, int, list[dict]]:
        return self.citations, self.checked, len(self.dropped), self.dropped


def _marked(claim: str, markers: str) -> str:
    """'It opens in June.' -> 'It opens in June [1].'; after a closing quote mark the marker goes last."""
    m = re.search(r"[.!?]+$", claim)
    if m:
        return f"{claim[:m.start()].rstrip()} {markers}{m.group(0)}"
    return f"{claim} {markers}"


def _closer(a: Verdict, b: Verdict) -> bool:
    """For the reason an uncited sentence is dropped: a rule failed after the words matched says more."""
    return a.rule != "words" and b.rule == "words"


def _span_in(hits: Sequence[Hit], valid: list[int], n: int, span: tuple[int, int]) -> tuple[int, int]:
    """The part of a joined-passages span that lies in passage n (the whole passage when none does)."""
    offset = 0
    for m in valid:
        text = hits[m - 1].passage.text
        if m == n:
            s, e = max(span[0] - offset, 0), min(span[1] - offset, len(text))
            return (s, e) if e > s else (0, len(text))
        offset += len(text) + 2
    return (0, 0)


def checked_stream(pieces: Iterable[str], checker: Checker) -> Iterator[SentenceCheck]:
    """Check a streamed answer sentence by sentence: each SentenceCheck comes as soon as its sentence is
    complete (the next one has begun, so its markers have arrived), the last one when the pieces end."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        text = _TRAILING.sub(lambda m: " " + m.group(2).strip() + m.group(1), buffer)
        spans = statement_spans(text)
        if len(spans) < 2:
            continue
        for s, e in spans[:-1]:
            yield checker.add(text[s:e])
        buffer = text[spans[-1][0]:]
    for sentence in split_claims(buffer):
        yield checker.add(sentence)


def check(text: str, hits: Sequence[Hit], *, threshold: float = 0.5) -> Checked:
    """Check each sentence of `text` against the passages its [n] markers name (hits[n-1])."""
    checker = Checker(hits, threshold=threshold)
    kept = [r.kept for r in (checker.add(s) for s in split_claims(text)) if r.kept]
    citations, checked, n_dropped, dropped = checker.result()
    return Checked(" ".join(kept).strip(), citations, checked, n_dropped, dropped)


def _citation(n: int, hit: Hit, span: tuple[int, int]) -> Citation:
    p = hit.passage
    s, e = span
    return Citation(n=n, article_id=p.article_id, passage_id=p.id, title=p.title, source=p.source, url=p.url,
                    published_at=p.published_at, passage=p.text, quote=p.text[s:e], start=p.start + s,
                    end=p.start + e)
