"""Read news from files, folders, URLs, RSS/Atom feeds and JSON/JSONL into RawArticle records.

Every input that cannot be read becomes a LoadFailure whose reason says what is wrong and what to do;
iter_inputs never raises for bad input, so one broken file never stops a batch.
"""

from __future__ import annotations

import html
import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from rag.schema import LoadFailure, RawArticle
from rag.text import same_text as _same_text

from .dates import iso_date
from .decoding import Unreadable as _Unreadable
from .decoding import charset_of as _charset
from .decoding import decode as _decode

__all__ = ["iter_inputs", "iso_date", "fetch_url", "KNOWN_EXTENSIONS"]

Fetch = Callable[[str, float], tuple[bytes, str]]

KNOWN_EXTENSIONS = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".xml", ".rss", ".atom"})
_FEED_EXTS = {".xml", ".rss", ".atom"}
_HTML_EXTS = {".html", ".htm"}
_MAX_BYTES = 25 * 1024 * 1024
_USER_AGENT = "newsrag/0.1"
_MIN_HTML_WORDS = 8


# ---------------------------------------------------------------- public API


def iter_inputs(
    targets: Iterable[str], *, timeout: float = 15.0, fetch: Callable[[str, float], tuple[bytes, str]] | None = None
) -> Iterator[RawArticle | LoadFailure]:
    """Yield one RawArticle per article found in the targets, or a LoadFailure per input that failed.

    Each target is a file, a folder (read recursively in sorted order, known extensions only, hidden files
    skipped) or an http(s) URL of an article page or an RSS/Atom feed. `fetch(url, timeout)` returns
    `(body_bytes, content_type)` and raises on HTTP errors; it defaults to `fetch_url`.
    """
    fetcher = fetch or fetch_url
    for target in targets:
        target = str(target)
        if _is_url(target):
            yield from _guarded(target, lambda t=target: _load_url(t, timeout, fetcher))
        else:
            yield from _load_path(Path(target).expanduser(), target, timeout, fetcher)


def fetch_url(url: str, timeout: float) -> tuple[bytes, str]:
    """GET `url` with a newsrag User-Agent; return (body, Content-Type). Raises urllib errors on failure."""
    if not _is_url(url):
        raise ValueError("only http and https URLs can be fetched")
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, "Accept": "*/*"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
        body = response.read(_MAX_BYTES + 1)
        if len(body) > _MAX_BYTES:
            raise ValueError(f"response larger than {_MAX_BYTES // (1024 * 1024)} MB")
        return body, response.headers.get("Content-Type", "") or ""


# ---------------------------------------------------------------- files and folders


def _guarded(origin: str, make: Callable[[], Iterator[RawArticle | LoadFailure]]) -> Iterator[RawArticle | LoadFailure]:
    """Run one input's reader; turn whatever it raises into a LoadFailure so the batch goes on."""
    try:
        yield from make()
    except _Unreadable as exc:
        yield LoadFailure(origin, str(exc))
    except Exception as exc:  # a bug or an odd input must not stop the batch; report it instead
        yield LoadFailure(origin, f"could not read ({type(exc).__name__}: {exc}): check the input or report a bug")


def _load_path(path: Path, origin: str, timeout: float, fetch: Fetch) -> Iterator[RawArticle | LoadFailure]:
    if not path.exists():
        yield LoadFailure(origin, "file not found: check the path")
        return
    if path.is_file():
        yield from _guarded(origin, lambda: _load_file(path, origin, timeout, fetch))
        return
    found = False
    for child in sorted(path.rglob("*")):
        rel = child.relative_to(path)
        if any(part.startswith(".") for part in rel.parts) or not child.is_file():
            continue
        if child.suffix.lower() not in KNOWN_EXTENSIONS:
            continue
        found = True
        yield from _guarded(str(child), lambda c=child: _load_file(c, str(c), timeout, fetch))
    if not found:
        kinds = " ".join(sorted(KNOWN_EXTENSIONS))
        yield LoadFailure(origin, f"no articles in folder (looked for {kinds}): check the path")


