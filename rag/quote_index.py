"""The quote index's records: every quote of an article (rag.quotes.find_quotes) with its speaker's full name and
description as the article gives them anywhere, plus the article's date and outlet when read back.

"Lund said" three paragraphs after "Henrik Lund, the transport minister, said" is Henrik Lund, the transport
minister: the index stores the full name and the description, so "What did the transport minister say?" and
"What did Henrik Lund say?" find the same quotes. Stored in the catalog (rag/index/quote_store.py:
quotes_by_speaker, find_quote_text), staged with the article version and made live by the same commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .quotes import ROLE_WORDS, find_quotes
from .schema import Quote
from .text import NOT_NAMES, name_key

__all__ = ["index_quotes", "IndexedQuote", "surname_key"]

_APPOSITIVE = re.compile(
    r"(?P<name>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)+),\s+(?P<desc>(?:the|a|an)\s+[^,.;\"]{3,70}?),")
_ROLE_BEFORE = re.compile(r"(?P<desc>(?:[A-Za-z][a-z\-]+\s+){0,2}?(?i:%s))\s+(?P<name>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)+)"
                          % "|".join(sorted((re.escape(w) for w in ROLE_WORDS), key=len, reverse=True)))


@dataclass(frozen=True)
class IndexedQuote:
    """A stored quote with the article facts a who-said-what answer shows."""

    quote: Quote
    title: str
    source: str | None
    published_at: str | None
    url: str | None


def surname_key(name: str | None) -> str:
    """The lookup key of a speaker: the last word of their name, folded and never stemmed ('harris')."""
    parts = name_key(name or "").split()
    return parts[-1] if parts else ""


_FULL = re.compile(r"\b[A-Z][a-z][\w'\-]*(?:[ \t]+[A-Z]\.)?(?:[ \t]+(?:van|von|de|der|al|bin)?[ \t]?[A-Z][\w'\-]+){1,2}")


def _people(text: str) -> dict[str, tuple[str, str | None]]:
    """surname -> (the longest full name the article gives, a description it gives them)."""
    out: dict[str, tuple[str, str | None]] = {}
    for m in _FULL.finditer(text):  # "Ruben Gallego" anywhere: a later "Gallego said" is him
        tokens = m.group(0).split()
        while tokens and (tokens[0] in NOT_NAMES or tokens[0].lower() in ROLE_WORDS):
            tokens = tokens[1:]
        if len(tokens) >= 2:
            key = surname_key(tokens[-1])
            if key and key not in out:
                out[key] = (" ".join(tokens), None)
    for rx in (_APPOSITIVE, _ROLE_BEFORE):
        for m in rx.finditer(text):
            name = m.group("name").strip()
            if rx is _ROLE_BEFORE and m.group("name").split()[0].lower() in ROLE_WORDS:
                continue
            key = surname_key(name)
            desc = " ".join(m.group("desc").split())
            old = out.get(key)
            if old is None or (len(name) > len(old[0]) and not old[1]):
                out[key] = (name, desc if old is None or not old[1] else old[1])
            elif not old[1]:
                out[key] = (old[0], desc)
    return out


def _plausible(name: str | None, text: str) -> bool:
    """A name of one to four words, written so on one line of the article, with no sentence break in it
    ("Cory Booker. He" and a heading run into the next line's "Murphy" are not names)."""
    if not name or name not in text:
        return False
    tokens = name.split()
    return 0 < len(tokens) <= 4 and not re.search(r"[.!?]\s", name) and not any(t in NOT_NAMES for t in tokens)


def index_quotes(article_id: str, text: str) -> list[Quote]:
    """The article's quotes, each speaker given the fullest name and a description the article has for them."""
    quotes = find_quotes(text, article_id)
    people = _people(text)
    full: dict[str, str] = {}
    for q in quotes:  # the longest form the quotes themselves use ("Maria Harris" for "Harris")
        key = surname_key(q.speaker)
        if key and _plausible(q.speaker, text) and len(q.speaker or "") > len(full.get(key, "")):
            full[key] = q.speaker or ""
    out = []
    for q in quotes:
        key = surname_key(q.speaker)
        if not key:
            out.append(q)
            continue
        name, desc = people.get(key, (None, None))
        forms = [n for n in (q.speaker, full.get(key), name) if _plausible(n, text)]
        best = max(forms, key=len) if forms else (q.speaker or "").split()[-1]
        out.append(replace(q, speaker=best, description=q.description or desc))
    return out
