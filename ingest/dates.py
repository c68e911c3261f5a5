"""Dates from loaders' inputs (ISO strings, RFC 822 feed dates, "2023/09/30", "Sep 28, 2023") -> ISO 8601,
and the date a URL's path carries ("/2023/09/25/", "/20230925/")."""

from __future__ import annotations

import email.utils
import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

__all__ = ["iso_date", "date_from_url", "now_iso"]


_ISO_RE = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T _/]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?$",
    re.IGNORECASE,
)
_TEXT_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%Y%m%d")


def iso_date(value: Any) -> str | None:
    """Normalise a date to `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS+HH:MM` when the input carries a time.

    Accepts ISO 8601 strings, RFC 822 feed dates, `2023/09/30` (and `2023/09/30/07:17`) forms, a few
    spelled-out forms ("Sep 28, 2023"), datetime/date objects and time.struct_time. Naive times are taken
    as UTC. Returns None for anything it cannot read.
    """
    if value is None:
        return None
    if isinstance(value, time.struct_time):
        return _fmt_dt(datetime(*value[:6], tzinfo=timezone.utc))
    if isinstance(value, datetime):
        return _fmt_dt(value)
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.split())
    match = _ISO_RE.match(text)
    if match:
        y, mo, d, hh, mm, ss, tz = match.groups()
        try:
            if hh is None:
                return date(int(y), int(mo), int(d)).isoformat()
            zone = timezone.utc
            if tz and tz.upper() not in ("Z", "UTC", "GMT"):
                sign = 1 if tz[0] == "+" else -1
                digits = tz[1:].replace(":", "")
                zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
            return _fmt_dt(datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0), tzinfo=zone))
        except ValueError:
            return None
    try:
        return _fmt_dt(email.utils.parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _TEXT_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


# A date in a URL path: /2023/09/25/ or /2023-09-25/ or /20230925/, each part between slashes (or a
# slug that starts with it: /2023/09/25-story/). A year with a month but no day (/2023/09/) is not a day.
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?=[/_.-]|$)|/((?:19|20)\d{2})(\d{2})(\d{2})(?=/)")


def date_from_url(url: str | None) -> str | None:
    """The publication day a URL's path states, as `YYYY-MM-DD`, or None (query strings are not read)."""
    if not url:
        return None
    path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]*", "", url.strip(), flags=re.IGNORECASE).split("?", 1)[0]
    for match in _URL_DATE.finditer(path):
        y, mo, d = (match.group(1), match.group(2), match.group(3)) if match.group(1) else match.groups()[3:]
        try:
            return date(int(y), int(mo), int(d)).isoformat()
        except ValueError:
            continue
    return None


def now_iso() -> str:
    """The current UTC time in ISO 8601 (a page's fetch time: "2 days ago" counts back from it)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _fmt_dt(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.replace(microsecond=0).isoformat()
