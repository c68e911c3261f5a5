"""Does a passage state a claim? Rules over the sentence, each naming what it found when it says no.

The rules, in the order they are tried (the first that fails is the reason):
- quote: every quotation in the claim is in the passage, word for word;
- words: the passage (one statement, or two or three neighbouring ones) carries the claim's content words;
- number: every number, with its unit and scale, is one the passage states (as often as the claim does);
- date: weekdays and months occur in the passage as often as in the claim;
- name: every capitalised name in the claim occurs in the passage;
- polarity: the claim negates what the passage does not, or drops a negation the passage has;
- attribution: words or a position the claim credits to X are credited to X by the passage (rag/quotes.py);
- frame: the words around a quotation are the passage's too, not only the quote.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from ..injection import without_instructions
from ..lexical import content_words, coverage
from ..quotes import credited, find_quotes
from ..sentences import statement_spans
from ..text import NOT_NAMES, fold, name_key, normalize, same_person
from .numbers import quantities

__all__ = ["Verdict", "judge", "RULES"]

RULES = ("empty", "quote", "words", "number", "date", "name", "polarity", "attribution", "frame")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
_QUOTE = re.compile(r'"([^"\n]+)"')
_NEGATIONS = frozenset("not no never none nobody nothing neither nor cannot without nowhere".split())
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "june", "july", "august", "september", "october", "november",
           "december")  # "May" is left to the name rule: it is also a verb
_INITIAL = '.!?:;"(—-'


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rule: str = ""  # which rule failed (one of RULES), "" when ok
    detail: str = ""  # the word, number, name or quote that failed it
    span: tuple[int, int] = (0, 0)  # the passage span that best supports the claim (offsets in the passage)


@dataclass(frozen=True)
class _Passage:
    text: str  # instructions to the assistant blanked out
    plain: str  # folded
    spans: tuple[tuple[int, int], ...]
    bags: tuple[frozenset, ...]
    norm: str
    keys: frozenset  # lower-case word tokens, possessive off
    days: Counter
    numbers: tuple


@lru_cache(maxsize=2048)
def _passage(text: str) -> _Passage:
    clean = without_instructions(text)
    plain = fold(clean)
    spans = tuple((s, e) for s, e in statement_spans(clean) if clean[s:e].strip()) or ((0, len(clean)),)
    bags = tuple(frozenset(content_words(clean[s:e])) for s, e in spans)
    toks = [_key(t) for t in _TOKEN.findall(plain)]
    keys = frozenset(toks) | frozenset(p for t in toks for p in t.split("-"))
    days = Counter(t for t in toks if t in _DAYS or t in _MONTHS)
    return _Passage(clean, plain, spans, bags, normalize(clean), keys, days, tuple(quantities(clean)))


def _key(token: str) -> str:
    t = token.lower()
    return t[:-2] if t.endswith("'s") else t.rstrip("'")


def judge(claim: str, passage: str, *, threshold: float = 0.5) -> Verdict:
    """Does `passage` state `claim`? The verdict names the failed rule and the word that failed it."""
    p = _passage(passage)
    plain = fold(claim).strip()
    words = set(content_words(plain))
    if not words:
        return Verdict(False, "empty", plain[:40])
    for q in _QUOTE.findall(plain):
        if len(q.split()) >= 2 and not _quote_in(q, p.norm):
            return Verdict(False, "quote", q.strip())
    span, cov, window = _best_window(words, p)
    if cov < threshold:
        missing = sorted(words - set().union(*(p.bags[i] for i in window)))
        return Verdict(False, "words", ", ".join(missing[:4]), span)
    for rule, test in (("number", _numbers), ("date", _dates), ("name", _names), ("polarity", _polarity),
                       ("attribution", _attribution), ("frame", _frame)):
        failed = test(plain, p, span)
        if failed:
            return Verdict(False, rule, failed, span)
    return Verdict(True, span=span)


def _quote_in(quote: str, norm_passage: str) -> bool:
    pieces = [x.strip(" ,.;:!?'") for x in re.split(r"\.\.\.|…|\[[^\]]*\]", normalize(quote))]
    pos = 0
    for piece in pieces:
        if not piece:
            continue
        at = norm_passage.find(piece, pos)
        if at < 0:
            return False
        pos = at + len(piece)
    return True


def _best_window(words: set[str], p: _Passage) -> tuple[tuple[int, int], float, tuple[int, ...]]:
    """The statement, or run of two or three neighbouring statements, that carries most of the claim."""
    best = (-1.0, 0, (0,))
    n = len(p.spans)
    for i in range(n):
        bag: set[str] = set()
        for j in range(i, min(n, i + 3)):
            bag |= p.bags[j]
            c = coverage(words, bag) - 0.02 * (j - i)  # a shorter window wins a tie
            if c > best[0]:
                best = (c, j - i, tuple(range(i, j + 1)))
    cov, _, window = best
    return (p.spans[window[0]][0], p.spans[window[-1]][1]), cov + 0.02 * (len(window) - 1), window


@lru_cache(maxsize=4096)
def _swapped(plain: str, window: str) -> tuple[tuple[str, str], ...]:
    """(claim word, passage word) for each one-word substitution where the claim lines up with the passage:
    "up to 15%" against "up to 20%" gives ("15", "20")."""
    claim = _TOKEN.findall(plain)
    theirs = _TOKEN.findall(window)
    sm = SequenceMatcher(None, [t.lower() for t in theirs], [t.lower() for t in claim], autojunk=False)
    out = []
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        if op == "replace" and a1 - a0 == b1 - b0:
            out.extend(zip(claim[b0:b1], theirs[a0:a1]))
    return tuple(out)


def _value(token: str) -> float | None:
    found = quantities(token)
    return found[0].value if len(found) == 1 and found[0].text == token else None


def _numbers(plain: str, p: _Passage, span: tuple[int, int]) -> str:
    for mine, theirs in _swapped(plain, p.plain[span[0]:span[1]]):
        if any(c.isdigit() for c in mine + theirs) and mine.lower() != theirs.lower():
            a, b = _value(mine), _value(theirs)
            if a is None or b is None or a != b:
                return mine  # "6-7" where the passage has "6-0", "15" where it has "20"
    left = list(p.numbers)
    for q in quantities(plain):
        match = next((i for i, x in enumerate(left) if q.same(x)), None)
        if match is None:
            return q.text
        left.pop(match)
    return ""


def _dates(plain: str, p: _Passage, span: tuple[int, int]) -> str:
    for mine, theirs in _swapped(plain, p.plain[span[0]:span[1]]):
        a, b = _key(mine), _key(theirs)
        if a != b and (a in _DAYS or a in _MONTHS) and (b in _DAYS or b in _MONTHS):
            return mine
    days = Counter(t for t in (_key(x) for x in _TOKEN.findall(plain)) if t in _DAYS or t in _MONTHS)
    for day, count in days.items():
        if p.days[day] < count:
            return day.capitalize()
    return ""


def _names(plain: str, p: _Passage, span: tuple[int, int]) -> str:
    """Each capitalised word outside quotation marks must occur in the passage. A sentence's first word counts
    only when the next one is capitalised too ("Cardinal Burke said"), since it is capitalised anyway."""
    outside = _QUOTE.sub(lambda m: " " * len(m.group(0)), plain)
    toks = list(_TOKEN.finditer(outside))
    for i, m in enumerate(toks):
        tok = m.group(0)
        if not tok[0].isupper() or tok in ("I", "I'm", "I've", "I'd", "I'll"):
            continue
        before = outside[:m.start()].rstrip()
        initial = not before or before[-1] in _INITIAL
        if initial:
            nxt = toks[i + 1].group(0) if i + 1 < len(toks) else ""
            joined = nxt and outside[m.end():toks[i + 1].start()].strip() == ""
            if tok in NOT_NAMES or not (joined and nxt[0].isupper()):
                continue
        key = _key(tok)
        if not name_key(tok) or key in p.keys or all(part in p.keys for part in key.split("-") if part):
            continue
        return tok
    return ""


def _negations(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t in _NEGATIONS or t.endswith("n't")]


def _polarity(plain: str, p: _Passage, span: tuple[int, int]) -> str:
    """Negations in the claim against those in the part of the passage the claim lines up with."""
    claim = [t.lower() for t in _TOKEN.findall(plain)]
    window = [t.lower() for t in _TOKEN.findall(p.plain[span[0]:span[1]])]
    blocks = [b for b in SequenceMatcher(None, window, claim, autojunk=False).get_matching_blocks() if b.size >= 2]
    if not blocks:
        return ""
    region = window[blocks[0].a: blocks[-1].a + blocks[-1].size]
    inner = claim[blocks[0].b: blocks[-1].b + blocks[-1].size]
    mine, theirs = Counter(_negations(claim)), Counter(_negations(region))
    extra = mine - theirs
    if extra:
        return next(iter(extra))
    missing = theirs - Counter(_negations(inner))
    if missing:
        return next(iter(missing))
    return ""


def _attribution(plain: str, p: _Passage, span: tuple[int, int]) -> str:
    """Whoever the claim credits must be credited by the passage for the same words."""
    claimed = [q for q in find_quotes(plain) if q.speaker and not q.via_pronoun]
    if not claimed:
        return ""
    theirs = find_quotes(p.text)
    for q in claimed:
        where = _locate(q.text, p.plain) if q.kind == "direct" else None
        s, e = where or span
        names = credited(theirs, s, e)
        if any(same_person(q.speaker, n) for n in names):
            continue
        if not names and _named_near(q.speaker, p, s, e):
            continue  # the passage credits no one it could parse, but names this speaker beside the words
        return q.speaker
    return ""


def _locate(quote: str, plain: str) -> tuple[int, int] | None:
    words = _TOKEN.findall(quote)
    if not words:
        return None
    m = re.search(r"\W+".join(re.escape(w) for w in words[:12]), plain, re.I)
    return (m.start(), m.end()) if m else None


def _named_near(speaker: str, p: _Passage, s: int, e: int) -> bool:
    around = p.plain[max(0, s - 200): e + 200].lower()
    surname = name_key(speaker).split()[-1:] or [""]
    return bool(surname[0]) and re.search(rf"\b{re.escape(surname[0])}\b", around) is not None


def _frame(plain: str, p: _Passage, span: tuple[int, int]) -> str:
    """A true quotation inside a false statement: the words outside the quote need the passage's support."""
    if not _QUOTE.search(plain):
        return ""
    frame = set(content_words(_QUOTE.sub(" ", plain)))
    if len(frame) < 2:
        return ""
    around = set(content_words(p.text[max(0, span[0] - 300): span[1] + 300]))
    if coverage(frame, around) >= 0.5:
        return ""
    return ", ".join(sorted(frame - around)[:4])
