"""Passages and history as a model reads them: fenced, numbered, with text addressed to the assistant removed.

Passages are quoted material, not instructions. Each one is rendered between an opening
`<passage n="N" ...>` and a closing `</passage>` line; anything in the article that looks like one of
those markers is neutralised first, so an article cannot close its fence early and speak as the prompt.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Sequence

from rag.core.schema import Hit
from rag.nlp.dates import published_day
from rag.nlp.injection import instruction_spans

__all__ = ["neutralise", "mask_instructions", "format_passage", "format_passages", "format_history", "REMOVED"]

REMOVED = "[removed: text addressed to AI assistants]"

# "<passage", "</passage", "< / PASSAGE", "<passages>" ... anything that could open or close a fence.
_FENCE_MARKER = re.compile(r"<(\s*/?\s*passage)", re.IGNORECASE)


def neutralise(text: str) -> str:
    """Defuse passage fence markers in untrusted text: ``</passage>`` becomes ``&lt;/passage>``.

    Only the markers change, so quotes an answer takes from the passage stay exact everywhere else.
    """
    return _FENCE_MARKER.sub(r"&lt;\1", text)


def mask_instructions(text: str) -> str:
    """The text with each run addressed to the assistant (`rag.nlp.injection`) replaced by REMOVED: a model cannot
    follow an instruction it never reads."""
    out, last = [], 0
    for s, e in instruction_spans(text):
        out.extend([text[last:s], REMOVED])
        last = e
    out.append(text[last:])
    return "".join(out)


def _attr(value: str | None) -> str:
    """An attribute value: one line, HTML-escaped (quotes included), so it cannot leave its tag."""
    return html.escape(" ".join((value or "unknown").split()), quote=True)


def age(published: str | None, asked_on: date | None) -> str:
    """How long before the day asked a passage was published, in words a small model need not work out from two
    dates ("3 days before the question", "on the day asked", "6 years before the question"); "" when either
    date is unknown or the passage is newer."""
    day = published_day(published)
    days = (asked_on - day).days if asked_on and day else -1
    if days < 0:
        return ""
    if days == 0:
        return "on the day asked"
    # days up to two weeks, then weeks up to two months, months up to two years, then years
    k, unit = next(((days // size, unit) for size, unit in ((365, "year"), (30, "month"), (7, "week"))
                    if days >= 2 * size), (days, "day"))
    return f"{k} {unit}{'s' if k > 1 else ''} before the question"


def format_passage(n: int, hit: Hit, asked_on: date | None = None) -> str:
    """Render one hit as passage number `n`: the fence carries outlet and date (and, given the day the question is
    asked, the passage's age then); title and text sit inside."""
    p = hit.passage
    published = (p.published_at or "")[:10] or None
    title = neutralise(mask_instructions(" ".join((p.title or "").split()))) or "(untitled)"
    how_old = age(published, asked_on)
    lines = [
        f'<passage n="{n}" source="{_attr(p.source)}" date="{_attr(published)}"'
        + (f' age="{_attr(how_old)}"' if how_old else "") + ">",
        f"Title: {title}",
        "",
        neutralise(mask_instructions(p.text.strip())),
        "</passage>",
    ]
    return "\n".join(lines)


def format_passages(hits: Sequence[Hit], order: Sequence[int] | None = None, asked_on: date | None = None) -> str:
    """All hits as fenced passages numbered from 1 (passage n is hits[n-1]), separated by blank lines; `order`
    (0-based indexes into hits): the sequence they are shown in, each keeping its own number; `asked_on`: the day
    the question is asked (each fence then says how long before it the passage was published)."""
    if not hits:
        return "(no passages were found)"
    shown = list(order) if order is not None else range(len(hits))
    return "\n\n".join(format_passage(i + 1, hits[i], asked_on) for i in shown)


def format_history(history: Sequence[dict], *, max_turns: int = 8, max_chars: int = 1500) -> str:
    """The last `max_turns` turns as "User: ..." / "Assistant: ..." lines, each cut to `max_chars`."""
    lines = []
    for turn in list(history)[-max_turns:]:
        role = "Assistant" if str(turn.get("role", "user")).lower() in {"assistant", "ai", "bot"} else "User"
        content = " ".join(str(turn.get("content") or "").split())
        if len(content) > max_chars:
            content = content[:max_chars].rstrip() + " ..."
        if content:
            lines.append(f"{role}: {content}")
    return "\n".join(lines)
