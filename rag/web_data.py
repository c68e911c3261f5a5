"""Data for the web chat's side tabs: example questions, the coverage table and chart, pasted URL lists.

Plain functions of the catalog (no gradio import); pandas is imported only where a DataFrame is built.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import quote, urlparse

from .catalog import ArticleRow, Catalog
from .text import SPEECH_VERB

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
    "undated_note",
    "table_note",
    "parse_urls",
]

SEED_QUESTION = "What did Kardashian say about Balenciaga?"
TABLE_COLUMNS = ["Title", "Outlet", "Date", "Link"]
BAD_URL = "not an http(s) URL: paste article or feed URLs, one per line (upload files with the file box)"

_SPEAKER = re.compile(rf"\b((?:[A-Z][a-z’'\-]+)(?:\s+[A-Z][a-z’'\-]+){{0,2}})\s+(?:{SPEECH_VERB})\b")
_SPEAKER_AFTER = re.compile(
    rf"\b(?:{SPEECH_VERB})\s+(?:[a-z]+\s+){{0,2}}((?:[A-Z][a-z’'\-]+)(?:\s+[A-Z][a-z’'\-]+){{1,2}})")
_NOT_NAMES = {"The", "He", "She", "It", "They", "We", "I", "This", "That", "A", "An", "In", "On", "Police",
              "Officials", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Reuters",
              "Also", "But", "And", "Later", "Then", "Source", "Sources", "Spokesperson", "Company"}
_TITLE_STOP = {"the", "a", "an", "of", "on", "in", "for", "to", "and", "with", "after", "as", "at", "by", "is",
               "are", "was", "were", "be", "its", "his", "her", "their", "from", "over", "says", "said"}


def _mid_sentence(word: str, text: str) -> bool:
    """The word is capitalised somewhere other than a sentence start: a name, not "Organisers said"."""
    for m in re.finditer(rf"\b{re.escape(word)}\b", text):
        before = text[:m.start()].rstrip(" \t")
        if before and before[-1] not in '.!?"“”\n:':
            return True
    return False


def _speaker(text: str) -> str | None:
    """The surname most often next to a speech verb ("Kardashian tweeted", "said organiser Felix Grant")."""
    text = text[:20000]
    counts: Counter[str] = Counter()
    names = [m.group(1) for m in _SPEAKER.finditer(text)] + [m.group(1) for m in _SPEAKER_AFTER.finditer(text)]
    for name in names:
        words = [w for w in name.split() if w not in _NOT_NAMES]
        if words and _mid_sentence(words[-1], text):
            counts[words[-1]] += 1
    return counts.most_common(1)[0][0] if counts else None


def _questions_for(row: ArticleRow) -> list[str]:
    """A who-said-what question when the article quotes someone, and a question about its title."""
    a = row.article
    title = re.sub(r"\s+", " ", a.title or "").strip(" .?!:")
    if not title or title == "(untitled)":
        return []
    out: list[str] = []
    who = _speaker(a.text)
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


def example_questions(catalog: Catalog, *, limit: int = 4, extra: Sequence[str] | None = None) -> list[str]:
    """Questions to try: `extra` first, then the seed question whenever the sample article is ingested, then
    questions drawn from the ingested articles (speakers and titles), newest first."""
    out: list[str] = [q for q in (extra or []) if q and q.strip()]
    if catalog.mentions_all("kardashian", "balenciaga"):
        out.append(SEED_QUESTION)
    for r in catalog.articles(include_duplicates=False, limit=4 * limit):  # newest first; a few give enough
        if len(dict.fromkeys(out)) >= limit:
            break
        out.extend(_questions_for(r)[:2])
    return list(dict.fromkeys(out))[:max(limit, len(extra or []))]


def _link(url: str | None) -> str:
    if not url:
        return ""
    host = urlparse(url).netloc.lower().removeprefix("www.") or "link"
    safe = quote(url, safe=":/?#[]@!$&'*+,;=%~.-_")
    safe = safe.replace("(", "%28").replace(")", "%29").replace("[", "%5B").replace("]", "%5D")
    host = re.sub(r"([\\`*_\[\]()<>])", r"\\\1", host)
    return f"[{host} ↗]({safe})"


def coverage_rows(catalog: Catalog) -> list[dict[str, Any]]:
    """One dict per distinct ingested article: title, outlet, date, url (newest first)."""
    return [{"title": r["title"], "outlet": r["source"], "date": r["published_at"], "url": r["url"]}
            for r in catalog.listing()]


def filter_rows(rows: Sequence[dict[str, Any]], query: str | None) -> list[dict[str, Any]]:
    """Rows whose title, outlet, date or url contain every word of the query (case-insensitive)."""
    words = (query or "").lower().split()
    if not words:
        return list(rows)
    out = []
    for r in rows:
        hay = " ".join(str(r.get(k) or "") for k in ("title", "outlet", "date", "url")).lower()
        if all(w in hay for w in words):
            out.append(r)
    return out


def table_frame(rows: Sequence[dict[str, Any]]) -> "pd.DataFrame":
    """The coverage table (Title, Outlet, Date, Link as Markdown)."""
    import pandas as pd

    data = [[r["title"], r["outlet"] or "unknown", r["date"] or "undated", _link(r["url"])] for r in rows]
    return pd.DataFrame(data, columns=TABLE_COLUMNS)


def chart_frame(rows: Sequence[dict[str, Any]]) -> "pd.DataFrame":
    """Articles per day by outlet (dated articles only): columns day, outlet, articles."""
    import pandas as pd

    counts = Counter((r["date"][:10], r["outlet"] or "unknown") for r in rows if r.get("date"))
    data = sorted(([d, o, n] for (d, o), n in counts.items()), key=lambda x: (x[0], x[1]))
    return pd.DataFrame(data, columns=["day", "outlet", "articles"]).astype({"articles": "int64"})


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
