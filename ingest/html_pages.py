"""An HTML page -> its visible article text and metadata, via trafilatura.

Text a reader never sees is not article text: elements with the `hidden` attribute, `aria-hidden="true"`,
an inline style that hides them (display:none, visibility:hidden, font-size:0, opacity:0), the usual
screen-reader-only classes, `<template>`, `<noscript>` and hidden inputs are removed before extraction (they
carry injected instructions as easily as boilerplate).

A page nested deeper than the HTML parser will build (libxml2 stops at 2,048 levels even with huge_tree, and
drops the text below) is read by a flat, streaming pass instead; the result is reported as degraded.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

from rag.nlp.text import same_text as _same_text

__all__ = ["extract_page", "visible_tree", "flat_text", "declared_site"]

MIN_WORDS = 8
_HIDING_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|font-size\s*:\s*0+(?:\.0+)?"
    r"(?:px|em|rem|pt|%)?\s*(?:;|$|!)|opacity\s*:\s*0+(?:\.0+)?\s*(?:;|$|!))",
    re.IGNORECASE,
)
_HIDING_CLASSES = {"hidden", "sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text", "d-none",
                   "invisible"}
_NEVER_TEXT = {"template", "noscript", "script", "style", "head", "svg", "iframe", "object"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
         "wbr"}
_BLOCK = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "article", "section",
          "header", "footer", "pre", "table", "ul", "ol", "dd", "dt", "figcaption"}


def hidden(tag: str, attrs: dict[str, str | None]) -> bool:
    """True when this element, by its own markup, is not shown to a reader."""
    if tag in ("template", "noscript"):
        return True
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").strip().lower() == "true":
        return True
    if tag == "input" and (attrs.get("type") or "").strip().lower() == "hidden":
        return True
    if _HIDING_STYLE.search(attrs.get("style") or ""):
        return True
    return bool(_HIDING_CLASSES.intersection((attrs.get("class") or "").lower().split()))


def visible_tree(page: str) -> Any | None:
    """The page parsed by lxml with its hidden elements removed; None when it is too deep to parse whole."""
    import lxml.html

    parser = lxml.html.HTMLParser(huge_tree=True)
    try:
        tree = lxml.html.fromstring(page, parser=parser)
    except Exception:  # lxml raises on empty or unparsable documents: the flat pass reads what it can
        return None
    if any("depth" in str(error).lower() or "RESOURCE_LIMIT" in str(error) for error in parser.error_log):
        return None
    doomed = [el for el in tree.iter() if isinstance(el.tag, str)
              and hidden(el.tag.lower(), {k.lower(): v for k, v in el.attrib.items()})]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the element's tail text, which is outside it
    return tree


def extract_page(page: str, url: str | None) -> tuple[str, Any, str | None] | None:
    """(text with blank-line paragraphs, metadata document, degraded note or None), or None when the page holds
    no article. The document has title, url, sitename, hostname, date, author."""
    tree = visible_tree(page)
    if tree is not None:
        try:
            return _trafilatura(tree, url)
        except RecursionError:
            pass  # deep but parsed: the flat pass below still gets the text
    text = flat_text(page)
    if len(text.split()) < MIN_WORDS:
        return None
    title = re.search(r"(?is)<title[^>]*>(.*?)</title>", page[:65536])
    doc = SimpleNamespace(title=_one_line(title.group(1)) if title else None, url=url, sitename=None,
                          hostname=None, date=None, author=None)
    note = ("degraded: the page nests its markup too deeply for the HTML parser, so its text was read flat "
            "(boilerplate and metadata may remain); fix the page if this is unexpected")
    return text, doc, note


def _trafilatura(tree: Any, url: str | None) -> tuple[str, Any, None] | None:
    import trafilatura

    doc = trafilatura.bare_extraction(tree, url=url, with_metadata=True, include_comments=False, include_tables=True,
                                      date_extraction_params=_date_params(original=True))
    if doc is None or len((doc.text or "").split()) < MIN_WORDS:
        return None  # nothing, or only a menu item or two: not an article
    lines = [" ".join(line.split()) for line in doc.text.split("\n")]
    lines = [line for line in lines if line]
    if lines and doc.title and _same_text(lines[0], doc.title):
        lines = lines[1:]  # trafilatura repeats the headline as the first line
    return "\n\n".join(lines), doc, None


def _date_params(*, original: bool) -> dict[str, Any]:
    """htmldate reads the page's markup (meta tags, JSON-LD, <time>, the URL) but not dates in the story text:
    its "extensive search" would take a date the story mentions for the day it was published."""
    return {"original_date": original, "extensive_search": False,
            "max_date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}


def updated_date(page: str, url: str | None, published: str | None) -> str | None:
    """The page's last-modified day from its markup (YYYY-MM-DD), when it is after the publication day."""
    import htmldate

    try:
        latest = htmldate.find_date(page, url=url, **_date_params(original=False))
    except Exception:  # htmldate failing only means no updated date
        return None
    return latest if latest and published and latest[:10] > published[:10] else None


def _one_line(text: str) -> str | None:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()) or None


class _FlatText(HTMLParser):
    """A streaming pass that keeps visible text and paragraph breaks; no tree, so no depth limit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hides its content)
        self.hiding = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK and not self.hiding:
            self.parts.append("\n\n")
        elif tag == "br" and not self.hiding:
            self.parts.append("\n")
        if tag in _VOID:
            return
        hides = tag in _NEVER_TEXT or hidden(tag, dict(attrs))
        self.stack.append((tag, hides))
        self.hiding += hides

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK and not self.hiding:
            self.parts.append("\n\n")
        elif tag == "br" and not self.hiding:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, max(-1, len(self.stack) - 65), -1):
            if self.stack[depth][0] == tag:  # close it and whatever was left open inside it
                self.hiding -= sum(hides for _, hides in self.stack[depth:])
                del self.stack[depth:]
                break
        if tag in _BLOCK and not self.hiding:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.hiding:
            self.parts.append(data)


def flat_text(page: str) -> str:
    """Visible text of any page, however deep, as blank-line paragraphs."""
    parser = _FlatText()
    parser.feed(page)
    parser.close()
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", "".join(parser.parts))]
    return "\n\n".join(p for p in paragraphs if p)


def declared_site(doc: Any) -> str | None:
    """The site name the page declares; None when trafilatura only guessed it from the host name."""
    site = (doc.sitename or "").strip()
    if not site or site == doc.hostname or (doc.url and site in doc.url):
        return None
    return site
