"""The head of an article: its byline (who wrote it, for which outlet) and dateline (which day), taken out.

Read from the first few lines only, and a line is taken only when all of it is byline or dateline:
- "By Omar Haddad | November 19, 2026", "By Dana Ruiz, Harbor City Ledger", "By Ana Lee and Tom Ng";
- a dateline alone ("Published March 14, 2024", "Aug. 28, 2025 Updated Aug. 29, 2025, 4:47 p.m. ET");
- a name line then an outlet line before the story starts ("Dana Ruiz" / "Harbor City Ledger" / a paragraph);
- a place and outlet with a dash before the story ("Kyiv, Ukraine CNN —"): removed, nothing read from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .datelines import parse_dateline

__all__ = ["Head", "read_head", "HEAD_LINES"]

HEAD_LINES = 6  # bylines and datelines come before the story; later lines are story text

_BY = re.compile(r"^(?:written\s+)?by\s*:?\s+(?P<rest>\S.*)$", re.IGNORECASE)
_SPLIT = re.compile(r"\s+[|\u00b7\u2022\u2013\u2014-]\s+|\s*[|\u00b7\u2022]\s*")
_PARTICLE = r"(?:de|da|del|della|van|von|der|den|la|le|bin|ibn|al|el|di|du|dos|das|y)"
_WORD = r"[A-Z][A-Za-z\u00c0-\u024f'\u2019.-]*"
_PERSON = rf"{_WORD}(?:\s+(?:{_WORD}|{_PARTICLE})){{0,4}}"
_PEOPLE = re.compile(rf"^{_PERSON}(?:(?:\s*,\s*|\s+and\s+|\s*&\s*){_PERSON})*$")
_NAME_LINE = re.compile(rf"^{_WORD}(?:\s+(?:{_WORD}|{_PARTICLE})){{1,3}}$")  # "Dana Ruiz" (2 to 4 words)
_OUTLET = re.compile(r"^[A-Z0-9][\w'\u2019.&-]*(?:\s+[\w'\u2019.&-]+){0,5}$")
_PLACE_DASH = re.compile(r"^(?:[A-Z][^.!?\"]{0,60}?\s)?[A-Z][\w.&]*\s?[\u2013\u2014]$")  # "Kyiv, Ukraine CNN —"
_STORY_WORDS = 12  # a line this long is story text: the head ends before it


@dataclass
class Head:
    """What an article's head lines said, and which lines they were (as (paragraph, line) positions)."""

    author: str | None = None
    outlet: str | None = None
    published_at: str | None = None
    updated_at: str | None = None
    relative: bool = False
    drop: set[tuple[int, int]] = field(default_factory=set)

    def _dates(self, published: str | None, updated: str | None, relative: bool) -> None:
        if published and not self.published_at:
            self.published_at, self.relative = published, relative
        self.updated_at = self.updated_at or updated


def read_head(blocks: list[list[str]], fetched_at: datetime | None = None) -> Head:
    """Find the byline and dateline lines among the first HEAD_LINES lines of an article's paragraphs."""
    head = Head()
    flat = [((b, i), line) for b, block in enumerate(blocks) for i, line in enumerate(block)][:HEAD_LINES]
    for n, (pos, line) in enumerate(flat):
        if len(line.split()) >= _STORY_WORDS:
            break
        if _take_byline(line, fetched_at, head) or _take_dateline(line, fetched_at, head):
            head.drop.add(pos)
        elif _PLACE_DASH.match(line) and len(line.split()) <= 6:
            head.drop.add(pos)
        elif (n == 0 and head.author is None and n + 2 < len(flat) and _NAME_LINE.match(line)
              and _outlet_line(flat[1][1]) and len(flat[2][1].split()) >= _STORY_WORDS):
            head.author, head.outlet = line, flat[1][1]
            head.drop.update({pos, flat[1][0]})
    return head


def _take_dateline(line: str, fetched_at: datetime | None, head: Head) -> bool:
    found = parse_dateline(line, fetched_at)
    if found is None:
        return False
    head._dates(found.published_at, found.updated_at, found.relative)
    return True


def _take_byline(line: str, fetched_at: datetime | None, head: Head) -> bool:
    match = _BY.match(line)
    if not match or len(line.split()) > 20:
        return False
    parts = [p.strip() for p in _SPLIT.split(match.group("rest")) if p.strip()]
    people, outlet = _people_and_outlet(parts[0])
    if people is None:
        return False
    dates = []
    for part in parts[1:]:
        found = parse_dateline(part, fetched_at)
        if found is not None:
            dates.append(found)
        elif outlet is None and _outlet_line(part):
            outlet = part
        else:
            return False  # something this reader does not know: leave the line in the text
    head.author = head.author or people
    head.outlet = head.outlet or outlet
    for found in dates:
        head._dates(found.published_at, found.updated_at, found.relative)
    return True


def _people_and_outlet(text: str) -> tuple[str | None, str | None]:
    """"Dana Ruiz, Harbor City Ledger" -> ("Dana Ruiz", "Harbor City Ledger"); "Ana Lee and Tom Ng" -> people.

    A comma with no "and" after it splits the author from the outlet ("By A, B" reads B as the outlet)."""
    text = text.rstrip(" .,")
    before, comma, after = text.rpartition(",")
    if comma and " and " not in after and "&" not in after and _PEOPLE.match(before.strip()) and _outlet_line(after.strip()):
        return before.strip(), after.strip()
    return (text, None) if _PEOPLE.match(text) else (None, None)


def _outlet_line(line: str) -> bool:
    """Short, capitalised, no sentence punctuation and no quote: the shape of an outlet's name."""
    return bool(_OUTLET.match(line)) and not line.endswith((".", "!", "?", ":", ";", ",")) and '"' not in line