def _load_file(path: Path, origin: str, timeout: float, fetch: Fetch) -> Iterator[RawArticle | LoadFailure]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Unreadable(f"cannot read file ({exc.strerror or exc}): check its permissions") from exc
    ext = path.suffix.lower()
    if not data.strip():
        raise _Unreadable("empty article: the file is empty")
    text = _decode(data)
    if ext == ".jsonl":
        yield from _jsonl_records(text, origin)
    elif ext == ".json":
        yield from _json_records(text, origin)
    elif ext in _FEED_EXTS or _looks_like_feed(text):
        yield from _load_feed(text, origin, timeout, fetch)
    elif ext in _HTML_EXTS or (ext not in KNOWN_EXTENSIONS and _looks_like_html(text)):
        yield _html_article(text, origin)
    else:
        if ext in (".md", ".markdown"):
            text = _MD_HEADING.sub(r"\1", text)
        yield _text_article(text, origin, fallback_title=_title_from_name(path.stem))


# ---------------------------------------------------------------- URLs


def _is_url(target: str) -> bool:
    return bool(re.match(r"^https?://", target.strip(), re.IGNORECASE))


def _fetch(url: str, timeout: float, fetch: Fetch) -> tuple[bytes, str]:
    """Call the fetcher and translate its errors into reasons a user can act on."""
    timed_out = f"unreachable URL (timed out after {timeout:g}s): check the address or your network"
    try:
        return fetch(url, timeout)
    except urllib.error.HTTPError as exc:
        raise _Unreadable(f"HTTP error {exc.code} ({exc.reason}) from URL: check the address") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _Unreadable(timed_out) from None
        detail = getattr(reason, "strerror", None) or str(reason)
        raise _Unreadable(f"unreachable URL ({str(detail).lower()}): check the address or your network") from exc
    except TimeoutError:  # socket.timeout is TimeoutError
        raise _Unreadable(timed_out) from None
    except Exception as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise _Unreadable(f"unreachable URL ({detail}): check the address or your network") from exc


def _load_url(url: str, timeout: float, fetch: Fetch) -> Iterator[RawArticle | LoadFailure]:
    body, content_type = _fetch(url, timeout, fetch)
    mime = content_type.split(";")[0].strip().lower()
    if mime.split("/")[0] in ("image", "audio", "video") or mime in ("application/pdf", "application/zip"):
        raise _Unreadable(f"not a feed or article: the URL returned {mime}; pass an article page or a feed URL")
    if not body.strip():
        raise _Unreadable("empty article: the URL returned no content")
    text = _decode(body, _charset(content_type))
    if _looks_like_feed(text) or any(k in mime for k in ("rss", "atom")):
        yield from _load_feed(text, url, timeout, fetch)
    elif "html" in mime or _looks_like_html(text):
        yield _html_article(text, url, url=url)
    elif "json" in mime:
        yield from _json_records(text, url)
    elif mime in ("text/plain", "text/markdown", "text/x-markdown", ""):
        article = _text_article(text, url, fallback_title=None)
        article.url = article.url or url
        yield article
    else:
        raise _Unreadable(f"not a feed or article: the URL returned {mime}; pass an article page or a feed URL")


# ---------------------------------------------------------------- text and Markdown

_MD_HEADING = re.compile(r"(?m)^#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$")  # "## Heading ##" -> "Heading"
_FRONT_KEYS = {"title", "source", "url", "date", "published_at", "author", "id"}


