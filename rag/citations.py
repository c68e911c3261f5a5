"""Every [n] in an answer is checked against passage n before the user sees it.

A citation is built from the retrieved passage, never from what the answerer wrote: its quote is the span of
the passage (found by offsets in the article text) that best supports the sentence. A sentence whose quote
is not in its passage, or whose words the passage does not carry, is dropped; markers naming no given passage
are removed; an uncited sentence is kept only if some given passage supports it (and it then gets that [n]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .injection import without_instructions
from .lexical import content_words, coverage
from .schema import Citation, Hit
from .sentences import normalize, statement_spans

__all__ = ["check", "Checked", "REFUSAL_PREFIX"]

_MARK = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_TRAILING = re.compile(r"([.!?]+[\"'”’)]*)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_QUOTED = re.compile(r"[\"“]([^\"“”]{12,}?)[\"”]")
REFUSAL_PREFIX = "The coverage I have does not answer"
_META = re.compile(r"^(the coverage i have|i (could not|couldn't|can't|cannot) find|sources (differ|disagree)|"
                   r"note:|however, the passages|the passages (do not|don't))", re.I)


@dataclass
class Checked:
    text: str
    citations: list[Citation]
    claims_checked: int
    claims_dropped: int
    dropped: list[str]


def _support(claim: str, hit: Hit, threshold: float) -> tuple[bool, tuple[int, int]]:
    """Does the passage support the claim? Returns the verdict and the best span (offsets in the passage)."""
    passage = without_instructions(hit.passage.text)  # words addressed to the assistant are not evidence
    quotes = [q for q in _QUOTED.findall(claim) if len(q.split()) >= 3]
    norm_passage = normalize(passage)
    for q in quotes:
        if normalize(q).strip(" ,.") not in norm_passage:
            return False, (0, 0)  # a quotation that the passage does not contain is made up
    spans = [(s, e) for s, e in statement_spans(passage) if passage[s:e].strip()] or [(0, len(passage))]
    claim_words = set(content_words(claim))
    best, best_span = -1.0, spans[0]
    for s, e in spans:
        c = coverage(claim_words, set(content_words(passage[s:e])))
        if c > best:
            best, best_span = c, (s, e)
    # The claim may combine two sentences of the passage: judge it against the passage as a whole too.
    whole = coverage(claim_words, set(content_words(passage)))
    if quotes:
        q = normalize(quotes[0]).strip(" ,.")
        for s, e in spans:
            if normalize(passage[s:e]).find(q[:40]) >= 0:
                best_span = (s, e)
                break
        return True, best_span
    return (max(best, whole) >= threshold and len(claim_words) > 0), best_span


def check(text: str, hits: Sequence[Hit], *, threshold: float = 0.5) -> Checked:
    """Check each sentence of `text` against the passages its [n] markers name (hits[n-1])."""
    kept: list[str] = []
    dropped: list[str] = []
    numbering: dict[tuple[int, tuple[int, int]], int] = {}
    citations: list[Citation] = []
    checked = 0
    # "said so. [1] Next" -> "said so [1]. Next": a marker belongs to the sentence before it.
    text = _TRAILING.sub(lambda m: " " + m.group(2).strip() + m.group(1), text)
    for s, e in statement_spans(text):
        sentence = text[s:e]
        marks = [int(x) for m in _MARK.finditer(sentence) for x in re.split(r"\s*,\s*", m.group(1))]
        claim = _MARK.sub("", sentence).strip()
        if not claim:
            continue
        if _META.match(claim) and not marks:
            kept.append(claim)
            continue
        checked += 1
        valid = [n for n in dict.fromkeys(marks) if 1 <= n <= len(hits)]
        supported: list[tuple[int, tuple[int, int]]] = []
        for n in valid:
            ok, span = _support(claim, hits[n - 1], threshold)
            if ok:
                supported.append((n, span))
        if not valid:  # uncited: keep it only if a given passage carries it, and cite that passage
            for n in range(1, len(hits) + 1):
                ok, span = _support(claim, hits[n - 1], max(threshold, 0.7))
                if ok:
                    supported.append((n, span))
                    break
        if not supported:
            dropped.append(claim)
            continue
        labels = []
        for n, span in supported:
            key = (n, span)
            if key not in numbering:
                numbering[key] = len(numbering) + 1
                citations.append(_citation(numbering[key], hits[n - 1], span))
            labels.append(numbering[key])
        kept.append(claim + " " + "".join(f"[{i}]" for i in labels))
    return Checked(" ".join(kept).strip(), citations, checked, len(dropped), dropped)


def _citation(n: int, hit: Hit, span: tuple[int, int]) -> Citation:
    p = hit.passage
    s, e = span
    return Citation(n=n, article_id=p.article_id, passage_id=p.id, title=p.title, source=p.source, url=p.url,
                    published_at=p.published_at, passage=p.text, quote=p.text[s:e], start=p.start + s,
                    end=p.start + e)
