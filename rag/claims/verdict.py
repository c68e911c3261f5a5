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
from ..quotes import credited, find_quotes, quote_spans
from ..sentences import statement_spans
from ..text import NOT_NAMES, SPEECH, fold, name_key, normalize, same_person
from .numbers import quantities

__all__ = ["Verdict", "judge", "RULES"]

RULES = ("empty", "quote", "words", "number", "date", "name", "polarity", "attribution", "frame")
_TOKEN = re.compile(r"\d[\d,.]*\d|[A-Za-z0-9][A-Za-z0-9'\-]*")
_NEGATIONS = frozenset("not no never none nobody nothing neither nor cannot without nowhere".split())
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "june", "july", "august", "september", "october", "november",
           "december")  # "May" is left to the name rule: it is also a verb
_EXTRA_SENTENCE = 0.2  # the coverage a neighbouring statement must add to join the window
_FRAME_COVERAGE = 0.8  # of the words around a quotation (names and speech verbs aside)
_AUXILIARY = frozenset("be been being is are was were am have has had do does did to a an the only also even yet ever "
                       "so as".split())
_QUOTE_BONUS = 0.1  # breaks a near tie between windows in favour of the one holding the claim's quote
_FUNCTION_HEADS = frozenset("their own its his her my our your any all every enough much many one there".split())
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
    bags = tuple(frozenset(content_words(plain[s:e])) for s, e in spans)  # folded, as the claim is
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
    quoted = [q for q in _quoted(plain) if len(q.split()) >= 2]
    for q in quoted:
        if not _quote_in(q, p.norm):
            return Verdict(False, "quote", q.strip())
    anchors = [at for q in quoted for at in _occurrences(q, p.plain)]
    span, cov, window = _best_window(words, p, anchors)
    if cov < threshold:
        missing = sorted(words - set().union(*(p.bags[i] for i in window)))
        return Verdict(False, "words", ", ".join(missing[:4]), span)
    for rule, test in (("number", _numbers), ("date", _dates), ("name", _names), ("polarity", _polarity),
                       ("attribution", _attribution), ("frame", _frame)):
        failed = test(plain, p, span)
        if failed:
            return Verdict(False, rule, failed, span)
    return Verdict(True, span=span)


def _quoted(plain: str) -> list[str]:
    return [plain[s:e] for s, e in quote_spans(plain)]


def _unquoted(plain: str) -> str:
    """The claim with the words inside quote marks blanked (same length)."""
    for s, e in quote_spans(plain):
        plain = plain[:s] + " " * (e - s) + plain[e:]
    return plain


def _quote_in(quote: str, norm_passage: str) -> bool:
    """Word for word, except for an ellipsis or [bracket] (the words on each side must follow in order), and
    two quoted sentences joined by ", and" where the passage has a full stop between them."""
    pieces = [x.strip(" ,.;:!?'") for x in re.split(r"\.\.\.|…|\[[^\]]*\]", normalize(quote))]
    pos = 0
    for piece in pieces:
        if not piece:
            continue
        at = norm_passage.find(piece, pos)
        if at < 0:
            at = _joined_at(piece, norm_passage, pos)
        if at < 0:
            return False
        pos = at + len(piece)
    return True


def _joined_at(piece: str, norm_passage: str, pos: int) -> int:
    parts = [x.strip(" ,") for x in re.split(r",? and (?:but |so )?", piece)]
    if len(parts) < 2 or any(len(x.split()) < 3 for x in (parts[0], parts[-1])):
        return -1
    first = start = norm_passage.find(parts[0], pos)
    while start >= 0 and len(parts) > 1:
        end = start + len(parts[0])
        nxt = norm_passage.find(parts[1], end)
        gap = norm_passage[end:nxt] if nxt >= 0 else "x" * 9
        if not re.fullmatch(r"[.!?]\s*|,? and |,? and (?:but|so) ", gap) and not re.fullmatch(r"[.!?]\s+", gap):
            return -1
        parts = [parts[0] + gap + parts[1]] + parts[2:]
    return first


