"""Read news from files, folders, URLs, RSS/Atom feeds and JSON/JSONL into RawArticle records.

Every input that cannot be read becomes a LoadFailure whose reason says what is wrong and what to do, and
every input read less well than it should be (a guessed encoding, a flat-text fallback) is preceded by a
LoadWarning; iter_inputs never raises for bad input, so one broken file never stops a batch. URLs go through
ingest.fetching (address checks, deadlines, byte limit); files over the byte limit are refused before they
are read.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.core.schema import LoadFailure, RawArticle

from .dates import iso_date, now_iso
from .decoding import LoadWarning, Unreadable, charset_of, decode_text
from .feeds import load_feed, looks_like_feed
from .fetching import Fetcher, FetchPolicy
from .html_pages import declared_site, extract_page, updated_date
from .records import json_records, jsonl_file

__all__ = ["iter_inputs", "iso_date", "KNOWN_EXTENSIONS", "LoadWarning"]

Fetch = Callable[[str], tuple[bytes, str]]
Item = RawArticle | LoadFailure | LoadWarning

KNOWN_EXTENSIONS = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".xml", ".rss", ".atom"})
_FEED_EXTS = {".xml", ".rss", ".atom"}
_HTML_EXTS = {".html", ".htm"}


@dataclass(frozen=True)
class _Context:
    fetch: Fetch
    max_bytes: int
    concurrency: int


# ---------------------------------------------------------------- public API


def iter_inputs(targets: Iterable[str], *, policy: FetchPolicy | None = None,
                fetch: Fetch | None = None) -> Iterator[Item]:
    """Yield one RawArticle per article found in the targets, a LoadFailure per input that failed, and a
    LoadWarning before an article that was read in a degraded way.

    Each target is a file, a folder (read recursively in sorted order, known extensions only, hidden files
    skipped, unreadable entries reported) or an http(s) URL of an article page or an RSS/Atom feed. `policy`
    says what may be fetched and the byte limit (default: public addresses only); `fetch(url)` returns
    `(body_bytes, content_type)` and raises on errors; it defaults to a `Fetcher(policy)` for this call.
    """
    policy = policy or FetchPolicy()
    ctx = _Context(fetch or Fetcher(policy), policy.max_bytes, policy.concurrency)
    for target in targets:
        target = str(target)
        if _is_url(target):
            yield from _guarded(target, lambda t=target: _load_url(t, ctx))
        else:
            yield from _load_path(Path(target).expanduser(), target, ctx)


# ---------------------------------------------------------------- files and folders


def _guarded(origin: str, make: Callable[[], Iterator[Item]]) -> Iterator[Item]:
    """Run one input's reader; turn whatever it raises into a LoadFailure so the batch goes on."""
    try:
        yield from make()
    except Unreadable as exc:
        yield LoadFailure(origin, str(exc))
    except RecursionError:
        yield LoadFailure(origin, "could not read (nested too deeply to parse): simplify the input")
    except Exception as exc:  # a bug or an odd input must not stop the batch; report it instead
        yield LoadFailure(origin, f"could not read ({type(exc).__name__}: {exc}): check the input or report a bug")


def _load_path(path: Path, origin: str, ctx: _Context) -> Iterator[Item]:
    if not path.exists():
        reason = "broken symbolic link: its target is missing" if path.is_symlink() else "file not found"
        yield LoadFailure(origin, f"{reason}: check the path")
        return
    if not path.is_dir():
        yield from _guarded(origin, lambda: _load_file(path, origin, ctx))
        return
    children, problems = _walk(path)
    yield from problems
    for child in children:
        yield from _guarded(str(child), lambda c=child: _load_file(c, str(c), ctx))
    if not children and not problems:
        kinds = " ".join(sorted(KNOWN_EXTENSIONS))
        yield LoadFailure(origin, f"no articles in folder (looked for {kinds}): check the path")


