"""Less and better text for a small model: each passage cut to its statements that best bear on the question.

The extractive answerer's own ranking (`ExtractiveAnswerer._ranked`) scores every statement of the passages;
the best `count` of them, kept in passage order with "…" where text was left out, stand in for the passages in
the prompt. Passage n is still hits[n-1]: the excerpt changes only what the model reads, and the claim check
still judges each sentence against the whole passage it cites.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Sequence

from rag.answer.answerers.extractive import ExtractiveAnswerer
from rag.attribution.speakers import asked_speaker
from rag.check.recency import question_reach, within
from rag.nlp.dates import published_day
from rag.core.schema import Hit

__all__ = ["ranked_statements", "excerpt_hits", "relevance_order", "within_reach", "FRESH_ENOUGH"]

GAP = " … "


def ranked_statements(question: str, hits: Sequence[Hit]) -> list | None:
    """Every statement of the hits, best first, as the extractive answerer ranks them (None: the ranking does not
    apply). Rank once and hand the result to excerpt_hits and relevance_order."""
    return ExtractiveAnswerer()._ranked(question, hits, asked_speaker(question))


def excerpt_hits(question: str, hits: Sequence[Hit], count: int, units: list | None = None) -> list[Hit] | None:
    """The hits with each passage's text cut to its share of the best `count` statements (a passage with none
    keeps its first statement, so every number the model may cite shows something); None when the ranking does
    not apply (a question about no subject: the whole passages are better). `units`: ranked_statements(question,
    hits), if already computed."""
    units = ranked_statements(question, hits) if units is None else units
    if not units:
        return None
    chosen: dict[int, list] = {}
    for u in units[:count]:
        chosen.setdefault(u.n, []).append(u)
    out = []
    for n, hit in enumerate(hits, 1):
        mine = sorted(chosen.get(n, []), key=lambda u: u.start)
        if not mine:
            first = next((u for u in units if u.n == n), None)
            mine = [first] if first is not None else []
        if not mine:
            out.append(hit)
            continue
        text = GAP.join(u.text.strip() for u in mine)
        if mine[0].start > 0:
            text = "… " + text
        if mine[-1].end < len(hit.passage.text.rstrip()):
            text += " …"
        out.append(dataclasses.replace(hit, passage=dataclasses.replace(hit.passage, text=text)))
    return out


def relevance_order(question: str, hits: Sequence[Hit], units: list | None = None) -> list[int] | None:
    """The hits' indexes, the passage holding the best statement first (by the same ranking as the excerpts),
    those holding none last in retrieval order; None when the ranking does not apply. `units` as for
    excerpt_hits."""
    units = ranked_statements(question, hits) if units is None else units
    if not units:
        return None
    order: list[int] = []
    for u in units:
        if u.n - 1 not in order:
            order.append(u.n - 1)
    return order + [i for i in range(len(hits)) if i not in order]


FRESH_ENOUGH = 2  # passages within the question's reach that make the older ones only a distraction


def within_reach(question: str, hits: Sequence[Hit], asked_on: date) -> list[int] | None:
    """For a question that says when relative to the day asked ("this week", "today", "the past five days"): the
    indexes of the hits published within that reach, when there are at least FRESH_ENOUGH of them and older ones
    beside them; None otherwise (the question names no such time, or too few passages are that recent to leave
    the older ones out). The same reach as the check's (rag/check/recency.py): a sentence saying "this week"
    from an older story would not be confirmed anyway, and a small model copies the older story whose words
    match the question's ("astronauts returned to Earth after six months") over this week's."""
    reach = question_reach(question)
    if reach is None:
        return None
    days = reach[1]
    # a passage without a readable date is never left out
    fresh = [i for i, h in enumerate(hits)
             if (day := published_day(h.passage.published_at)) is None or within(day, asked_on, days)]
    if len(fresh) < FRESH_ENOUGH or len(fresh) == len(hits):
        return None
    return fresh
