"""When cited passages disagree on a figure or a date, say so and cite both."""

from __future__ import annotations

import re
from typing import Sequence

from .lexical import content_words
from .schema import Citation

__all__ = ["find_conflicts", "disagree"]

_NUM = re.compile(r"\$?\d[\d,.]*\s*(?:%|percent|million|billion|m\b|bn\b|k\b)?|\b(?:19|20)\d{2}\b")


def _figures(text: str) -> set[str]:
    return {re.sub(r"[\s,]", "", m.group(0)).rstrip(".").lower() for m in _NUM.finditer(text)}


def disagree(a: str, b: str) -> bool:
    """Two statements about the same thing (most content words shared) that give different figures."""
    fa, fb = _figures(a), _figures(b)
    if not fa or not fb or fa == fb:
        return False
    wa = {w for w in content_words(a) if not w[0].isdigit()}
    wb = {w for w in content_words(b) if not w[0].isdigit()}
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= 0.4


def find_conflicts(citations: Sequence[Citation]) -> list[str]:
    """Sentences like 'Sources differ: [1] gives 371, [2] gives 355.' for cited quotes from different articles
    that speak of the same thing (most of their words shared) but give different figures."""
    notes = []
    seen: set[tuple[int, int]] = set()
    for i, a in enumerate(citations):
        for b in citations[i + 1:]:
            if a.article_id == b.article_id or (a.n, b.n) in seen:
                continue
            if not disagree(a.quote, b.quote):
                continue
            seen.add((a.n, b.n))
            fa, fb = _figures(a.quote), _figures(b.quote)
            notes.append(f"Sources differ: [{a.n}] gives {', '.join(sorted(fa - fb) or sorted(fa))}, "
                         f"while [{b.n}] gives {', '.join(sorted(fb - fa) or sorted(fb))}.")
    return notes
