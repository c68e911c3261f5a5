"""A sentence that says when relative to now ("this week", "yesterday") is confirmed only by a recent passage.

"The strike ended this week" is stated word for word by a story from years ago, and was true that week; asked
today (or as of a question's day), it is not. So a passage confirms such a sentence only when it was published
within the phrase's reach of the day the question is asked about: two days for today / tonight / yesterday / last
night, nine for last (this, this past) Saturday or another weekday, fourteen for this or last week (or weekend), 62
for this or last month, the same year for "this year", and for "the past five days" or "the last two weeks" that
many days, weeks or months and a little more. Otherwise
the sentence is left unconfirmed (rule "dated"), not contradicted: it may be true, the passages do not show it.
A passage without a date, or a sentence without such a phrase, is not judged here, nor is a phrase inside
quotation marks (the speaker's "this week" is the week they spoke).

A recent passage may still tell of another year: "1985 — The Kansas City Royals … won the World Series" in a
2023 "this day in history" column, "In 2019, the city …". A statement that opens with an earlier year does not
confirm "this week" either (a year mentioned inside a sentence, "the longest since 1994", does not count).
"""

from __future__ import annotations

import re
from datetime import date

from rag.nlp.calendar import WEEKDAYS
from rag.nlp.dates import RECENT_WORDS, published_day, without_day_names
from rag.nlp.numbers import NUMBER_WORDS

__all__ = ["relative_reach", "question_reach", "sources_before_reach", "too_old", "within", "told_of_another_year",
           "RECENT_REACH"]

# (pattern, days the phrase reaches back; None: the same calendar year)
_PHRASES: list[tuple[re.Pattern[str], int | None]] = [
    (re.compile(r"\b(?:today|tonight|yesterday|this (?:morning|afternoon|evening))\b", re.I), 2),
    (re.compile(r"\blast night\b", re.I), 2),
    # "last Saturday", "this past Monday": at most a week back, and a day or two for the story to be written (not
    # "the last Saturday of October", a day of the calendar)
    (re.compile(rf"(?<!the )\b(?:last|this past|this) (?:{'|'.join(WEEKDAYS)})\b(?!\s+(?:of|in)\b)", re.I), 9),
    (re.compile(r"\b(?:this|last|past) (?:week|weekend)\b|\bearlier this week\b", re.I), 14),
    (re.compile(r"\b(?:this|last|past) month\b|\bearlier this month\b", re.I), 62),
    (re.compile(r"\b(?:this|earlier this) year\b", re.I), None),
]


# "in the past five days", "over the last two weeks", "the previous few months": N of them, and a little more
# (not "the last three days of the fair": a stretch of something else)
_COUNTED = re.compile(r"\b(?:past|last|previous)\s+(\d{1,3}|a few|few|several|two|three|four|five|six|seven|eight|"
                      r"nine|ten|eleven|twelve)\s+(day|week|month)s\b(?!\s+of\b)", re.I)
_VAGUE = {"a few": 5, "few": 5, "several": 5}  # the number words are rag.nlp.numbers' own
_UNIT_DAYS = {"day": 1, "week": 7, "month": 31}

_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")


def relative_reach(sentence: str) -> tuple[str, int | None] | None:
    """(the phrase, how many days back it reaches, None for "this year") of the first relative-time phrase
    outside quotation marks and names ("USA TODAY reported …" says no day)."""
    sentence = without_day_names(_QUOTED.sub(" ", sentence))
    found = [(m.start(), m.group(0), days) for pattern, days in _PHRASES if (m := pattern.search(sentence))]
    for m in _COUNTED.finditer(sentence):
        word = m.group(1).lower()
        n = int(word) if word.isdigit() else _VAGUE.get(word) or int(NUMBER_WORDS[word])
        unit = _UNIT_DAYS[m.group(2).lower()]
        found.append((m.start(), m.group(0), n * unit + max(2, unit)))  # "past five days": 7 days back
    if not found:
        return None
    _, phrase, days = min(found)
    return phrase, days


RECENT_REACH = 14  # days: "now", "latest", "currently" ask for this week's coverage, as "this week" does


def question_reach(question: str) -> tuple[str, int | None] | None:
    """(the phrase, the days it reaches back) of a question that says when relative to the day asked ("this
    week", "the past five days"), or asks for the newest ("now", "latest": RECENT_REACH days); None otherwise."""
    reach = relative_reach(question)
    if reach is not None:
        return reach
    m = RECENT_WORDS.search(without_day_names(_QUOTED.sub(" ", question)))
    return (m.group(0), RECENT_REACH) if m else None


def sources_before_reach(question: str, published: list[str | None], today: date | None
                         ) -> tuple[str, str] | None:
    """(the question's phrase, the newest of `published`) when the question asks about a time relative to
    `today` ("this week", "latest") and every source the answer relies on is dated and older than that reach:
    the answer may tell of an earlier event ("Which automaker recalled vehicles this week?" answered from a
    recall of years ago). None when any source is undated or recent enough, or the question names no such time."""
    reach = question_reach(question) if today is not None and published else None
    if reach is None:
        return None
    days = [published_day(p) for p in published]
    if any(d is None or within(d, today, reach[1]) for d in days):
        return None
    return reach[0], max(days).isoformat()


def too_old(sentence: str, published_at: str | None, today: date | None) -> str | None:
    """Why a passage published on `published_at` cannot confirm `sentence` asked about `today` (None: it can)."""
    if today is None:
        return None
    reach = relative_reach(sentence)
    day = published_day(published_at)
    if reach is None or day is None:
        return None
    phrase, days = reach
    if within(day, today, days):
        return None
    return f"“{phrase}”, but the passage is from {day.isoformat()}, {_age(today, day)}"


def within(day: date, today: date, days: int | None) -> bool:
    """Whether `day` lies within `days` before `today` (None: in the same calendar year), as a reach counts."""
    return day.year == today.year if days is None else (today - day).days <= days


_YEAR_FIRST = re.compile(r"(?:^|(?<=[.!?…]\s)|\n)\s*(?:(?:In|By|On [A-Z][a-z]+\.? \d{1,2},)\s+)?((?:1[6-9]|20)\d\d)\b"
                         r"\s*(?:[—–:-]|,)")


def told_of_another_year(sentence: str, window: str, today: date | None) -> str | None:
    """Why a passage window that opens with an earlier year ("1985 — …", "In 2019, …") cannot confirm a
    relative-time `sentence` asked about `today` (None: it can)."""
    if today is None:
        return None
    reach = relative_reach(sentence)
    if reach is None:
        return None
    if relative_reach(window) is not None:
        return None  # "In 2019 the city began the bridge, which opened this week": the window speaks of now too
    years = [int(m.group(1)) for m in _YEAR_FIRST.finditer(window)]
    if not years or max(years) >= today.year - (1 if reach[1] is not None and today.month == 1 else 0):
        return None
    return f"“{reach[0]}”, but the passage tells of {max(years)}"


def _age(today: date, day: date) -> str:
    gap = (today - day).days
    if gap < 0:
        return "after the day asked about"
    if gap < 60:
        return f"{gap} days before {today.isoformat()}"
    months = round(gap / 30.4)
    return f"{months} months before {today.isoformat()}" if months < 24 else \
        f"{gap // 365} years before {today.isoformat()}"
