"""Data for the web chat's side tabs: example questions, the coverage table and chart, pasted URL lists.

Plain functions of the catalog (no gradio import); pandas is imported only where a DataFrame is built.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import quote, urlparse

from rag.attribution.quotes import NOT_SPEAKERS
from rag.core.links import safe_url
from rag.core.schema import Quote
from rag.index import ArticleRow, Index

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "SEED_QUESTION",
    "TABLE_COLUMNS",
    "example_questions",
    "coverage_rows",
    "filter_rows",
    "table_frame",
    "chart_frame",
    "chart_bucket",
    "day_counts",
    "chart_top",
    "undated_note",
    "table_note",
    "parse_urls",
    "pasted_record",
    "describe_row",
    "PASTED_PREFIX",
]

SEED_QUESTION = "What did Kardashian say about Balenciaga?"
TABLE_COLUMNS = ["Title", "Outlet", "Date", "Link"]
BAD_URL = "not an http(s) URL: paste article or feed URLs, one per line (upload files with the file box)"

_TITLE_STOP = {"the", "a", "an", "of", "on", "in", "for", "to", "and", "with", "after", "as", "at", "by", "is",
               "are", "was", "were", "be", "its", "his", "her", "their", "from", "over", "says", "said"}


def _speaker(quotes: Sequence[Quote]) -> str | None:
    """The surname an article's quote index credits with the most quotes and statements ("Kardashian")."""
    counts = Counter(q.speaker.split()[-1] for q in quotes if q.speaker and q.speaker.split()[-1] not in NOT_SPEAKERS)
    return counts.most_common(1)[0][0] if counts else None


def _questions_for(row: ArticleRow, catalog: Index) -> list[str]:
    """A who-said-what question when the article quotes someone, and a question about its title."""
    a = row.article
    title = re.sub(r"\s+", " ", a.title or "").strip(" .?!:")
    if not title or title == "(untitled)":
        return []
    out: list[str] = []
    who = _speaker(catalog.quotes(a.id))
    if who:
        given = {m.lower() for m in re.findall(rf"\b([A-Z][a-z]+)\s+{re.escape(who)}\b", a.text)}  # "Kim"
        topic = [w for w in re.findall(r"[A-Z][\w’'\-]+", title)
                 if w.lower() not in _TITLE_STOP | given and w.lower() != who.lower()]
        if topic:
            out.append(f"What did {who} say about {' '.join(topic[:2])}?")
    if len(title) > 90:
        title = title[:90].rsplit(" ", 1)[0]
    out.append(f"What does the coverage say about “{title}”?")
    return out


def example_questions(catalog: Index, *, limit: int = 4, extra: Sequence[str] | None = None) -> list[str]:
    """Questions to try: `extra` first, then the seed question whenever the sample article is ingested, then
    questions drawn from the ingested articles (speakers and titles), newest first."""
    out: list[str] = [q for q in (extra or []) if q and q.strip()]
    if catalog.mentions_all("kardashian", "balenciaga"):
        out.append(SEED_QUESTION)
    for r in catalog.articles(include_duplicates=False, limit=4 * limit):  # newest first; a few give enough
        if len(dict.fromkeys(out)) >= limit:
            break
        out.extend(_questions_for(r, catalog)[:2])
    return list(dict.fromkeys(out))[:max(limit, len(extra or []))]


_MD_TEXT = re.compile(r"([\\`*_{}\[\]()#+!|~<>&$])")


def md_text(text: object) -> str:
    """Text a Markdown cell shows literally: HTML and Markdown punctuation backslash-escaped."""
    return _MD_TEXT.sub(r"\\\1", "" if text is None else str(text))


def _link(url: str | None) -> str:
    """A Markdown link for an http(s) URL; any other URL (javascript:, data:) as escaped plain text."""
    if not url:
        return ""
    href = safe_url(url)
    if href is None:
        return md_text(url[:80])
    host = urlparse(href).netloc.lower().removeprefix("www.") or "link"
    safe = quote(href, safe=":/?#[]@!$&'*+,;=%~.-_")
    safe = safe.replace("(", "%28").replace(")", "%29").replace("[", "%5B").replace("]", "%5D")
    return f"[{md_text(host)} ↗]({safe})"