def _text_article(text: str, origin: str, *, fallback_title: str | None) -> RawArticle:
    meta, body = _front_matter(text)
    title = meta.get("title")
    if not title:
        title, body = _title_line(body, fallback_title)
    body = body.strip()
    if not body:
        raise _Unreadable("empty article: no text after extraction; the file holds no article body")
    return RawArticle(body=body, origin=origin, title=title or None, url=meta.get("url") or None,
                      source=meta.get("source") or None,
                      published_at=iso_date(meta.get("published_at") or meta.get("date")),
                      author=meta.get("author") or None, record_id=meta.get("id") or None)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split a `---` YAML-ish front matter block (flat `key: value` lines) from the body."""
    lines = text.lstrip("\ufeff").split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, text
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in _FRONT_KEYS:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            meta[key] = value.strip()
    return meta, "\n".join(lines[end + 1:])


def _title_line(body: str, fallback: str | None) -> tuple[str | None, str]:
    """Take the first non-empty line as the title when it reads like a headline, else keep the body whole.

    A first line that is a long sentence (like the seed article's lead paragraph) is body text, not a title:
    the title then falls back to one made from the file name.
    """
    lines = body.split("\n")
    index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if index is None:
        return fallback, ""
    first = lines[index].strip()
    rest = lines[index + 1:]
    if rest and re.fullmatch(r"\s*(=+|-+)\s*", rest[0]):  # a setext heading underline
        rest = rest[1:]
    heading = first.startswith("#")
    title = first.strip("#").strip()
    words = title.split()
    headline = heading or (len(words) <= 20 and len(title) <= 200 and not title.endswith((".", ",", ";", ":")))
    if not headline or not "\n".join(rest).strip() or not title:
        return fallback, body
    return title, "\n".join(rest)


def _title_from_name(stem: str) -> str | None:
    words = re.sub(r"[-_]+", " ", stem).split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or None


# ---------------------------------------------------------------- JSON and JSONL


def _json_records(text: str, origin: str) -> Iterator[RawArticle | LoadFailure]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # several objects, one a line: really JSONL
            yield from _jsonl_records(text, origin)
            return
        raise _Unreadable(f"malformed JSON on line {exc.lineno}: {exc.msg} (column {exc.colno}); fix the file") from exc
    if isinstance(data, dict) and not _body_of(data):
        for key in ("articles", "items", "records", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    if not records:
        raise _Unreadable("empty article: the JSON file holds no records")
    for number, record in enumerate(records, 1):
        yield _record(record, origin, f"record {number}", f"{origin}#{number}" if len(records) > 1 else origin)


def _jsonl_records(text: str, origin: str) -> Iterator[RawArticle | LoadFailure]:
    seen = False
    # Split on "\n" only: str.splitlines would also split on U+2028 and friends inside JSON strings.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        seen = True
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            reason = f"malformed JSON on line {number}: {exc.msg} (column {exc.colno}); fix or remove that line"
            yield LoadFailure(origin, reason)
            continue
        yield _record(record, origin, f"line {number}", f"{origin}:{number}")
    if not seen:
        raise _Unreadable("empty article: the JSONL file holds no records")


def _body_of(record: dict[str, Any]) -> str | None:
    for key in ("body", "text", "content"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _record(record: Any, origin: str, where: str, record_origin: str) -> RawArticle | LoadFailure:
    """One JSON object -> RawArticle; its origin names the record (`file:LINE` for JSONL, `file#N` for a list)."""
    if not isinstance(record, dict):
        kind = type(record).__name__
        return LoadFailure(origin, f"not an article on {where}: expected a JSON object, got {kind}; fix the file")
    body = _body_of(record)
    if body is None:
        return LoadFailure(origin, f"empty article on {where}: no body, text or content field; add the article text")
    author = record.get("author")
    if isinstance(author, list):
        author = ", ".join(str(a) for a in author if a)
    record_id = record.get("id")
    return RawArticle(body=body, origin=record_origin, title=_opt_str(record.get("title")),
                      url=_opt_str(record.get("url")), source=_opt_str(record.get("source")),
                      published_at=iso_date(record.get("published_at") or record.get("date")),
                      author=_opt_str(author), record_id=None if record_id is None else str(record_id))


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# ---------------------------------------------------------------- HTML


def _looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or bool(re.search(r"<(html|head|body|article|p)[\s>]", head))


def _extract(page: str, url: str | None) -> tuple[str, Any] | None:
    """trafilatura main-text extraction; returns (text with blank-line paragraphs, metadata document)."""
    import trafilatura

    doc = trafilatura.bare_extraction(page, url=url, with_metadata=True, include_comments=False, include_tables=True)
    if doc is None or len((doc.text or "").split()) < _MIN_HTML_WORDS:
        return None  # nothing, or only a menu item or two: not an article
    lines = [" ".join(line.split()) for line in doc.text.split("\n")]
    lines = [line for line in lines if line]
    if lines and doc.title and _same_text(lines[0], doc.title):
        lines = lines[1:]  # trafilatura repeats the headline as the first line
    return "\n\n".join(lines), doc


def _declared_site(doc: Any) -> str | None:
    """The site name the page declares; None when trafilatura only guessed it from the host name."""
    site = (doc.sitename or "").strip()
    if not site or site == doc.hostname or (doc.url and site in doc.url):
        return None
    return site


def _html_article(page: str, origin: str, *, url: str | None = None) -> RawArticle:
    extracted = _extract(page, url)
    if extracted is None:
        raise _Unreadable("empty article: no text after extraction; check that the page holds an article")
    text, doc = extracted
    return RawArticle(body=text, origin=origin, title=doc.title or None, url=doc.url or url,
                      source=_declared_site(doc) or doc.sitename or doc.hostname or None,
                      published_at=iso_date(doc.date), author=doc.author or None)


def _html_to_text(fragment: str) -> str:
    """Strip tags from a feed summary, keeping paragraph breaks."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", fragment)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|li|h[1-6]|blockquote|tr)>", "\n\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


