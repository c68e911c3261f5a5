"""RSS/Atom feeds -> one RawArticle per entry, each entry's page fetched concurrently (a bounded pool).

An entry whose page cannot be fetched (a timeout, a refused address, a network error) fails with that reason:
its summary is not stored as if the page had been read, and the next run tries again. An entry whose page
answers with an HTTP error or holds no article falls back to the feed's own text, reported as a warning.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

from rag.core.schema import LoadFailure, RawArticle

from .dates import iso_date, now_iso
from .decoding import LoadWarning, charset_of, decode
from .fetching import FetchError, fetch_all
from .html_pages import declared_site as _declared_site
from .html_pages import extract_page, flat_text

__all__ = ["looks_like_feed", "load_feed", "html_to_text"]

Fetch = Callable[[str], tuple[bytes, str]]
Item = RawArticle | LoadFailure | LoadWarning


def looks_like_feed(text: str) -> bool:
    head = text[:4096].lstrip("\ufeff \t\r\n")
    return head.startswith("<") and bool(re.search(r"<(rss|feed|rdf:RDF)[\s>]", head))


def html_to_text(fragment: str) -> str:
    """A feed title, summary or content as text: hidden elements, scripts and styles dropped, paragraphs kept."""
    if "<" not in fragment and "&" not in fragment:
        return "\n\n".join(p for p in (" ".join(p.split()) for p in re.split(r"\n\s*\n", fragment)) if p)
    return flat_text(fragment)


def _opt(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _is_url(link: str) -> bool:
    return bool(re.match(r"^https?://", link.strip(), re.IGNORECASE))


def load_feed(text: str, origin: str, fetch: Fetch, concurrency: int,
              looks_like_html: Callable[[str], bool]) -> Iterator[Item]:
    import feedparser

    # The text is already decoded: re-encode as UTF-8 and say so, or feedparser would trust the old declaration.
    xml = re.sub(r"^(\s*<\?xml[^>]*?encoding=)[\"'][^\"']*[\"']", r'\1"utf-8"', text, count=1)
    # Unsanitised: feedparser's sanitiser drops the `hidden` and `aria-hidden` attributes, which would show
    # hidden text; html_to_text drops hidden elements, scripts and styles itself.
    parsed = feedparser.parse(io.BytesIO(xml.encode("utf-8")), sanitize_html=False)
    if not parsed.get("version"):
        yield LoadFailure(origin, "not a feed or article: no RSS/Atom feed or article text found; check the file "
                                  "or URL")
        return
    if not parsed.entries:
        yield LoadFailure(origin, "empty feed: it lists no entries; check the feed address")
        return
    feed_title = _opt(html_to_text(parsed.feed.get("title") or ""))
    entries = list(parsed.entries)
    links = [_opt(e.get("link")) for e in entries]
    wanted = [link for link in links if link and _is_url(link)]

    def page(link: str) -> tuple[str, Any, str | None] | None:
        body, content_type = fetch(link)
        page_text = decode(body, charset_of(content_type))
        if "html" in content_type.lower() or looks_like_html(page_text):
            return extract_page(page_text, link)
        return None

    pages = dict(zip(wanted, fetch_all(page, wanted, concurrency), strict=True))
    for number, (entry, link) in enumerate(zip(entries, links, strict=True), 1):
        yield from _entry(entry, number, feed_title, origin, link, pages.get(link) if link else None)


def _entry(entry: Any, number: int, feed_title: str | None, origin: str, link: str | None,
           page: object) -> Iterator[Item]:
    title = _opt(html_to_text(entry.get("title") or ""))
    published = iso_date(entry.get("published") or entry.get("updated")) or iso_date(
        entry.get("published_parsed") or entry.get("updated_parsed"))
    author = _opt(entry.get("author"))
    if author:  # RSS "desk@site.example (Name)" -> "Name"
        author = re.sub(r"^[^\s@()]+@[^\s()]+\s*\((.+)\)$", r"\1", author).strip()
    record_id = _opt(entry.get("id"))
    contents = [c.get("value", "") for c in entry.get("content") or []]
    body = html_to_text("\n\n".join(contents)) or html_to_text(entry.get("summary") or "")
    if isinstance(page, Exception) and not (isinstance(page, FetchError) and page.status is not None):
        reason = str(page) if isinstance(page, FetchError) else f"could not read ({type(page).__name__}: {page})"
        yield LoadFailure(link or origin, f"feed entry {number}: its page was not read: {reason}")
        return
    # A page that yields less text than the feed itself is a paywall or consent stub: keep the feed's text.
    if isinstance(page, tuple) and len(page[0].split()) >= len(body.split()):
        text, doc, note = page
        if note:
            yield LoadWarning(link or origin, note)
        page_date = iso_date(doc.date)
        yield RawArticle(body=text, origin=link or origin, title=doc.title or title, url=doc.url or link,
                         source=_declared_site(doc) or feed_title, published_at=page_date or published,
                         author=doc.author or author, record_id=record_id,
                         date_source="metadata" if page_date else ("feed" if published else None),
                         fetched_at=now_iso())
        return
    if not body:
        yield LoadFailure(link or origin, f"empty article: feed entry {number} has no text and its page could not "
                                          "be read")
        return
    if isinstance(page, FetchError):
        yield LoadWarning(f"{origin}#{number}", f"stored the feed's own text: its page {link} answered {page}")
    yield RawArticle(body=body, origin=f"{origin}#{number}", title=title, url=link, source=feed_title,
                     published_at=published, author=author, record_id=record_id,
                     date_source="feed" if published else None)

