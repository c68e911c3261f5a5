"""Take news-page boilerplate out of an article body and pull out the outlet it credits.

What goes, for pages like examples/news/kim-kardashian-balenciaga.txt:

- Teaser lines ("Also Read: ...", "Read more: ...", "Related: ...", "READ MORE", "MORE: ..."), share bars,
  subscribe / follow-us / newsletter prompts, "Advertisement", "Click here" lines and cookie notices.
- Everything from a tail marker on ("Explore from around the WEB", "You may also like", ...): what follows
  such a marker is other stories, never this one.
- Image captions, recognised by shape. A caption-like line is short (at most 12 words), has no sentence-ending
  or introducing punctuation (. ! ? : ; , …), no double quote, and is not a list item or a `key: value` line.
  Removed: (a) a paragraph of two or three such lines with no blank line between them (caption plus credit,
  or caption plus alt text, as in the seed's "Kim Kardashian promoting Balenciaga / Kim Kardashian"), and
  (b) a caption-like line repeated right after itself inside a paragraph (every copy goes: "Kim K with her
  kids" twice). A paragraph repeated after a blank line keeps one copy (see _drop_repeated_paragraphs).
  Kept: a caption-like line standing alone as its own paragraph. It is far more often a subheading
  ("Kim Kardashian Reportedly Turned Down The Balenciaga Deal", "How old is Travis Kelce?", a state name
  heading a news round-up, a year heading a timeline) and those carry words questions ask about; a lone real
  caption left in costs little, a heading taken out loses content.
- A leading line that repeats the title (HTML extraction puts the headline first).
- A "Source: X" / "Source - X" / "Via: X" line: removed from the text and returned as credited_source.
- Byline and dateline lines at the head ("By Omar Haddad | November 19, 2026", "Published March 14, 2024"):
  removed from the text and returned as `head` (author, outlet, dates: see ingest/bylines.py).

Lines that hold a quotation, end with sentence punctuation, or introduce a quote ("Kardashian tweeted on
Monday,") are never caption candidates. Quoted speech is changed only by quote-mark normalisation:
curly and guillemet double quotes and ``/'' become ", curly single quotes and acute accents become ',
non-breaking spaces become spaces. Whitespace runs collapse; paragraphs are separated by one blank line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from rag.core.schema import RawArticle
from rag.nlp.text import same_text as _same_text

from .bylines import Head, read_head

__all__ = ["Cleaned", "clean", "normalize_text"]


@dataclass(frozen=True)
class Cleaned:
    """A cleaned article body, the outlet it credits ("Source: TMZ" -> "TMZ"), and its cleaned title."""

    text: str
    credited_source: str | None
    title: str
    head: Head = field(default_factory=Head)  # the byline and dateline read from the head lines


_QUOTES: dict[str, str] = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2033": '"', "\u301d": '"', "\u301e": '"', "\uff02": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u00b4": "'", "\u2039": "'", "\u203a": "'",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\u3000": " ", "\t": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
}
_QUOTE_RE = re.compile("``|''|[" + "".join(_QUOTES) + "]")

_TEASER = re.compile(
    r"^(also read|read also|read more|more|related|see also|recommended|don'?t miss|must read|also see|"
    r"read next|related (article|story|stories|coverage|content|video)|trending)"
    r"(\s*[:|]|\s+[-\u2013\u2014>]+\s)\s*\S",
    re.IGNORECASE,
)
_BARE_TEASER = re.compile(r"^(read more|also read|continue reading|read the full (story|article))\W*$", re.IGNORECASE)
_SHARE = re.compile(
    r"^(share$|share( this)? (story|article|post|page|on|via)\b|email this (story|article)\b|"
    r"subscribe( now| today| here)?\W*$|subscribe (to|for) (our|the|free)\b|sign up( now| here| today)?\W*$|"
    r"sign up (for|to) (our|the|free)\b|follow us\b|join (our|us)\b.*\b(newsletter|whatsapp|telegram|channel)\b|"
    r"get (our|the)\b.*\bnewsletter\b|download (our|the)\b.*\bapp\b|advertisement\W*$|"
    r"advertisement\s*[-:]\s*(scroll|continue|story)|sponsored( content)?\W*$|"
    r"story continues below\b|skip (to|this) (content|ad)\b|(tap|click) here\b|print this (page|article)\W*$|"
    r"copy link\W*$|listen to this article\b)",
    re.IGNORECASE,
)
_ANYWHERE_PROMO = re.compile(
    r"\b(click here|sign up for (our|the)\b.*\bnewsletter|subscribe to (our|the)\b.*\b(newsletter|channel))\b",
    re.IGNORECASE,
)
_COOKIE = re.compile(
    r"\bcookies?\b.*\b(we use|this (web)?site uses|accept|consent|privacy policy|browsing experience)\b|"
    r"\b(we use|this (web)?site uses)\b.*\bcookies?\b",
    re.IGNORECASE,
)
_TAIL = re.compile(
    r"^((explore|more) from around the web|from around the web|around the web|you (may|might) also like|"
    r"recommended (for you|stories|articles)|more (stories|news) (from|like this)|sponsored (stories|links)|"
    r"promoted (stories|links|content)|trending (now|stories)|popular (now|stories)|"
    r"(leave a|post a|add a) (comment|reply)|comments?|related (stories|articles|posts))\W*$",
    re.IGNORECASE,
)
_SOURCE = re.compile(
    r"^(?:sources?|via)\s*(?::|\s[-\u2013\u2014]\s)\s*(?P<name>[^!?\"]{1,60}?)\s*\.?$", re.IGNORECASE
)
_LIST_ITEM = re.compile(r"^([-*\u2022\u25cf\u25aa+>]|\d+[.)]|[a-z][.)])\s")
_SENTENCE_END = (".", "!", "?", ":", ";", ",", "\u2026", '"', ")")


def normalize_text(text: str) -> str:
    """Quote marks to ASCII, non-breaking and odd spaces to plain spaces, zero-width characters dropped."""
    return _QUOTE_RE.sub(lambda m: _QUOTES.get(m.group(), '"'), text)


def clean(raw: RawArticle) -> Cleaned:
    """Clean a loaded article for indexing: boilerplate out, credited outlet pulled out, whitespace and quotes
    normalised. The title is raw.title cleaned the same way, or else the cleaned text's first line."""
    title = _clean_line(normalize_text(raw.title or ""))
    credited: str | None = None
    paragraphs: list[list[str]] = []
    blocks = _blocks(normalize_text(raw.body))
    head = read_head(blocks, _fetched_at(raw.fetched_at))
    total = sum(len(line) for block in blocks for line in block)
    seen = 0
    for b, block in enumerate(blocks):
        kept: list[str] = []
        tail = False
        for i, line in enumerate(block):
            seen += len(line)
            if (b, i) in head.drop:
                continue
            if _TAIL.match(line):
                # A tail marker in the first half is more likely a stray sidebar heading: drop only the line.
                tail = seen > total / 2
                if tail:
                    break
                continue
            name = _credited(line)
            if name:
                credited = credited or name
            elif not _is_boilerplate(line):
                kept.append(line)
        kept = _drop_captions(kept)
        if kept:
            paragraphs.append(kept)
        if tail:
            break
    paragraphs = _drop_repeated_paragraphs(paragraphs)
    if paragraphs and title and len(paragraphs[0]) == 1 and _same_text(paragraphs[0][0], title):
        paragraphs = paragraphs[1:]
    text = "\n\n".join("\n".join(lines) for lines in paragraphs)
    if not title:
        title = _title_from_text(text)
    return Cleaned(text=text, credited_source=credited, title=title, head=head)