def _best_window(words: set[str], p: _Passage, anchors: list[int] | None = None
                 ) -> tuple[tuple[int, int], float, tuple[int, ...]]:
    """The statement, or run of two or three neighbouring statements, that carries most of the claim (of two
    that carry it about as well, the one holding the claim's quotation)."""
    best = (-9.0, 0.0, (0,))
    n = len(p.spans)
    for i in range(n):
        bag: set[str] = set()
        for j in range(i, min(n, i + 3)):
            bag |= p.bags[j]
            c = coverage(words, bag)
            holds = any(p.spans[i][0] <= at < p.spans[j][1] for at in anchors or ())
            score = c - _EXTRA_SENTENCE * (j - i) + (_QUOTE_BONUS if holds else 0.0)  # longer must add support
            if score > best[0]:
                best = (score, c, tuple(range(i, j + 1)))
    _, cov, window = best
    return (p.spans[window[0]][0], p.spans[window[-1]][1]), cov, window


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
        a, b = _value(mine), _value(theirs)
        digits = any(c.isdigit() for c in mine) and any(c.isdigit() for c in theirs)
        if (a is not None and b is not None) or (digits and a is None and b is None):
            if (a != b) if a is not None else mine.lower() != theirs.lower():  # "6-7" where the passage has "6-0", "15" where it has "20"
                return next((q.text for q in quantities(plain) if mine in q.text), mine)
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
    outside = _unquoted(plain)
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


def _negated(tokens: list[str]) -> tuple[dict[str, str], set[str]]:
    """{word a negation applies to (stemmed): the negation} and the stems said without one."""
    negated: dict[str, str] = {}
    plain: set[str] = set()
    pending, left = "", 0
    for t in tokens:
        if t in _NEGATIONS or t.endswith("n't"):
            # two negations close together cancel ("not because I haven't been disgusted")
            pending, left = ("", 0) if pending and left > 0 else (t, 3)
            continue
        if t in _AUXILIARY:
            continue
        stems = content_words(t)
        if not stems and t not in _FUNCTION_HEADS:
            continue  # "not because", "not I": look on for the word the negation is about
        head = stems[0] if stems else t
        if pending and left > 0:
            negated.setdefault(head, pending)
            pending = ""
        else:
            plain.add(head)
        left -= 1
    return negated, plain


def _polarity(plain: str, p: _Passage, span: tuple[int, int]) -> str:
    """A word the claim negates that the passage states plainly, or one the passage negates that the claim
    states plainly (order-free, so "X said the plan was not approved" ~ "The plan was not approved, X said")."""
    mine_neg, mine_plain = _negated([t.lower() for t in _TOKEN.findall(plain)])
    their_neg, their_plain = _negated([t.lower() for t in _TOKEN.findall(p.plain[span[0]:span[1]])])
    for word, neg in mine_neg.items():
        if word in their_plain and word not in their_neg:
            return neg  # "has not sparked" where the passage says "has sparked"
    if not their_neg:
        return ""
    _, anywhere = _negated([t.lower() for t in _TOKEN.findall(p.plain)])
    for word, neg in their_neg.items():
        if word in mine_plain and word not in mine_neg and word not in anywhere:
            return neg  # "has sparked" where the passage says "has not sparked" (and nowhere says it plainly)
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
        return q.speaker
    return ""


def _occurrences(quote: str, plain: str) -> list[int]:
    words = _TOKEN.findall(quote)
    if not words:
        return []
    return [m.start() for m in re.finditer(r"\W+".join(re.escape(w) for w in words[:12]), plain, re.I)]


def _locate(quote: str, plain: str) -> tuple[int, int] | None:
    words = _TOKEN.findall(quote)
    if not words:
        return None
    m = re.search(r"\W+".join(re.escape(w) for w in words[:12]), plain, re.I)
    return (m.start(), m.end()) if m else None


def _frame(plain: str, p: _Passage, span: tuple[int, int]) -> str:
    """A true quotation inside a false statement: the words outside the quote need the passage's support."""
    if not quote_spans(plain):
        return ""
    outside = _unquoted(plain)
    named = set(content_words(" ".join(t for t in _TOKEN.findall(outside) if t[0].isupper())))
    verbs = set(content_words(" ".join(SPEECH.findall(outside))))
    frame = set(content_words(outside)) - named - verbs  # names have their own rule; "stated" may say "said"
    if not frame:
        return ""
    around = set(content_words(p.plain[max(0, span[0] - 300): span[1] + 300]))
    if coverage(frame, around) >= _FRAME_COVERAGE:
        return ""
    return ", ".join(sorted(frame - around)[:4])