def _file_name(origin: str | None) -> str:
    """What a row without a URL came from, as the user knows it: the file's name (an upload's temporary folder
    dropped), with a record's place inside it ("records.jsonl:3")."""
    origin = (origin or "").strip()
    if not origin or re.match(r"https?://", origin, re.IGNORECASE):
        return origin
    name = re.split(r"[\\/]", origin.rstrip("/\\"))[-1]
    return "pasted text" if name.startswith(PASTED_PREFIX) and name.endswith(".json") else name


def coverage_rows(catalog: Index) -> list[dict[str, Any]]:
    """One dict per distinct ingested article: id, title, outlet, date, url, file (newest first)."""
    return [{"id": r.get("id") or "", "title": r["title"], "outlet": r["source"], "date": r["published_at"],
             "url": r["url"], "file": "" if r["url"] else _file_name(r.get("origin"))} for r in catalog.listing()]


def describe_row(row: dict[str, Any] | None) -> str:
    """The line under the coverage table naming the selected article, and what can be done with it."""
    if not row:
        return "Select an article in the table to remove it or fetch it again."
    where = ", ".join(str(x) for x in (row.get("outlet"), row.get("date")) if x) or "no outlet or date"
    line = f"Selected: **{md_text(row.get('title') or '(untitled)')}** ({md_text(where)})"
    if not row.get("url"):
        line += " — no URL, so it cannot be fetched again (upload its file again instead)"
    return line


PASTED_PREFIX = "pasted-"  # pasted articles are ingested from a file of this name, removed once read


def pasted_record(title: str | None, outlet: str | None, day: str | None, url: str | None, text: str | None, *,
                  max_chars: int) -> dict[str, str]:
    """A pasted article as a JSON record for the ingest, or InputError saying which field to fix. Its id comes
    from its text, so pasting the same text again with a corrected title or date updates the article."""
    import hashlib

    from rag.core.errors import InputError

    body = (text or "").strip()
    if len(body.split()) < 5:
        raise InputError("Paste the article's text (at least a sentence) in the Text box.")
    if len(body) > max_chars:
        raise InputError(f"The pasted text is {len(body):,} characters; the limit is {max_chars:,} "
                         "(NEWSRAG_MAX_INPUT_BYTES). Upload it as a file, or paste a shorter article.")
    record = {"id": PASTED_PREFIX + hashlib.sha256(body.encode("utf-8")).hexdigest()[:16], "body": body}
    title, outlet, day, url = ((v or "").strip() for v in (title, outlet, day, url))
    if title:
        record["title"] = title[:300]
    if outlet:
        record["source"] = outlet[:200]
    if day:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise InputError(f"Date {day[:40]!r} is not a day: use YYYY-MM-DD (e.g. 2026-05-12), or leave it "
                             "empty.") from None
        record["published_at"] = day
    if url:
        if safe_url(url) is None or not re.match(r"https?://[^\s/]+", url, re.IGNORECASE):
            raise InputError("URL must be an http(s) address (or leave it empty): it is only shown as the "
                             "article's link, nothing is fetched.")
        record["url"] = url
    return record


def filter_rows(rows: Sequence[dict[str, Any]], query: str | None) -> list[dict[str, Any]]:
    """Rows whose title, outlet, date, url or file name contain every word of the query (case-insensitive)."""
    words = (query or "").lower().split()
    if not words:
        return list(rows)
    out = []
    for r in rows:
        hay = " ".join(str(r.get(k) or "") for k in ("title", "outlet", "date", "url", "file")).lower()
        if all(w in hay for w in words):
            out.append(r)
    return out


def table_frame(rows: Sequence[dict[str, Any]]) -> "pd.DataFrame":
    """The coverage table (Title, Outlet, Date, Link as Markdown: the article's link, else the file it came from)."""
    import pandas as pd

    data = [[str(r["title"] or ""), str(r["outlet"] or "unknown"), str(r["date"] or "undated"),
             _link(r["url"]) or md_text(r.get("file") or "")] for r in rows]
    return pd.DataFrame(data, columns=TABLE_COLUMNS)