# ---------------------------------------------------------------- feeds


def _looks_like_feed(text: str) -> bool:
    head = text[:4096].lstrip("\ufeff \t\r\n")
    return head.startswith("<") and bool(re.search(r"<(rss|feed|rdf:RDF)[\s>]", head))


def _load_feed(text: str, origin: str, timeout: float, fetch: Fetch) -> Iterator[RawArticle | LoadFailure]:
    import feedparser

    # The text is already decoded: re-encode as UTF-8 and say so, or feedparser would trust the old declaration.
    xml = re.sub(r"^(\s*<\?xml[^>]*?encoding=)[\"'][^\"']*[\"']", r'\1"utf-8"', text, count=1)
    parsed = feedparser.parse(io.BytesIO(xml.encode("utf-8")))
    if not parsed.get("version"):
        raise _Unreadable("not a feed or article: no RSS/Atom feed or article text found; check the file or URL")
    if not parsed.entries:
        raise _Unreadable("empty feed: it lists no entries; check the feed address")
    feed_title = _opt_str(_html_to_text(parsed.feed.get("title") or ""))
    for number, entry in enumerate(parsed.entries, 1):
        yield _feed_entry(entry, number, feed_title, origin, timeout, fetch)


def _feed_entry(
    entry: Any, number: int, feed_title: str | None, origin: str, timeout: float, fetch: Fetch
) -> RawArticle | LoadFailure:
    title = _opt_str(_html_to_text(entry.get("title") or ""))
    link = _opt_str(entry.get("link"))
    published = iso_date(entry.get("published") or entry.get("updated")) or iso_date(
        entry.get("published_parsed") or entry.get("updated_parsed")
    )
    author = _opt_str(entry.get("author"))
    if author:  # RSS "desk@site.example (Name)" -> "Name"
        author = re.sub(r"^[^\s@()]+@[^\s()]+\s*\((.+)\)$", r"\1", author).strip()
    record_id = _opt_str(entry.get("id"))
    contents = [c.get("value", "") for c in entry.get("content") or []]
    body = _html_to_text("\n\n".join(contents)) or _html_to_text(entry.get("summary") or "")
    page = _entry_page(link, timeout, fetch) if link and _is_url(link) else None
    # A page that yields less text than the feed itself is a paywall or consent stub: keep the feed's text.
    if page is not None and len(page[0].split()) >= len(body.split()):
        text, doc = page
        return RawArticle(body=text, origin=link or origin, title=doc.title or title, url=doc.url or link,
                          source=_declared_site(doc) or feed_title, published_at=iso_date(doc.date) or published,
                          author=doc.author or author, record_id=record_id)
    if not body:
        reason = f"empty article: feed entry {number} has no text and its page could not be read"
        return LoadFailure(link or origin, reason)
    return RawArticle(body=body, origin=f"{origin}#{number}", title=title, url=link, source=feed_title,
                      published_at=published, author=author, record_id=record_id)


def _entry_page(link: str, timeout: float, fetch: Fetch) -> tuple[str, Any] | None:
    """Fetch and extract a feed entry's article page; None when that fails (the caller uses the summary)."""
    try:
        body, content_type = _fetch(link, timeout, fetch)
        text = _decode(body, _charset(content_type))
        return _extract(text, link) if "html" in content_type.lower() or _looks_like_html(text) else None
    except Exception:  # any failure here only means "fall back to the feed's own text"
        return None
