"""Date words in a question ("last week", "in November 2022", "latest") -> a date range or a recency preference.

Relative words count back from the day the question is asked as of (`as_of`; by default today): "this week"
is the 7 days up to it, "yesterday" the day before it, "this year" the calendar year up to it, "last year" the
calendar year before it and "the past year" the 365 days up to it. A reader of an archive asks "as of March 2024" by
passing that day; the retriever then also leaves out coverage published after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.nlp.calendar import MONTH_NUMBER, MONTH_PATTERN

__all__ = ["DateIntent", "RECENT_WORDS", "parse_dates", "published_day", "to_date", "without_day_names"]

_MONTHS = MONTH_NUMBER

# "today" inside a name is no day: outlets and shows called "… Today" ("USA TODAY found …", "the Today show")
_DAY_NAMES = re.compile(r"\b(?:usa|business|india|russia|psychology)\s+today\b|\btoday\s+(?:show|programme)\b", re.I)

# words that ask for the newest coverage without naming a time ("Who is now…", "the latest…")
RECENT_WORDS = re.compile(r"\b(latest|most recent|newest|recently|current(ly)?|now)\b", re.I)


def without_day_names(text: str) -> str:
    """`text` with names that hold a day word ("USA TODAY", "the Today show") blanked, same length."""
    return _DAY_NAMES.sub(lambda m: " " * len(m.group(0)), text)


_MON = f"({MONTH_PATTERN})"


@dataclass(frozen=True)
class DateIntent:
    since: date | None = None
    until: date | None = None
    recent: bool = False  # "latest", "most recent", "newest": prefer newer articles
    phrase: str = ""


def to_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10].replace("/", "-"))
    except ValueError:
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD") from None


def published_day(published_at: str | None) -> date | None:
    """The day of an ISO publication date or datetime; None when there is none or it is not a date (a passage's
    date is read, not checked: to_date is for what a user types)."""
    try:
        return date.fromisoformat(published_at[:10]) if published_at else None
    except ValueError:
        return None


def _day(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _month_end(y: int, m: int) -> date:
    return (date(y + (m == 12), m % 12 + 1, 1)) - timedelta(days=1)


def parse_dates(question: str, as_of: date | None = None) -> DateIntent:
    """The dates a question's words name, read as of `as_of` (default: today)."""
    q = without_day_names(question).lower()
    anchor = as_of or date.today()
    # A day that does not exist ("February 30, 2024") is text, not a date: the next patterns may still match.
    for m in re.finditer(rf"\b(?:on\s+)?{_MON}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", q):
        d = _day(int(m.group(3)), _MONTHS[m.group(1)[:4] if m.group(1).startswith("sept") else m.group(1)[:3]],
                 int(m.group(2)))
        if d is not None:
            return DateIntent(d, d, phrase=m.group(0))
    m = re.search(rf"\b(?:in\s+)?{_MON}\s+(\d{{4}})\b", q)
    if m:
        mon = _MONTHS[m.group(1)[:3]]
        y = int(m.group(2))
        if 1 <= y <= 9998:  # "March 0000" is not a month
            return DateIntent(date(y, mon, 1), _month_end(y, mon), phrase=m.group(0))
    m = re.search(r"\bin\s+((?:19|20)\d{2})\b", q)
    if m:
        y = int(m.group(1))
        return DateIntent(date(y, 1, 1), date(y, 12, 31), phrase=m.group(0))
    rel = [
        (r"\btoday\b", 0, 0), (r"\byesterday\b", 1, 1), (r"\b(this|past) week\b", 6, 0), (r"\blast week\b", 13, 0),
        (r"\b(this|past) month\b", 31, 0), (r"\blast month\b", 62, 0), (r"\b(past|last) (\d+) days\b", None, 0),
    ]
    for pattern, back, _ in rel:
        m = re.search(pattern, q)
        if m:
            days = int(m.group(2)) if back is None else back
            if days > (anchor - date.min).days:  # "the past 99999999 days": everything there is
                return DateIntent(None, anchor, phrase=m.group(0))
            until = anchor - timedelta(days=1) if pattern == r"\byesterday\b" else anchor
            return DateIntent(anchor - timedelta(days=days), until, phrase=m.group(0))
    # Years: "this year('s)" is the calendar year up to as_of; "the past year" the 365 days up to it; a bare
    # "last year" the calendar year before.
    m = re.search(r"\b(?:the\s+)?(?:past|last)\s+year\b(?!\s+(?:of|in)\b)", q)  # not "the last year of his term"
    if m and (m.group(0).startswith("the") or "past" in m.group(0)):
        return DateIntent(anchor - timedelta(days=365), anchor, phrase=m.group(0))
    if m:
        return DateIntent(date(anchor.year - 1, 1, 1), date(anchor.year - 1, 12, 31), phrase=m.group(0))
    m = re.search(r"\bthis\s+year\b", q)
    if m:
        return DateIntent(date(anchor.year, 1, 1), anchor, phrase=m.group(0))
    if RECENT_WORDS.search(q):
        return DateIntent(recent=True, phrase="latest")
    return DateIntent()