# Bars per day for a short span, per week or month for longer ones: a day's bar over years is a hairline.
_BUCKETS = ((62, "day"), (730, "week"), (10**9, "month"))


def chart_bucket(rows: Sequence[dict[str, Any]]) -> str:
    """'day', 'week' or 'month': the bar width that suits the span of the rows' dates."""
    days = sorted({str(r["date"])[:10] for r in rows if _day(r.get("date"))})
    if len(days) < 2:
        return "day"
    span = (_day(days[-1]) - _day(days[0])).days
    return next(name for limit, name in _BUCKETS if span <= limit)


def _day(text: Any) -> "date | None":
    try:
        return date.fromisoformat(str(text or "")[:10])
    except ValueError:
        return None


def _bucket_start(d: "date", bucket: str) -> "date":
    if bucket == "week":
        return d - timedelta(days=d.weekday())
    if bucket == "month":
        return d.replace(day=1)
    return d


def chart_frame(rows: Sequence[dict[str, Any]], bucket: str | None = None) -> "pd.DataFrame":
    """Articles per day (or week, or month: `chart_bucket`) by outlet, dated articles only: columns day (a
    datetime, so the chart's axis is a time axis), outlet, articles (an integer count)."""
    import pandas as pd

    data = [[d, o, n] for d, o, n in day_counts(rows, bucket or chart_bucket(rows))]
    frame = pd.DataFrame(data, columns=["day", "outlet", "articles"]).astype({"articles": "int64"})
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def day_counts(rows: Sequence[dict[str, Any]], bucket: str = "day") -> list[tuple[date, str, int]]:
    """(first day of the bucket, outlet, articles) for the dated rows, by day then outlet; undated rows are left
    out. `bucket`: "day", "week" (from Monday) or "month"."""
    counts: Counter[tuple[date, str]] = Counter()
    for r in rows:
        d = _day(r.get("date"))
        if d is not None:
            counts[(_bucket_start(d, bucket), r.get("outlet") or "unknown")] += 1
    return sorted(((d, o, n) for (d, o), n in counts.items()), key=lambda x: (x[0], x[1]))


def chart_top(frame: "pd.DataFrame") -> int:
    """The y-axis top: the tallest stacked bar, at least 5, so the axis ticks whole numbers (0, 1, 2, ...),
    never 0.2, 0.4 for a count of one."""
    if frame.empty:
        return 5
    return max(5, int(frame.groupby("day")["articles"].sum().max()))


def table_note(found: int, total: int, limit: int) -> str:
    """'7 articles' / '3 of 7 articles match' / 'showing the newest 500 of 1,234 matches: search to narrow'."""
    if found > limit:
        return f"Showing the newest {limit:,} of {found:,} matching articles: search to narrow."
    if found == total:
        return f"{total:,} article{'s' if total != 1 else ''}"
    return f"{found:,} of {total:,} articles match"


def undated_note(rows: Sequence[dict[str, Any]]) -> str:
    """A caption saying how many articles are undated (and so not in the chart)."""
    n = sum(1 for r in rows if not r.get("date"))
    total = len(rows)
    if not total:
        return "No articles yet: add coverage in the “Add coverage” tab."
    if not n:
        return f"All {total} articles are dated."
    return (f"{n} of {total} article{'s' if total != 1 else ''} {'is' if n == 1 else 'are'} undated "
            "and not in the chart.")


def parse_urls(text: str | None) -> tuple[list[str], list[dict[str, str]]]:
    """Pasted lines -> (http(s) URLs to ingest, failures for the other lines). Blank and # lines are skipped.
    Only URLs are accepted here: a pasted local path must not make the server read its own files."""
    urls: list[str] = []
    bad: list[dict[str, str]] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if re.fullmatch(r"https?://[^\s/]+\S*", line, re.IGNORECASE):
            urls.append(line)
        else:
            bad.append({"origin": line[:200], "reason": BAD_URL})
    return list(dict.fromkeys(urls)), bad
