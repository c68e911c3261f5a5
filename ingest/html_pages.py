"""An HTML page -> its visible article text and metadata, via trafilatura.

Text a reader never sees is not article text: elements with the `hidden` attribute, `aria-hidden="true"`,
an inline style that hides them (display:none, visibility:hidden, opacity near 0, a font under 3 pixels, text in
the colour of the background behind it, moved far off-screen, clipped to nothing, a one-pixel box), the usual
screen-reader-only classes, `<template>`, `<noscript>` and hidden inputs are removed before extraction (they
carry injected instructions as easily as boilerplate). Only inline styles are read, not stylesheets: white text
whose dark background comes from a stylesheet class counts as white on a white page, and is dropped.

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
_HIDING_CLASSES = {"hidden", "sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text", "d-none",
                   "invisible"}
_NEVER_TEXT = {"template", "noscript", "script", "style", "head", "svg", "iframe", "object"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
         "wbr"}
_BLOCK = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "article", "section",
          "header", "footer", "pre", "table", "ul", "ol", "dd", "dt", "figcaption"}


Colour = tuple[int, int, int, float]  # red, green, blue 0-255; alpha 0-1
PAGE_BACKGROUND: Colour = (255, 255, 255, 1.0)  # what a browser paints when no ancestor sets a background


def hidden(tag: str, attrs: dict[str, str | None], background: Colour = PAGE_BACKGROUND) -> bool:
    """True when this element, by its own markup, is not shown to a reader. `background` is the colour its
    ancestors paint behind it (their inline `background`/`bgcolor`; white when none does)."""
    if tag in ("template", "noscript"):
        return True
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").strip().lower() == "true":
        return True
    if tag == "input" and (attrs.get("type") or "").strip().lower() == "hidden":
        return True
    if attrs.get("style") and _style_hides(_declarations(attrs["style"] or ""), background):
        return True
    return bool(_HIDING_CLASSES.intersection((attrs.get("class") or "").lower().split()))


def background_of(attrs: dict[str, str | None], behind: Colour = PAGE_BACKGROUND) -> Colour:
    """The colour this element paints behind its content: its own opaque inline background, else `behind`."""
    if attrs.get("style"):
        own = _background(_declarations(attrs["style"] or ""), behind)
        if own is not behind:
            return own
    colour = _first_colour(attrs.get("bgcolor") or "")
    return colour if colour is not None and colour[3] >= 0.5 else behind


# ---------------------------------------------------------------- inline styles that hide text
# Each rule is how pages hide text from readers but not from scrapers: display/visibility, no opacity, a font
# too small to read, text in the background's colour, moved far off-screen, clipped away or boxed into a pixel.

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))\s*(px|em|rem|pt|pc|cm|mm|in|%|vw|vh|ex|ch)?$")
_PX = {None: 1.0, "px": 1.0, "em": 16.0, "rem": 16.0, "pt": 4 / 3, "pc": 16.0, "cm": 37.8, "mm": 3.78,
       "in": 96.0, "vw": 19.2, "vh": 10.8, "ex": 8.0, "ch": 8.0}
_OFF_SCREEN_PX = -500.0  # a box this far left of or above the page is off-screen on any screen
_NAMED = {"white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0),
          "blue": (0, 0, 255), "yellow": (255, 255, 0), "gray": (128, 128, 128), "grey": (128, 128, 128),
          "silver": (192, 192, 192), "navy": (0, 0, 128), "maroon": (128, 0, 0), "snow": (255, 250, 250),
          "ivory": (255, 255, 240), "whitesmoke": (245, 245, 245), "ghostwhite": (248, 248, 255),
          "lightgray": (211, 211, 211), "lightgrey": (211, 211, 211), "darkgray": (169, 169, 169),
          "orange": (255, 165, 0), "purple": (128, 0, 128), "teal": (0, 128, 128), "olive": (128, 128, 0)}
_COLOUR = re.compile(r"#[0-9a-f]{3,8}\b|rgba?\([^)]*\)|\b(?:transparent|" + "|".join(_NAMED) + r")\b")


def _declarations(style: str) -> dict[str, str]:
    """An inline style as {property: value}, lowercased, comments and `!important` removed; the last wins."""
    out: dict[str, str] = {}
    for part in _COMMENT.sub("", style).lower().split(";"):
        name, colon, value = part.partition(":")
        if colon:
            out[name.strip()] = value.replace("!important", "").strip()
    return out


def _px(value: str | None) -> float | None:
    """A CSS length in pixels (em and rem at 16px, % as given); None when it is not a plain length."""
    m = _LENGTH.match((value or "").strip())
    if not m:
        return None
    return float(m.group(1)) * (1.0 if m.group(2) == "%" else _PX[m.group(2)])


def _first_colour(value: str) -> Colour | None:
    m = _COLOUR.search(value.lower())
    if not m:
        return None
    token = m.group()
    if token == "transparent":
        return (0, 0, 0, 0.0)
    if token in _NAMED:
        return (*_NAMED[token], 1.0)
    if token.startswith("#"):
        digits = token[1:]
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        if len(digits) not in (6, 8):
            return None
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), alpha)
    numbers = re.findall(r"[\d.]+%?", token)
    if len(numbers) < 3:
        return None
    try:
        rgb = [round(float(n[:-1]) * 2.55) if n.endswith("%") else round(float(n)) for n in numbers[:3]]
        alpha = float(numbers[3][:-1]) / 100 if len(numbers) > 3 and numbers[3].endswith("%") else \
            float(numbers[3]) if len(numbers) > 3 else 1.0
    except ValueError:
        return None
    return (rgb[0], rgb[1], rgb[2], alpha)


def _style_hides(style: dict[str, str], background: Colour) -> bool:
    if style.get("display") == "none" or style.get("visibility") in ("hidden", "collapse"):
        return True
    opacity = _px(style.get("opacity"))
    if opacity is not None and opacity < 0.1:
        return True
    m = _LENGTH.match(style.get("font-size", ""))
    if m and float(m.group(1)) * (0.16 if m.group(2) == "%" else _PX[m.group(2)]) < 3.0:
        return True  # 0, 1px, 2px, .1em, 10%: nobody reads text under 3 pixels
    colour = _first_colour(style.get("color", "")) if style.get("color") else None
    if colour is not None:
        if colour[3] < 0.1:
            return True
        behind = _background(style, background)
        if max(abs(a - b) for a, b in zip(colour[:3], behind[:3])) <= 16:
            return True  # text in (nearly) the colour behind it
    if style.get("position") in ("absolute", "fixed"):
        for side in ("left", "top", "right"):
            offset = _px(style.get(side))
            if offset is not None and not style.get(side, "").endswith("%") and offset <= _OFF_SCREEN_PX:
                return True
    indent = _px(style.get("text-indent"))
    if indent is not None and not style.get("text-indent", "").endswith("%") and indent <= _OFF_SCREEN_PX:
        return True
    if _clipped_away(style.get("clip", ""), style.get("clip-path", "")):
        return True
    if style.get("overflow", style.get("overflow-y", style.get("overflow-x", ""))) in ("hidden", "clip"):
        for side in ("width", "height", "max-width", "max-height"):
            length = _px(style.get(side))
            if length is not None and not style.get(side, "").endswith("%") and length <= 1.0:
                return True
    return False


def _background(style: dict[str, str], behind: Colour) -> Colour:
    for value in (style.get("background-color"), style.get("background")):
        colour = _first_colour(value or "")
        if colour is not None and colour[3] >= 0.5:
            return colour
    return behind


def _clipped_away(clip: str, clip_path: str) -> bool:
    """`clip: rect(0 0 0 0)` or `rect(1px, 1px, 1px, 1px)` (no area left), `clip-path: inset(50%)` or more,
    `circle(0)`, `ellipse(0 0)`."""
    m = re.match(r"rect\(([^)]*)\)", clip.strip())
    if m:
        sides = [_px(v) for v in re.split(r"[\s,]+", m.group(1).strip())]
        if len(sides) == 4 and None not in sides:
            top, right, bottom, left = sides
            if right - left <= 1 or bottom - top <= 1:
                return True
    m = re.match(r"inset\(([^)]*)\)", clip_path.strip())
    if m:
        values = [v for v in m.group(1).split(" round ")[0].split() if v]
        if values and all(v.endswith("%") for v in values):
            pct = [float(v[:-1]) for v in values if _px(v) is not None]
            if len(pct) == len(values):
                top, right, bottom, left = (pct * 4)[:4] if len(pct) == 1 else \
                    (pct[0], pct[1], pct[0], pct[1]) if len(pct) == 2 else \
                    (pct[0], pct[1], pct[2], pct[1]) if len(pct) == 3 else pct[:4]
                return top + bottom >= 100 or left + right >= 100
    m = re.match(r"(circle|ellipse)\(\s*([^)\s]*)", clip_path.strip())
    return bool(m and _px(m.group(2)) == 0)


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
    doomed = []
    behind: dict[Any, Colour] = {}  # element -> the background its children see
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        attrs = {k.lower(): v for k, v in el.attrib.items()}
        parent = el.getparent()
        background = behind.get(parent, PAGE_BACKGROUND) if parent is not None else PAGE_BACKGROUND
        if hidden(el.tag.lower(), attrs, background):
            doomed.append(el)
        elif attrs.get("style") or attrs.get("bgcolor"):
            behind[el] = background_of(attrs, background)
        elif parent is not None and parent in behind:
            behind[el] = behind[parent]
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
        self.stack: list[tuple[str, bool, Colour]] = []  # (tag, hides its content, background behind it)
        self.hiding = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK and not self.hiding:
            self.parts.append("\n\n")
        elif tag == "br" and not self.hiding:
            self.parts.append("\n")
        if tag in _VOID:
            return
        attributes = dict(attrs)
        background = self.stack[-1][2] if self.stack else PAGE_BACKGROUND
        hides = tag in _NEVER_TEXT or hidden(tag, attributes, background)
        self.stack.append((tag, hides, background_of(attributes, background)))
        self.hiding += hides

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK and not self.hiding:
            self.parts.append("\n\n")
        elif tag == "br" and not self.hiding:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, max(-1, len(self.stack) - 65), -1):
            if self.stack[depth][0] == tag:  # close it and whatever was left open inside it
                self.hiding -= sum(hides for _, hides, _ in self.stack[depth:])
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
