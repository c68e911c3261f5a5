"""Dates an article states about itself in a dateline: "Aug. 28, 2025 Updated Aug. 29, 2025, 4:47 p.m. ET",
"Published March 14, 2024", "Posted 2 days ago" (counted back from when the page was fetched).

A dateline is a line made of nothing but such dates, their labels and separators: a sentence that mentions a
date ("The crew launched Sept. 21, 2022 ...") is never one. A date after the fetch time, a year-less date
("Aug. 28") and "a month ago" (which day?) give no date: no date beats a wrong one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rag.nlp.calendar import MONTH_PATTERN, WEEKDAY_PATTERN, month_number

__all__ = ["Dateline", "parse_dateline", "stated_original_date", "DATE_PATTERN"]

_MON = MONTH_PATTERN
_WEEKDAY = rf"(?:{WEEKDAY_PATTERN}\.?,?\s+)?"
DATE_PATTERN = (
    rf"{_WEEKDAY}(?:(?P<mon>{_MON})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d{{2}})"
    rf"|(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon2>{_MON})\.?,?\s+(?P<year2>(?:19|20)\d{{2}})"
    r"|(?P<iy>(?:19|20)\d{2})-(?P<im>\d{2})-(?P<id>\d{2}))"
)
_TIME = r"(?:,?\s*(?:at\s+)?\d{1,2}(?::\d{2}){1,2}(?:\s*[ap]\.?\s?m\.?)?(?:\s*\(?[A-Z]{2,5}\)?)?|,?\s*(?:at\s+)?\d{1,2}\s*[ap]\.?\s?m\.?(?:\s*[A-Z]{2,5})?)?"
_REL = r"(?P<n>\d{1,3}|an?|one)\s+(?P<unit>min(?:ute)?s?|hours?|hrs?|days?|weeks?)\s+ago"
_PUB = r"published|posted|first published|originally published|publication date|date|created|released"
_UPD = r"updated|last updated|modified|last modified|revised"
_TIME_FIRST = r"(?:\d{1,2}(?::\d{2})?\s*[ap]\.?\s?m\.?(?:\s*[A-Z]{2,5})?,?\s+(?:on\s+)?)?"
_PART = re.compile(
    rf"(?:(?P<pub>{_PUB})|(?P<upd>{_UPD}))?(?:\s+on)?\s*:?\s*(?:{_TIME_FIRST}(?P<date>{DATE_PATTERN}){_TIME}|(?P<rel>{_REL}))",
    re.IGNORECASE,
)
_SEPARATORS = " |\u00b7\u2022-\u2013\u2014/,.;:()[]"
_ORIGINAL = re.compile(
    rf"\boriginally\s+(?:ran|published|appeared|aired|posted)(?:\s+on)?\s+(?P<date>{DATE_PATTERN})", re.IGNORECASE)


@dataclass(frozen=True)
class Dateline:
    published_at: str | None  # YYYY-MM-DD
    updated_at: str | None
    relative: bool  # counted back from the fetch time ("2 days ago")


def parse_dateline(line: str, fetched_at: datetime | None = None) -> Dateline | None:
    """The dates of a dateline line, or None when the line is anything more than dates, labels and separators.

    A date with no label, or with "Published", is the publication date; "Updated" marks the updated date.
    `fetched_at` anchors relative dates and bounds absolute ones (none may lie after it)."""
    if len(line) > 160 or line.rstrip().endswith(":"):
        return None  # a line ending in ":" heads what follows ("Dec. 25, 1931:" in a timeline)
    parts = list(_PART.finditer(line))
    if not parts or _PART.sub(" ", line).strip(_SEPARATORS):
        return None
    published = updated = None
    relative = False
    for part in parts:
        if part.group("rel"):
            if fetched_at is None:
                return None  # "2 days ago" with no known fetch time: no date rather than a guess
            day = _ago(part, fetched_at)
            relative = True
        else:
            day = _day(part)
        if day is None or (fetched_at is not None and day > fetched_at.date() + timedelta(days=1)):
            return None
        if part.group("upd"):
            updated = updated or day.isoformat()
        elif published is None:
            published = day.isoformat()
        else:
            updated = updated or day.isoformat()  # "Aug. 28, 2025 | Aug. 29, 2025": the second is an update
    if published is None and updated is None:
        return None
    return Dateline(published, updated, relative)


def stated_original_date(text: str) -> str | None:
    """The date an editor's note says the story first ran ("This story originally ran November 23, 2022")."""
    match = _ORIGINAL.search(text)
    day = _day(match) if match else None
    return day.isoformat() if day else None


def _day(m: re.Match) -> date | None:
    g = m.groupdict()
    try:
        if g.get("iy"):
            return date(int(g["iy"]), int(g["im"]), int(g["id"]))
        mon, day, year = (g["mon"], g["day"], g["year"]) if g.get("mon") else (g["mon2"], g["day2"], g["year2"])
        return date(int(year), month_number(mon), int(day))
    except (TypeError, ValueError, KeyError):
        return None


def _ago(m: re.Match, fetched_at: datetime) -> date:
    n = m.group("n").lower()
    count = 1 if n in ("a", "an", "one") else int(n)
    unit = m.group("unit").lower()
    delta = {"m": timedelta(minutes=count), "h": timedelta(hours=count), "d": timedelta(days=count),
             "w": timedelta(weeks=count)}[unit[0]]
    return (fetched_at - delta).date()
