"""The quote index's records: every quote of an article (rag.attribution.quotes.find_quotes) with its speaker's full name and
description as the article gives them anywhere, plus the article's date and outlet when read back.

"Lund said" three paragraphs after "Henrik Lund, the transport minister, said" is Henrik Lund, the transport
minister: the index stores the full name and the description, so "What did the transport minister say?" and
"What did Henrik Lund say?" find the same quotes. Stored in the catalog (rag/index/quote_store.py:
quotes_by_speaker, find_quote_text), staged with the article version and made live by the same commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.attribution.quotes import ROLE_WORDS, find_quotes
from rag.core.schema import Quote
from rag.nlp.text import MONTHS, NOT_NAMES, is_cue_word, name_key, same_person

__all__ = ["index_quotes", "IndexedQuote", "surname_key", "EXTRACTOR_VERSION"]

# Stamped on a store's quote index; a store indexed by another version has its quotes derived again from the
# stored texts when it is opened (rag/index/quote_store.py: upgrade). Change it with any change to what
# rag/attribution/quotes.py or this module credits.
EXTRACTOR_VERSION = "6"

_APPOSITIVE = re.compile(
    r"(?P<name>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)+),\s+(?P<desc>(?:the|a|an)\s+[^,.;\"]{3,70}?),")
_ROLE_BEFORE = re.compile(r"(?P<desc>(?:[A-Za-z][a-z\-]+\s+){0,2}?(?i:%s))\s+(?P<name>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)+)"
                          % "|".join(sorted((re.escape(w) for w in ROLE_WORDS), key=len, reverse=True)))

# ", Thomas Reyes," after a description that ends in a role word: "The school's principal, Thomas Reyes, said"
_NAME_BETWEEN_COMMAS = re.compile(r",\s+(?P<name>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)+),")
_DESC_BEFORE = re.compile(r"(?:^|[.!?;:]\s+|\b)(?P<desc>(?:[Tt]he|[Aa]n?|[Hh]is|[Hh]er|[Tt]heir|[Ii]ts)\s+(?:[\w'’\-]+\s+){0,4}?"
                          r"(?P<role>[\w\-]+))\s*$")


def _desc_then_name(text: str):
    """(description, name, offset) for "The school's principal, Thomas Reyes, ..." (the description first, its last
    word a role word), found from the cheap ", Name Name," pattern."""
    for m in _NAME_BETWEEN_COMMAS.finditer(text):
        d = _DESC_BEFORE.search(text[max(0, m.start() - 80):m.start()])
        if d and d.group("role").lower() in ROLE_WORDS:
            yield " ".join(d.group("desc").split()), m.group("name").strip(), m.start()


# Where a role word could begin, followed by a space and a capital: every _ROLE_BEFORE match holds one.
_ROLE_AT = re.compile(r"(?=(?i:%s)\s+[A-Z])" % "|".join(sorted((re.escape(w) for w in ROLE_WORDS), key=len,
                                                                  reverse=True)))


_ROLES_LOWER = tuple(sorted({w.lower() for w in ROLE_WORDS}))
_SPACE_CAPITAL = re.compile(r"\s+[A-Z]")


def _role_offsets(text: str) -> list[int]:
    """Offsets where a role word (any case) stands followed by spaces and a capital: `_ROLE_AT`'s, found with
    str.find on the lower-cased text (a regex alternation of 150 words tried at every offset is the slow part)."""
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer: offsets would shift, use the regex
        return [m.start() for m in _ROLE_AT.finditer(text)]
    found: set[int] = set()
    for w in _ROLES_LOWER:
        at = low.find(w)
        while at >= 0:
            if _SPACE_CAPITAL.match(text, at + len(w)):
                found.add(at)
            at = low.find(w, at + 1)
    return sorted(found)


def _role_before(text: str):
    """`_ROLE_BEFORE.finditer(text)`, the same matches, found fast: the pattern tried at every offset of an
    article cost 37 ms an article (most of the quote index's time at ingest). A match starts at its role word or
    at most two words (and their spaces) before it, so only those offsets are tried, leftmost first, skipping
    what a match already covers, as finditer does."""
    tries: set[int] = set()
    for r in _role_offsets(text):
        lo = r
        for _ in range(2):  # back over "<word><spaces>" twice: the widest the description's words can reach
            j = lo
            while j > 0 and text[j - 1].isspace():
                j -= 1
            k = j
            while k > 0 and ("a" <= text[k - 1] <= "z" or text[k - 1] == "-"):
                k -= 1
            if k > 0 and ("A" <= text[k - 1] <= "Z" or "a" <= text[k - 1] <= "z"):
                k -= 1
            if j == lo or k == j:
                break
            lo = k
        tries.update(range(lo, r + 1))
    last = 0
    for start in sorted(tries):
        if start < last:
            continue
        m = _ROLE_BEFORE.match(text, start)
        if m:
            yield m
            last = max(m.end(), start + 1)


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


def _people(text: str) -> dict[str, list[tuple[int, str, str | None]]]:
    """surname -> every (offset, full name, description) the article gives a person of that surname, in order
    ("Antionette Brown" early on and "Gov. Kate Brown" further down are two people)."""
    found: dict[str, dict[str, list]] = {}
    headings: dict[int, bool] = {}
    for m in _FULL.finditer(text):  # "Ruben Gallego" anywhere: a later "Gallego said" is him
        if _heading(text, m.start(), headings):
            continue  # "A Controversial Balenciaga Campaign": a headline's capitals are not a name
        tokens = m.group(0).split()
        while tokens and (tokens[0] in NOT_NAMES or tokens[0].lower() in ROLE_WORDS or is_cue_word(tokens[0])):
            tokens = tokens[1:]
        if len(tokens) >= 2:
            key = surname_key(tokens[-1])
            if key:
                found.setdefault(key, {}).setdefault(" ".join(tokens), [m.start(), None])
    described = []
    for rx in (_APPOSITIVE, _ROLE_BEFORE):
        for m in (rx.finditer(text) if rx is _APPOSITIVE else _role_before(text)):
            if rx is _ROLE_BEFORE and m.group("name").split()[0].lower() in ROLE_WORDS:
                continue
            described.append((" ".join(m.group("desc").split()), m.group("name").strip(), m.start()))
    described += _desc_then_name(text)
    for desc, name, at in described:
        key = surname_key(name)
        names = found.setdefault(key, {})
        # the description goes to the longest form of this person the article gives ("Ruben Gallego")
        target = max((n for n in names if n.endswith(name) or name.endswith(n)), key=len, default=name)
        entry = names.setdefault(target, [at, None])
        if not entry[1]:
            entry[1] = desc
    return {key: sorted((at, n, d) for n, (at, d) in names.items()) for key, names in found.items()}


def _heading(text: str, at: int, seen: dict[int, bool] | None = None) -> bool:
    """Is offset `at` on a headline-like line (no closing full stop, most words capitalised)? `seen` keeps each
    line's verdict by its start, so many names on one long line cost one reading of it, not one each."""
    start = text.rfind("\n", 0, at) + 1
    if seen is not None and start in seen:
        return seen[start]
    end = text.find("\n", at)
    line = text[start:end if end >= 0 else len(text)].strip()
    words = re.findall(r"[A-Za-z][\w'’\-]*", line)
    capitals = sum(w[0].isupper() for w in words)
    verdict = bool(words) and not line.endswith((".", '"', "”")) and capitals > 0.6 * len(words)
    if seen is not None:
        seen[start] = verdict
    return verdict


def _person_for(forms: list[tuple[int, str, str | None]], speaker: str, at: int) -> tuple[str | None, str | None]:
    """The person of that surname a quote at `at` means: one whose name agrees with the cue's ("Kate Brown" is
    not "Antionette Brown"), the last one named before the quote (else the first after it)."""
    fitting = [f for f in forms if same_person(f[1], speaker)]
    if not fitting:
        return None, None
    before = [f for f in fitting if f[0] <= at]
    _, name, desc = before[-1] if before else fitting[0]
    desc = desc or next((d for _, n, d in fitting if d and (n.endswith(name) or name.endswith(n))), None)
    return name, desc


def _plausible(name: str | None, text: str) -> bool:
    """A name of one to four words, written so on one line of the article, with no sentence break in it
    ("Cory Booker. He" and a heading run into the next line's "Murphy" are not names)."""
    if not name or name not in text:
        return False
    tokens = name.split()
    # a surname may be a month's ("John May"); no other word that starts sentences belongs in a name
    odd = [t for i, t in enumerate(tokens) if t in NOT_NAMES and not (i == len(tokens) - 1 > 0 and t in MONTHS)]
    return 0 < len(tokens) <= 4 and not re.search(r"[.!?]\s", name) and not odd


def index_quotes(article_id: str, text: str) -> list[Quote]:
    """The article's quotes, each speaker given the fullest name and a description the article has for them."""
    quotes = find_quotes(text, article_id)
    people = _people(text)
    full: dict[str, list[tuple[int, str, None]]] = {}
    for q in quotes:  # the forms the quotes themselves use ("Maria Harris" for "Harris")
        key = surname_key(q.speaker)
        if key and _plausible(q.speaker, text) and len((q.speaker or "").split()) > 1:
            full.setdefault(key, []).append((q.start, q.speaker or "", None))
    out = []
    for q in quotes:
        key = surname_key(q.speaker)
        if not key:
            out.append(q)
            continue
        at = q.cue_start if q.cue_start >= 0 else q.start
        name, desc = _person_for(people.get(key, []), q.speaker or "", at)
        quoted, _ = _person_for(full.get(key, []), q.speaker or "", at)
        forms = [n for n in (q.speaker, quoted, name) if _plausible(n, text) and same_person(n, q.speaker)]
        best = max(forms, key=len) if forms else (q.speaker or "").split()[-1]
        out.append(replace(q, speaker=best, description=q.description or desc))
    return out