def _walk(folder: Path) -> tuple[list[Path], list[LoadFailure]]:
    """Known-extension files under folder (sorted; hidden names skipped) and a failure for each folder that
    could not be listed and each entry that is not a readable file (a broken link, a device, a loop)."""
    problems: list[LoadFailure] = []
    found: list[Path] = []
    seen_dirs: set[str] = set()

    def unreadable(exc: OSError) -> None:
        problems.append(LoadFailure(str(exc.filename or folder), f"cannot read folder ({exc.strerror or exc}): "
                                                                 "check its permissions; its files were skipped"))

    for root, dirs, files in os.walk(folder, onerror=unreadable, followlinks=True):
        real = os.path.realpath(root)
        if real in seen_dirs:
            problems.append(LoadFailure(root, "folder link loop: this folder was already read; remove the link"))
            dirs[:] = []
            continue
        seen_dirs.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            child = Path(root) / name
            if name.startswith(".") or child.suffix.lower() not in KNOWN_EXTENSIONS:
                continue
            found.append(child)
    return sorted(found), problems


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable("not a regular file (a device, pipe or socket): pass a file")
        if info.st_size > max_bytes:
            raise Unreadable(_too_big(info.st_size, max_bytes))
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        if path.is_symlink() and not path.exists():
            raise Unreadable("broken symbolic link: its target is missing; fix or remove the link") from None
        raise Unreadable(f"cannot read file ({exc.strerror or exc}): check its permissions") from exc
    if len(data) > max_bytes:  # it grew while being read
        raise Unreadable(_too_big(len(data), max_bytes))
    return data


def _too_big(size: int, max_bytes: int) -> str:
    return (f"too large: {size / 1_000_000:.1f} MB is over NEWSRAG_MAX_INPUT_BYTES={max_bytes} "
            f"({max_bytes / 1_000_000:g} MB); split it, or raise NEWSRAG_MAX_INPUT_BYTES to read it")


def _load_file(path: Path, origin: str, ctx: _Context) -> Iterator[Item]:
    ext = path.suffix.lower()
    if ext == ".jsonl":
        if _read_check(path):
            yield from jsonl_file(path, origin, ctx.max_bytes)
        return
    data = _read(path, ctx.max_bytes)
    if not data.strip():
        raise Unreadable("empty article: the file is empty")
    decoded = decode_text(data)
    text = decoded.text
    if decoded.note():
        yield LoadWarning(origin, decoded.note())
    if ext == ".json":
        yield from json_records(text, origin)
    elif ext in _FEED_EXTS or looks_like_feed(text):
        yield from load_feed(text, origin, ctx.fetch, ctx.concurrency, _looks_like_html)
    elif ext in _HTML_EXTS or (ext not in KNOWN_EXTENSIONS and _looks_like_html(text)):
        yield from _html_article(text, origin)
    else:
        if ext in (".md", ".markdown"):
            text = _MD_HEADING.sub(r"\1", text)
        yield _text_article(text, origin, fallback_title=_title_from_name(path.stem))


def _read_check(path: Path) -> bool:
    """A JSONL file is streamed; check first that it is a regular, readable, non-empty file."""
    try:
        info = path.stat()
    except OSError as exc:
        raise Unreadable(f"cannot read file ({exc.strerror or exc}): check its permissions") from exc
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable("not a regular file (a device, pipe or socket): pass a file")
    if info.st_size == 0:
        raise Unreadable("empty article: the file is empty")
    if not os.access(path, os.R_OK):
        raise Unreadable("cannot read file (Permission denied): check its permissions")
    return True


# ---------------------------------------------------------------- URLs


def _is_url(target: str) -> bool:
    return bool(re.match(r"^https?://", target.strip(), re.IGNORECASE))