def _fetched_at(value: str | None) -> datetime | None:
    """The fetch time as an aware datetime (naive times are UTC), or None when unknown or unreadable."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _credited(line: str) -> str | None:
    """The outlet named by a "Source: X" line (a short name starting with a capital or digit), else None."""
    match = _SOURCE.match(line)
    if not match:
        return None
    name = match.group("name").strip(" -\u2013\u2014:")
    if not name or len(name.split()) > 6 or not (name[0].isupper() or name[0].isdigit()):
        return None
    return name


def _clean_line(line: str) -> str:
    return " ".join(line.split())


def _blocks(text: str) -> list[list[str]]:
    """Paragraphs (split on blank lines), each a list of whitespace-collapsed non-empty lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = []
    for chunk in re.split(r"\n[ \t\f\v]*\n", text):
        lines = [_clean_line(line) for line in chunk.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            blocks.append(lines)
    return blocks


def _is_boilerplate(line: str) -> bool:
    words = len(line.split())
    if _TEASER.match(line) or _BARE_TEASER.match(line):
        return True  # a labelled teaser goes even when its headline quotes someone
    if '"' in line:
        return False  # quoted speech is never boilerplate ('"Click here," the scam email said.')
    if words <= 15 and _SHARE.match(line):
        return True
    lower = line.lower()  # cheap substring checks first: most lines are story text
    promo = "click here" in lower or "sign up" in lower or "subscribe" in lower
    if words <= 25 and promo and _ANYWHERE_PROMO.search(line):
        return True
    return words <= 60 and "cookie" in lower and bool(_COOKIE.search(line))


def _caption_like(line: str) -> bool:
    """Short, unpunctuated, unquoted, and not a list item or `key: value` line: the shape of a caption."""
    return (
        len(line.split()) <= 12
        and len(line) <= 100
        and not line.endswith(_SENTENCE_END)
        and '"' not in line
        and ":" not in line
        and not _LIST_ITEM.match(line)
    )


def _drop_captions(lines: list[str]) -> list[str]:
    """Inside one paragraph: drop a block of 2-3 caption-like lines, and caption lines repeated in a row."""
    if 2 <= len(lines) <= 3 and all(_caption_like(line) for line in lines):
        return []
    out: list[str] = []
    for i, line in enumerate(lines):
        repeated = (i > 0 and _same_text(line, lines[i - 1])) or (i + 1 < len(lines) and _same_text(line, lines[i + 1]))
        if repeated and _caption_like(line):
            continue
        if out and _same_text(line, out[-1]):
            continue  # a long line repeated: keep one copy
        out.append(line)
    return out


def _drop_repeated_paragraphs(paragraphs: list[list[str]]) -> list[list[str]]:
    """Across paragraphs: a paragraph printed twice in a row (or a one-line paragraph repeated) keeps one copy.

    Unlike a repeat inside one paragraph (caption plus alt text), a repeated stand-alone line is as often a
    section heading printed twice ("Brandywine" / "Brandywine" in a news round-up), so one copy stays.
    """
    out: list[list[str]] = []
    for para in paragraphs:
        if out and len(out[-1]) == len(para) and all(_same_text(a, b) for a, b in zip(out[-1], para, strict=True)):
            continue
        out.append(para)
    return out


def _title_from_text(text: str, limit: int = 150) -> str:
    first = text.split("\n", 1)[0].strip()
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "..."
