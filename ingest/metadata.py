"""An article's date, outlet and author, each from the most trusted evidence that gives one.

Dates, in order of trust: the input's own field ("record"), the page's HTML metadata ("metadata") or its
feed entry ("feed"), the URL path ("url"), a dateline or an editor's note in the text ("text"), a relative
dateline counted back from the fetch time ("relative"). No evidence: undated (no date beats a wrong one).

Outlet: the input's own field (or the page's declared site name, or the feed's title: the loaders put those
in RawArticle.source), then the byline's outlet, then the URL's host. A "Source: X" credit stays apart as
credited_source: the outlet the article credits is not the one that published it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from rag.core.schema import RawArticle

from .cleaning import Cleaned
from .datelines import stated_original_date
from .dates import date_from_url, iso_date

__all__ = ["Provenance", "describe"]

_NOTE_CHARS = 600  # an editor's note stating the first-run date sits at the very top


@dataclass(frozen=True)
class Provenance:
    published_at: str | None  # YYYY-MM-DD
    updated_at: str | None
    date_source: str | None
    source: str | None
    author: str | None
    credited_source: str | None


def describe(raw: RawArticle, cleaned: Cleaned) -> Provenance:
    """Date, outlet and author of one article from its loaded record and its cleaned head lines."""
    head = cleaned.head
    published, date_source = _day(raw.published_at), raw.date_source or "record"
    if published is None:
        published, date_source = date_from_url(raw.url), "url"
    if published is None:
        published = head.published_at
        date_source = "relative" if head.relative else "text"
    if published is None:
        published, date_source = stated_original_date(cleaned.text[:_NOTE_CHARS]), "text"
    updated = _day(raw.updated_at) or head.updated_at
    if published and updated and updated < published:
        updated = None  # an "update" before the publication day is a misread, not an update
    return Provenance(
        published_at=published, updated_at=updated if updated != published else None,
        date_source=date_source if published else None,
        source=raw.source or head.outlet or _host(raw.url), author=raw.author or head.author,
        credited_source=cleaned.credited_source,
    )


def _day(value: str | None) -> str | None:
    day = iso_date(value)
    return day[:10] if day else None


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlparse(url).netloc.lower().split("@")[-1].split(":")[0]
    except ValueError:  # a bracketed host Python will not split ("[::ffff:127.1]"): no outlet from it
        return None
    return (host[4:] if host.startswith("www.") else host) or None