def _load_url(url: str, ctx: _Context) -> Iterator[Item]:
    body, content_type = ctx.fetch(url)
    mime = content_type.split(";")[0].strip().lower()
    if mime.split("/")[0] in ("image", "audio", "video") or mime in ("application/pdf", "application/zip"):
        raise Unreadable(f"not a feed or article: the URL returned {mime}; pass an article page or a feed URL")
    if not body.strip():
        raise Unreadable("empty article: the URL returned no content")
    decoded = decode_text(body, charset_of(content_type))
    text = decoded.text
    if decoded.note():
        yield LoadWarning(url, decoded.note())
    if looks_like_feed(text) or any(k in mime for k in ("rss", "atom")):
        yield from load_feed(text, url, ctx.fetch, ctx.concurrency, _looks_like_html)
    elif "html" in mime or _looks_like_html(text):
        yield from _html_article(text, url, url=url, fetched_at=now_iso())
    elif "json" in mime:
        yield from json_records(text, url)
    elif mime in ("text/plain", "text/markdown", "text/x-markdown", ""):
        article = _text_article(text, url, fallback_title=None)
        article.url = article.url or url
        article.fetched_at = article.fetched_at or now_iso()
        yield article
    else:
        raise Unreadable(f"not a feed or article: the URL returned {mime}; pass an article page or a feed URL")


# ---------------------------------------------------------------- text and Markdown

_MD_HEADING = re.compile(r"(?m)^#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$")  # "## Heading ##" -> "Heading"
_FRONT_KEYS = {"title", "source", "url", "date", "published_at", "updated_at", "author", "id"}


def _text_article(text: str, origin: str, *, fallback_title: str | None) -> RawArticle:
    meta, body = _front_matter(text)
    title = meta.get("title")
    if not title:
        title, body = _labelled_title(body)
    if not title:
        title, body = _title_line(body, fallback_title)
    body = body.strip()
    if not body:
        raise Unreadable("empty article: no text after extraction; the file holds no article body")
    published = iso_date(meta.get("published_at") or meta.get("date"))
    return RawArticle(body=body, origin=origin, title=title or None, url=meta.get("url") or None,
                      source=meta.get("source") or None, published_at=published,
                      author=meta.get("author") or None, record_id=meta.get("id") or None,
                      updated_at=iso_date(meta.get("updated_at")), date_source="record" if published else None)


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


_LABELLED_TITLE = re.compile(r"^[ \t]*(?:title|headline)[ \t]*:[ \t]*(\S.*?)[ \t]*$", re.IGNORECASE)
_HEAD_BLOCK_LINES = 6  # a `Title:` line is read among the first lines before the first blank line


def _labelled_title(body: str) -> tuple[str | None, str]:
    """A `Title: ...` (or `Headline: ...`) line in the article's head block, beside `Source:` and `Date:` lines:
    its value is the title and the line leaves the body. (None, body) when there is none."""
    lines = body.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    for i in range(start, min(len(lines), start + _HEAD_BLOCK_LINES)):
        if not lines[i].strip():
            break
        m = _LABELLED_TITLE.match(lines[i])
        if m:
            title = m.group(1)
            if len(title) >= 2 and title[0] == title[-1] and title[0] in "\"'":
                title = title[1:-1].strip()
            return title or None, "\n".join(lines[:i] + lines[i + 1:])
    return None, body


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


# ---------------------------------------------------------------- HTML


def _looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or bool(re.search(r"<(html|head|body|article|p)[\s>]", head))


def _html_article(page: str, origin: str, *, url: str | None = None, fetched_at: str | None = None) -> Iterator[Item]:
    extracted = extract_page(page, url)
    if extracted is None:
        raise Unreadable("empty article: no text after extraction; check that the page holds an article")
    text, doc, note = extracted
    if note:
        yield LoadWarning(origin, note)
    published = iso_date(doc.date)
    yield RawArticle(body=text, origin=origin, title=doc.title or None, url=doc.url or url,
                     source=declared_site(doc) or doc.sitename or doc.hostname or None,
                     published_at=published, author=doc.author or None,
                     updated_at=updated_date(page, url, published),
                     date_source="metadata" if published else None, fetched_at=fetched_at)
