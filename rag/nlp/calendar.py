"""The one month and weekday table: full names, the AP abbreviations ("Jan.", "Sept."), numbers, and the regex
forms that ingest's datelines, the question's date words, the sentence splitter, the claim check and the
conflict finder all read dates with."""

from __future__ import annotations

__all__ = ["MONTH_NAMES", "WEEKDAYS", "MONTH_ABBREVIATIONS", "MONTH_NUMBER", "MONTHS", "WEEKDAY_NAMES",
           "MONTH_PATTERN", "WEEKDAY_PATTERN", "month_number", "calendar_days"]

import re

MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# AP style and the short forms writers use: "Jan.", "Feb.", "Aug.", "Sept." (and "Sep."), "Oct.", "Nov.", "Dec.".
MONTH_ABBREVIATIONS = {"jan": "january", "feb": "february", "mar": "march", "apr": "april", "jun": "june",
                       "jul": "july", "aug": "august", "sep": "september", "sept": "september", "oct": "october",
                       "nov": "november", "dec": "december"}
MONTH_NUMBER = {name: i for i, name in enumerate(MONTH_NAMES, start=1)}
MONTH_NUMBER.update({short: MONTH_NUMBER[full] for short, full in MONTH_ABBREVIATIONS.items()})
MONTH_NUMBER["may"] = 5
MONTHS = frozenset(name.capitalize() for name in MONTH_NAMES)  # as a name list reads them: "January" ...
WEEKDAY_NAMES = frozenset(day.capitalize() for day in WEEKDAYS)
# Any written form of a month (case-insensitive use): "jan", "january", "sep", "sept", "september", "may" ...
MONTH_PATTERN = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
                 r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# Any written form of a weekday: "mon", "tues", "wednesday", "thurs" ...
WEEKDAY_PATTERN = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"


def month_number(word: str) -> int | None:
    """1-12 for a month's name or abbreviation in any case, with or without its full stop; None otherwise."""
    return MONTH_NUMBER.get(word.strip().rstrip(".").lower())


_MONTH_DAY = re.compile(rf"\b({MONTH_PATTERN})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![.:]\d|\s*(?:%|percent))", re.I)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_PATTERN})\b\.?", re.I)
_ISO_DAY = re.compile(r"\b(?:19|20)\d\d-(\d\d)-(\d\d)\b")


def calendar_days(text: str) -> list[tuple[int, int, int, int]]:
    """(month, day, start, end) for each day of the calendar a text names: "Oct. 7", "October 7th", "7 October",
    "2023-10-07". A month counts only capitalised ("may 5" is a verb and a number)."""
    out = []
    for m in _MONTH_DAY.finditer(text):
        if text[m.start()].isupper() and 1 <= int(m.group(2)) <= 31:
            out.append((month_number(m.group(1)), int(m.group(2)), m.start(), m.end()))
    for m in _DAY_MONTH.finditer(text):
        if text[m.start(2)].isupper() and 1 <= int(m.group(1)) <= 31 and m.group(2).lower() != "may":
            out.append((month_number(m.group(2)), int(m.group(1)), m.start(), m.end()))
    for m in _ISO_DAY.finditer(text):
        if 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31:
            out.append((int(m.group(1)), int(m.group(2)), m.start(), m.end()))
    return sorted(out, key=lambda d: d[2])
