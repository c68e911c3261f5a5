"""Does a passage state a claim? Three verdicts, each naming the rule and the word that decided it:

- *supported*: the passage states it (every rule below passes);
- *contradicted*: the passage states something incompatible in the place the claim lines up with it: another
  number, date or name in the same slot, the roles of two names swapped, the opposite polarity or an antonym,
  a past tense for what the passage says will happen, a quotation altered, words credited to someone else;
- *unconfirmed*: the passage neither states nor contradicts it (words, names or numbers it does not hold, a
  hedge, condition, quantifier or superlative the claim drops or adds, a claim the passage calls false).

Only a contradiction is evidence that a sentence is false; an unconfirmed sentence may be true (a paraphrase
the rules cannot follow), so callers must not present it as cited fact, but need not delete it either.

The rules, in the order they are tried (the first that fails is the reason):
- quote: every quotation in the claim is in the passage, word for word;
- words: the passage (one statement, or two or three neighbouring ones) carries the claim's content words;
- number: every number, with its unit and scale, is one the passage states (as often as the claim does);
- date: weekdays and months occur in the passage as often as in the claim;
- name: every capitalised name in the claim occurs in the passage;
- polarity: the claim negates what the passage does not, or drops a negation the passage has;
- attribution: words or a position the claim credits to X are credited to X by the passage (rag/attribution/quotes.py);
- frame: the words around a quotation are the passage's too, not only the quote.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import lru_cache

from rag.attribution.quotes import credited, credited_quotes, find_quotes, quote_spans
from rag.nlp.calendar import MONTH_NAMES, WEEKDAYS, calendar_days
from rag.nlp.tags import name_kinds, proper_nouns
from rag.nlp.injection import without_instructions
from rag.nlp.lexical import content_words
from rag.nlp.lexicon import (
    APPROXIMATE,
    AT_LEAST,
    AT_MOST,
    CONDITIONS,
    DENIALS,
    FUTURE,
    HEDGES,
    MONTH_ABBREVIATIONS,
    NEGATING_VERBS,
    ORDINALS,
    QUANTIFIERS,
    SUPERLATIVES,
    alternatives,
    antonyms,
    place_names,
    same_place,
    same_scope,
    fractions,
)
from rag.nlp.numbers import quantities
from rag.nlp.sentences import statement_spans
from rag.nlp.text import (CUE_VERB, NOT_NAMES, SPEECH, TITLE_ABBREVIATIONS, fold, name_key, normalize, plain_letters,
                          same_person)

__all__ = ["Verdict", "judge", "states_nothing", "says_sources_lack", "RULES", "VERDICTS", "SUPPORT_THRESHOLD"]

RULES = ("empty", "quote", "words", "number", "date", "name", "roles", "polarity", "antonym", "tense",
         "attribution", "frame", "hedge", "request", "scope", "debunked", "clause", "absence")
VERDICTS = ("supported", "contradicted", "unconfirmed")
_TOKEN = re.compile(r"\d[\d,.]*\d|[A-Za-z0-9][A-Za-z0-9'\-]*")
_NEGATIONS = frozenset("not no never none nobody nothing neither nor cannot without nowhere".split())
_DAYS = WEEKDAYS
_MONTHS = tuple(m for m in MONTH_NAMES if m != "may")  # "May" is left to the name rule: it is also a verb
_EXTRA_SENTENCE = 0.2  # the coverage a neighbouring statement must add to join the window
_FRAME_COVERAGE = 0.8  # of the words around a quotation (names and speech verbs aside)
_FRAME_QUOTE_WORDS = 3  # the shortest quotation whose frame is judged (chosen on RAGTruth's dev half: 2-5 tried)
_AUXILIARY = frozenset("be been being is are was were am have has had do does did to a an the only also even yet ever "
                       "so as".split())
_QUOTE_BONUS = 0.1  # breaks a near tie between windows in favour of the one holding the claim's quote
_FUNCTION_HEADS = frozenset("their own its his her my our your any all every enough much many one there".split())
_INITIAL = '.!?:;"(—-'


@dataclass(frozen=True)
class Verdict:
    ok: bool  # supported
    rule: str = ""  # which rule failed (one of RULES), "" when ok
    detail: str = ""  # the word, number, name or quote that failed it
    span: tuple[int, int] = (0, 0)  # the passage span that best supports the claim (offsets in the passage)
    contradicted: bool = False  # the passage states something incompatible (else, when not ok: unconfirmed)
    coverage: float = 0.0  # the share of the claim's content words the best window holds

    @property
    def verdict(self) -> str:
        return "supported" if self.ok else "contradicted" if self.contradicted else "unconfirmed"


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
    words: frozenset  # every content word of the passage
    calendar: tuple  # (month, day, start, end) of each calendar day it names ("Oct. 7")
    named_days: frozenset  # (month, day) of those
    # what the question asked already states (judge's `premise`): names, numbers and days the claim may repeat
    # from it without the passage writing them; they never overrule what the passage says in the same place
    premise_keys: frozenset = frozenset()
    premise_numbers: tuple = ()
    premise_days: frozenset = frozenset()
    premise_words: frozenset = frozenset()  # the question's content words (a quotation's frame may repeat them)


@lru_cache(maxsize=2048)
def _passage(text: str) -> _Passage:
    clean = without_instructions(plain_letters(text))  # accented letters plain, as in the claim (same length)
    plain = fold(clean)
    spans = tuple((s, e) for s, e in statement_spans(clean) if clean[s:e].strip()) or ((0, len(clean)),)
    bags = tuple(frozenset(content_words(plain[s:e])) for s, e in spans)  # folded, as the claim is
    raw = _TOKEN.findall(plain)
    toks = [_key(t) for t in raw]
    keys = frozenset(toks) | frozenset(p for t in toks for p in t.split("-"))
    # a capitalised AP abbreviation is its month ("Oct. 7" states October, as the claim's "Oct." reads)
    months = [_month(t) if t[:1].isupper() else k for t, k in zip(raw, toks)]
    keys |= frozenset(months)
    days = Counter(k for k in months if k in _DAYS or k in _MONTHS)
    days_named = tuple(calendar_days(plain))
    return _Passage(clean, plain, spans, bags, normalize(clean), keys, days, _counts(quantities(clean), days_named),
                    frozenset().union(*bags), days_named, frozenset((m, d) for m, d, _, _ in days_named))


def _plain(text: str) -> str:
    """Any text as the check reads it: accented letters plain, then typographic marks plain (same length)."""
    return fold(plain_letters(text))


def _key(token: str) -> str:
    t = token.lower()
    return t[:-2] if t.endswith("'s") else t.rstrip("'")


# the share of a claim's content words its passage must carry (Settings.support_threshold: chosen with
# _SPREAD_COVERAGE on the dev half of RAGTruth's human-labelled model sentences, docs/EVALUATION.md, session 25:
# the setting with the best balanced accuracy among those confirming at most 0.15 of the hallucinated sentences)
SUPPORT_THRESHOLD = 0.58


_WH = re.compile(r"(?i)\b(?:who|whom|whose|what|which|when|where|why|how)\b")


@lru_cache(maxsize=256)
def _premise(question: str) -> tuple[frozenset, frozenset, tuple, frozenset]:
    """(the question's word keys, its names' keys, its numbers, its days) when it asks who/what/which/when/where/
    why/how; nothing for a yes/no question, whose every word is what is asked ("Did the strike end on Oct. 3?")."""
    plain = _plain(question)
    if not _WH.search(plain):
        return frozenset(), frozenset(), (), frozenset()
    raw = _TOKEN.findall(plain)
    toks = [_month(t) for t in raw]
    keys = frozenset(toks) | frozenset(x for t in toks for x in t.split("-"))
    names = frozenset(_key(t) for t in raw[1:] if _is_name(t))
    return keys, names, tuple(quantities(plain)), frozenset((m, d) for m, d, _, _ in calendar_days(plain))


def _read(passage: str, premise: str = "") -> _Passage:
    """The parsed passage, with the question's premise (judge's `premise`) when the passage is about the story
    asked about: it names something else the question names."""
    p = _passage(passage)
    if premise:
        keys, names, numbers, days = _premise(premise)
        if names & p.keys:
            return replace(p, premise_keys=keys, premise_numbers=numbers, premise_days=days,
                           premise_words=frozenset(content_words(_plain(premise))))
    return p


def judge(claim: str, passage: str, *, threshold: float = SUPPORT_THRESHOLD, premise: str = "") -> Verdict:
    """Does `passage` state `claim`? Supported, contradicted or unconfirmed, with the rule and word that decided.
    `premise`: the question the claim answers. A name, number or day the claim repeats from it is the asker's
    own premise and need not be written in the passage ("Which country leads Europe in aid to Ukraine?" →
    "Estonia leads Europe in aid …" against "Estonia leads the way"); its words still count towards the share
    the passage must carry, and a passage that says otherwise in the same place still contradicts it. Only a
    passage that names something else the question names is about the story asked about (one about another
    port's strike does not take the asker's "Halvorsen port" as given)."""
    p = _read(passage, premise)
    plain = _plain(claim).strip()
    # how the answer talks about its sources is not what it states (blanked, same length)
    plain = _DISCOURSE.sub(lambda m: " " * len(m.group(0)), plain)
    words = set(content_words(plain))
    if not words:
        # nothing beyond a pleasantry or a remark about the sources: nothing in it can be false ("Sure!", "I hope
        # this helps!"); a bare yes or no answers what was asked, which no passage is read as saying
        return Verdict(states_nothing(claim), "empty", _plain(claim).strip()[:40])
    quoted = [q for q in _quoted(plain) if len(q.split()) >= 2]
    for q in quoted:
        if not _quote_in(q, p.norm):
            return Verdict(False, "quote", q.strip(), contradicted=_misquoted(q, p.norm))
    anchors = [at for q in quoted for at in _occurrences(q, p.plain)]
    span, cov, window = _best_window(words, p, anchors)
    lacking = says_sources_lack(claim)  # read before the remarks about sources are blanked
    if lacking:  # what the sources do not say: no passage confirms or contradicts it, whatever words it holds
        return Verdict(False, "absence", lacking, span, False, cov)
    if cov < threshold and _covered(words, p.words) >= _SPREAD_COVERAGE:
        cov = max(cov, threshold)  # facts spread over the passage ("X's food bank … It served 4,000 families …")
    if cov < threshold:
        # too little of the claim is there to call it stated; what lines up may still contradict it
        clash = _clash(plain, p, span) if cov >= _CLASH_COVERAGE else ("", "")
        if clash[0]:
            return Verdict(False, clash[0], clash[1], span, True, cov)
        missing = sorted(words - _support(p, window))
        return Verdict(False, "words", ", ".join(missing[:4]), span, False, cov)
    for rule, test in _RULES:
        failed, contradicted = test(plain, p, span)
        if failed:
            return Verdict(False, rule, failed, span, contradicted, cov)
    return Verdict(True, span=span, coverage=cov)


# How a model's answer talks about its sources and links its sentences, not what it states: "Sure!", "Based on
# the provided passages, …", "According to the article, …", "The passage also mentions that …", "However, …"
_NUMBERED = r"(?:\s*#?\d+(?:\s*(?:,|&|and)\s*\d+)*)"  # "passage 2", "passages 2 & 3"
_SOURCE = (r"(?:given |provided |above |available )?"
           rf"(?:passages?{_NUMBERED}?|articles?|texts?|information|context|sources?|documents?)")
_DISCOURSE = re.compile(
    r"(?i)^\s*(?:(?:sure|certainly)\b[!,.:]?|(?:yes|no)[!,.:])"  # not the "No" of "No ferry will stop"
    rf"|\b(?:based on|according to|from|in|as (?:mentioned|stated|noted|described|shown) in) "
    rf"(?:the |these |this )?{_SOURCE}\b,?"
    rf"|\(\s*(?:see |from |in )?passages?{_NUMBERED}\s*\)"
    rf"|\b(?:as )?(?:the passages?|the article|the text|the author|passages?{_NUMBERED})s? (?:also )?"
    r"(?:states?|mentions?|notes?|says?|explains?|suggests?|highlights?|describes?|reports?|discuss(?:es)?|"
    r"provides?|recommends?|indicates?)(?: that)?\b"
    r"|^\s*(?:however|additionally|moreover|furthermore|therefore|overall|in addition|in conclusion|finally|also)\b,?"
    # pleasantries of a chat answer
    r"|\bi hope (?:this|that|it) helps\b|\blet me know if you have any (?:\w+ )?questions?\b|\bgood luck\b"
    r"|\b(?:i can|i'd be happy to|i would be happy to|happy to) help(?: you)?(?: with (?:that|this))?\b"
    r"|\bhere(?:'s| is) (?:my|the) answer\b")
_YES_NO = re.compile(r"(?i)^\W*(?:yes|no)\b")


def states_nothing(claim: str) -> bool:
    """Is the sentence no claim at all: only a pleasantry or a remark about the sources ("Sure!", "I hope this
    helps!")? It is kept as written, with no [n] and no mark. A bare yes or no is a claim, and so is a fragment
    with no content word ("B.B.", initials cut from their name): only what the remark's words leave is nothing."""
    plain = _plain(claim).strip()
    return bool(_DISCOURSE.search(plain)) and not _YES_NO.match(plain) \
        and not content_words(_DISCOURSE.sub(" ", plain))

# a claim whose words the whole passage carries this fully counts as stated even when no run of three statements
# does (chosen with SUPPORT_THRESHOLD on the dev half of RAGTruth by source, docs/EVALUATION.md; 0.75 until
# session 25: facts gathered from all over a passage are where a model conflates, so they must be nearly all there)
_SPREAD_COVERAGE = 0.85
_CLASH_COVERAGE = 0.34  # below this, what lines up with the passage is too little to contradict it


def unstated_name(claim: str, passage: str, premise: str = "") -> str:
    """The first name the claim gives that the passage nowhere writes ("" if none). Like a day, a name is an
    exact fact: the LLM's reading does not confirm "Taylor Swift welcomed Beyoncé" from a passage without her."""
    p = _read(passage, premise)
    return _absent_name(_initials_joined(_plain(claim).strip(), p), p, given_name=True)


# The LLM pass may confirm a sentence only where one stretch of the passage holds at least this share of the
# sentence's own content words (those the question does not give). Chosen on RAGTruth's dev half with the local
# model's recorded readings (benchmarks/llm_pass_replay.py): its confirmations below it were its least reliable.
LLM_MIN_COVERAGE = 0.5


def coverage_beyond(claim: str, passage: str, premise: str = "") -> float:
    """The share of the claim's content words that the question (`premise`) does not give which the passage's
    best-matching stretch holds (1.0 when the claim adds no word of its own)."""
    p = _read(passage, premise)
    words = set(content_words(_plain(claim).strip())) \
        - (set(content_words(_plain(premise).strip())) if premise else set())
    if not words:
        return 1.0
    return _best_window(words, p)[1]


def unstated_day(claim: str, passage: str, premise: str = "") -> str:
    """The first day of the calendar the claim names ("Oct. 10", "2023-10-10") that the passage's text does not
    ("" if none). A date is an exact fact, like a quotation: no reading, the LLM's included, confirms one the text
    lacks (a passage's publication date is not the day of what it reports)."""
    p = _read(passage, premise)
    plain = _plain(claim)
    return next((plain[s:e] for m, d, s, e in calendar_days(plain)
                 if (m, d) not in p.named_days and (m, d) not in p.premise_days), "")


def _clash(plain: str, p: "_Passage", span: tuple[int, int]) -> tuple[str, str]:
    """(rule, word) of a contradiction in the words that line up with the passage, or ("", "")."""
    for rule, test in (("number", _numbers), ("date", _dates), ("name", _names), ("roles", _roles),
                       ("antonym", _antonyms), ("polarity", _polarity), ("tense", _tense)):
        failed, contradicted = test(plain, p, span)
        if failed and contradicted:
            return rule, failed
    return "", ""


def _support(p: "_Passage", window: tuple[int, ...]) -> set[str]:
    return set().union(*(p.bags[i] for i in window))


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


def _covered(words: set[str], bag: set[str] | frozenset[str]) -> float:
    """The share of the claim's content words the bag holds, itself or as a paraphrase ("cut" for "laid off")."""
    if not words:
        return 0.0
    return sum(1 for w in words if w in bag or not alternatives(w).isdisjoint(bag)) / len(words)


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
            c = _covered(words, bag)
            holds = any(p.spans[i][0] <= at < p.spans[j][1] for at in anchors or ())
            score = c - _EXTRA_SENTENCE * (j - i) + (_QUOTE_BONUS if holds else 0.0)  # longer must add support
            if score > best[0]:
                best = (score, c, tuple(range(i, j + 1)))
    _, cov, window = best
    return (p.spans[window[0]][0], p.spans[window[-1]][1]), cov, window


@lru_cache(maxsize=4096)
def _swapped(plain: str, window: str) -> tuple[tuple[str, str], ...]:
    """(claim word, passage word) for each one-word substitution where the claim lines up with the passage:
    "up to 15%" against "up to 20%" gives ("15", "20"). Only substitutions with the same word on each side (or
    the claim's edge) count: elsewhere the two texts do not line up."""
    claim = _TOKEN.findall(plain)
    theirs = _TOKEN.findall(window)
    sm = SequenceMatcher(None, [t.lower() for t in theirs], [t.lower() for t in claim], autojunk=False)
    ops = sm.get_opcodes()
    out = []
    for k, (op, a0, a1, b0, b1) in enumerate(ops):
        if op != "replace" or min(a1 - a0, b1 - b0) > 2:
            continue
        before = k > 0 and ops[k - 1][0] == "equal"
        after = k < len(ops) - 1 and ops[k + 1][0] == "equal"
        if a1 - a0 == b1 - b0 and (before or after):
            out.extend(zip(claim[b0:b1], theirs[a0:a1]))
        elif before and b1 - b0 <= 2:  # "opens in May" against "opens in June, the council said"
            out.extend(zip(claim[b0:b1], theirs[a0:a0 + b1 - b0]))
        elif after and b1 - b0 <= 2:  # "May opening" against "... and a June opening"
            out.extend(zip(claim[b0:b1], theirs[a1 - (b1 - b0):a1]))
    return tuple(out)


@lru_cache(maxsize=4096)
def _subject_swap(plain: str, statement: str) -> tuple[str, str] | None:
    """The subject swapped before a run of six or more words the two share word for word ("The Chamber of
    Commerce plans to raise the price of …" against "Cafe owner Luis Ortega plans to raise the price of …")."""
    claim = _TOKEN.findall(plain)
    theirs = _TOKEN.findall(statement)
    ops = SequenceMatcher(None, [t.lower() for t in theirs], [t.lower() for t in claim], autojunk=False).get_opcodes()
    if len(ops) < 2 or ops[0][0] != "replace" or ops[1][0] != "equal" or ops[1][2] - ops[1][1] < 6:
        return None
    _, a0, a1, b0, b1 = ops[0]
    if b1 - b0 > 5 or a1 - a0 > 5:
        return None
    mine = [t for t in claim[b0:b1] if _is_name(t)]
    names = [t for t in theirs[a0:a1] if _is_name(t)]
    if mine and names and not {_key(t) for t in mine} & {_key(t) for t in names}:
        return mine[0], names[0]
    return None


def _statement_swaps(plain: str, p: _Passage, span: tuple[int, int]) -> frozenset[tuple[str, str]]:
    """Tight substitutions against each statement of the window on its own (against the whole window the
    claim's name may line up with the same name in a neighbouring statement)."""
    out: set[tuple[str, str]] = set()
    for s, e in p.spans:
        if s < span[1] and span[0] < e:
            out |= _tight_swaps(plain, p.plain[s:e])
            subject = _subject_swap(plain, p.plain[s:e])
            if subject:
                out.add(subject)
    return frozenset(out)


@lru_cache(maxsize=4096)
def _tight_swaps(plain: str, window: str) -> frozenset[tuple[str, str]]:
    """Substitutions of one or two words with at least three equal words before them and the same words (or the
    claim's end) after: "The report was written by Dana Cole" against "The report was written by Ed Fox and …"."""
    claim = _TOKEN.findall(plain)
    theirs = _TOKEN.findall(window)
    ops = SequenceMatcher(None, [t.lower() for t in theirs], [t.lower() for t in claim], autojunk=False).get_opcodes()
    out = set()
    for k, (op, a0, a1, b0, b1) in enumerate(ops):
        if op != "replace" or b1 - b0 > 2 or k == 0 or a1 - a0 < b1 - b0:
            continue
        prev = ops[k - 1]
        if prev[0] != "equal" or prev[2] - prev[1] < 3:
            continue
        if b1 == len(claim) or (a1 - a0 == b1 - b0 and k + 1 < len(ops) and ops[k + 1][0] == "equal"):
            out.update(zip(claim[b0:b1], theirs[a0:a0 + b1 - b0]))
    return frozenset(out)


def _negation_moved(plain: str, window: str) -> str:
    """A negation the claim adds or drops where it otherwise reads as the passage, word for word on each side
    ("was not approved" against "was approved")."""
    claim = [t.lower() for t in _TOKEN.findall(plain)]
    theirs = [t.lower() for t in _TOKEN.findall(window)]
    ops = SequenceMatcher(None, theirs, claim, autojunk=False).get_opcodes()
    for k, (op, a0, a1, b0, b1) in enumerate(ops):
        if op not in ("insert", "delete") or not (0 < k < len(ops) - 1):
            continue
        if ops[k - 1][0] != "equal" or ops[k + 1][0] != "equal":
            continue
        if ops[k - 1][2] - ops[k - 1][1] < 2 or ops[k + 1][2] - ops[k + 1][1] < 1:
            continue
        moved = claim[b0:b1] if op == "insert" else theirs[a0:a1]
        neg = next((t for t in moved if t in _NEGATIONS or t.endswith("n't")), "")
        if neg and len(moved) <= 2:
            return neg
    return ""


def _value(token: str) -> float | None:
    found = quantities(token)
    return found[0].value if len(found) == 1 and found[0].text == token else None


def _is_year(q) -> bool:
    return q.unit is None and 1800 <= q.value <= 2100 and q.value == int(q.value) and "," not in q.text


def _qualifier(plain: str, at: int) -> str:
    """"approximate", "at_least", "at_most" or "" for the words just before a number in the claim."""
    before = plain[max(0, at - 24):at].lower().rstrip(" $£€¥")
    for kind, words in (("at_least", AT_LEAST), ("at_most", AT_MOST), ("approximate", APPROXIMATE)):
        if any(before.endswith(" " + w) or before == w for w in words):
            return kind
    return ""


def _rounds_to(q, x) -> bool:
    """Is the claim's number the passage's, rounded (49 for 48.7; 1,200 for 1,214; $1.2 billion for $1.23 billion)?"""
    if x.value == 0 or q.value == 0 or not (math.isfinite(x.value) and math.isfinite(q.value)):
        return False  # hundreds of digits (a model's runaway output) parse past a float's range: no rounding
    digits = re.sub(r"[^\d]", "", q.text.split(".")[0]).lstrip("0") + "".join(re.findall(r"\.(\d+)", q.text))
    significant = len(digits.rstrip("0")) or 1
    mine_x = re.sub(r"[^\d]", "", x.text).lstrip("0").rstrip("0")
    if significant >= len(mine_x):
        return False  # the claim is not the rounder of the two
    magnitude = 10 ** (math.floor(math.log10(abs(x.value))) - significant + 1)
    return abs(round(x.value / magnitude) * magnitude - q.value) <= 1e-9 * max(1.0, abs(q.value))


def _near(q, x, kind: str) -> bool:
    """Does the qualified claim number agree with the passage's ("nearly 49%" for 48.7%, "more than 1,200" for
    1,214)? Units must agree as for equal numbers."""
    if not (q.unit == x.unit or (q.unit is None or x.unit is None) and "%" not in (q.unit, x.unit)):
        return False
    if kind == "at_least":
        return q.value <= x.value <= q.value * 1.5
    if kind == "at_most":
        return q.value / 1.5 <= x.value <= q.value
    return abs(q.value - x.value) <= 0.1 * abs(x.value)


def _counts(found: list, days: tuple | list) -> tuple:
    """The quantities that are not the day of a calendar date: the 16 of "as of Sept. 16" is a date (the date
    rules judge it), not a count, so it does not state "16 free tests"."""
    return tuple(q for q in found
                 if not any(q.start < e and s < q.end and q.value == d and not _is_year(q) for _, d, s, e in days))


def _numbers(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """A number the passage gives otherwise in the same place contradicts; one it does not give is unconfirmed,
    and so is one it gives only outside the statements that carry the claim while those put another in its place
    (a figure moved from another quantity). Rounded and qualified numbers agree with the exact figure ("nearly 49
    percent" for 48.7 percent). The day of a calendar date is left to the date rules, on both sides."""
    mine_all = list(_counts(quantities(plain), calendar_days(plain)))
    shares = fractions(p.plain)
    for mine, theirs in _swapped(plain, p.plain[span[0]:span[1]]):
        if {mine.lower(), theirs.lower()} <= ORDINALS and mine.lower() != theirs.lower():
            return mine, True  # "the first debate" where the passage, lined up, says "the second debate"
        a, b = _value(mine), _value(theirs)
        digits = any(c.isdigit() for c in mine) and any(c.isdigit() for c in theirs)
        if (a is not None and b is not None) or (digits and a is None and b is None):
            if (a != b) if a is not None else mine.lower() != theirs.lower():
                q = next((q for q in mine_all if mine in q.text), None)
                if q is None or not _agrees(q, plain, list(p.numbers), shares):
                    return (q.text if q else mine), True
                if not _agrees(q, plain, [x for x in p.numbers if span[0] <= x.start < span[1]], shares) \
                        and not _REFERENCE_NUMBER.search(plain[:q.start]):
                    # the passage gives this number, but elsewhere: where the claim lines up with it, the
                    # passage has another ("a height of 7 inches" against "a height of 5 inches", 7 being some
                    # other measure further on). A figure moved to another quantity is not confirmed.
                    return q.text, False
    left = list(p.numbers)
    for q in mine_all:
        match = next((i for i, x in enumerate(left) if q.same(x)), None)
        if match is not None:
            if _opposite_bounds(q, plain, p):
                return q.text, True  # "just over 270" where the passage says "just under 270"
            left.pop(match)
            continue
        if not _agrees(q, plain, left, shares) and not any(q.same(x) for x in p.premise_numbers):
            return q.text, False
    return "", False


# A number that names one of the answer's sources ("Passage 2", "source 3"), not a quantity of the news.
_REFERENCE_NUMBER = re.compile(r"(?i)\b(?:passages?|sources?|articles?|documents?)\s*#?\s*$")


def _opposite_bounds(q, plain: str, p: _Passage) -> bool:
    """Does the claim bound its number one way ("more than 270") where every place the passage gives that number
    bounds it the other ("fewer than 270")? Bounds that agree, or a number the passage gives plainly, do not clash."""
    mine = _qualifier(plain, q.start)
    if mine not in ("at_least", "at_most"):
        return False
    other = "at_most" if mine == "at_least" else "at_least"
    same = [x for x in p.numbers if q.same(x)]
    return bool(same) and all(_qualifier(p.plain, x.start) == other for x in same)


def _agrees(q, plain: str, theirs: list, shares: list[float]) -> bool:
    if q.unit == "%" and any(abs(q.value - s) <= 1.0 for s in shares):
        return True  # "50%" for "half"
    if _is_year(q):
        return any(q.same(x) for x in theirs)
    kind = _qualifier(plain, q.start)
    return any(q.same(x) or (kind and _near(q, x, kind)) or (q.unit == x.unit and _rounds_to(q, x))
               for x in theirs)


def _month(token: str) -> str:
    k = _key(token)
    return MONTH_ABBREVIATIONS.get(k, k)


def _dates(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    for mine, theirs in _swapped(plain, p.plain[span[0]:span[1]]):
        a, b = _month(mine), _month(theirs)
        # "May" is a month only capitalised and where the other side has a month or weekday ("may" is a verb)
        mine_date = a in _DAYS or a in _MONTHS or (mine == "May" and (b in _DAYS or b in _MONTHS))
        their_date = b in _DAYS or b in _MONTHS or (theirs == "May" and (a in _DAYS or a in _MONTHS))
        if a != b and mine_date and their_date:
            return mine, True
    # a day of the calendar ("Oct. 10", "2023-10-10") must be one the passage names (another day of that month
    # where the claim lines up with the passage was caught before the numbers, by _calendar_clash)
    for m, d, s, e in calendar_days(plain):
        if (m, d) not in p.named_days and (m, d) not in p.premise_days:
            return plain[s:e], False
    days = Counter(t for t in (_month(x) for x in _TOKEN.findall(plain)) if t in _DAYS or t in _MONTHS)
    for day, count in days.items():
        if p.days[day] < count and day not in p.premise_keys:
            return day.capitalize(), False
    return "", False


def _calendar_clash(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """"Oct. 21" where the passage, lined up with the claim, says "Oct. 12": another day of the same month. Checked
    before the numbers, which would find the claim's 21 elsewhere in the passage ("shut for 21 days")."""
    here = {(m, d) for m, d, s, _ in p.calendar if span[0] <= s < span[1]}
    swaps = _swapped(plain, p.plain[span[0]:span[1]])
    for m, d, s, e in calendar_days(plain):
        if (m, d) not in p.named_days and any(mine == str(d) and theirs.isdigit() and (m, int(theirs)) in here
                                        for mine, theirs in swaps):
            return plain[s:e], True
    return "", False


def _is_name(tok: str) -> bool:
    return bool(tok) and tok[0].isupper() and tok not in NOT_NAMES and bool(name_key(tok)) \
        and tok not in ("I", "I'm", "I've", "I'd", "I'll")


_STOPPED_INITIALS = re.compile(r"\b(?:[A-Z]\.){2,4}(?!\w)")


def _initials_joined(plain: str, p: _Passage) -> str:
    """"U.S." where the passage does not write it so is one name, "US" (else its letters would be read one by one)."""
    return _STOPPED_INITIALS.sub(lambda m: m.group(0) if m.group(0) in p.plain else m.group(0).replace(".", ""), plain)


def _names(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """Each capitalised word outside quotation marks must occur near the claim's place in the passage (a name
    from another part of the passage does not confirm it); a name where the passage has another name in the
    same place contradicts it ("Trump signed the bill" against "Biden signed the bill"). A sentence's first
    word counts as a name only when the tagger tags it one (rag/nlp/tags.py)."""
    plain = _initials_joined(plain, p)
    window = p.plain[span[0]:span[1]]
    tight = _statement_swaps(plain, p, span)
    subjects = [pair for s, e in p.spans if s < span[1] and span[0] < e
                for pair in [_subject_swap(plain, p.plain[s:e])] if pair]
    for mine, theirs in (*_swapped(plain, window), *subjects):
        if _is_name(mine) and _is_name(theirs) and _key(mine) != _key(theirs) and _month(mine) not in _MONTHS \
                and (not _written(_key(mine), p) or (mine, theirs) in tight) \
                and not _acronym_of(mine, window) and not _acronym_of(theirs, plain) and not same_place(mine, theirs) \
                and not _variant(_key(mine), _key(theirs)) and not _common_first_word(plain, mine) \
                and len(theirs) > 1:  # "U" of "U.N.": a letter of an abbreviation, not a name
            return mine, not _may_be_one(mine, plain, theirs, window)
    return _absent_name(plain, p), False


# Places nest ("Mukalla" is in Yemen, "Washington" in DC) and a people or party may describe a place's affairs
# ("the 2024 Republican presidential race" is a US race); the check knows no map, so such a name in place of another
# leaves the claim unconfirmed, not contradicted. Two peoples or parties ("Canadian" / "American", "Democratic" /
# "Republican") and other names (people, organisations, events) still contradict.
_PLACES = frozenset({"GPE", "LOC", "FAC"})


def _may_be_one(mine: str, plain: str, theirs: str, window: str) -> bool:
    """Whether two names the claim and the passage write in the same place may still both be true: a spelling one
    letter apart ("Volume" / "Volum"), a place on either side, or a people or party against something else (the
    entity recogniser, rag/nlp/tags.py; without it installed, a swap contradicts as before)."""
    if len(mine) >= 5 and _one_edit(*sorted((mine.lower(), theirs.lower()), key=len)):
        return True
    kinds_mine, kinds_theirs = name_kinds(plain), name_kinds(window)
    if kinds_mine is None or kinds_theirs is None:
        return False
    a, b = (kinds.get(re.sub(r"['’]s$", "", name), frozenset())  # spaCy splits off "'s"
            for kinds, name in ((kinds_mine, mine), (kinds_theirs, theirs)))
    return bool((a | b) & _PLACES) or (("NORP" in a) != ("NORP" in b))


def _absent_name(plain: str, p: _Passage, given_name: bool = False) -> str:
    """The first name outside quotation marks that the passage nowhere writes (nor its plural, people, spelling
    variant or initials, nor the question's premise); "" if none. `given_name`: a first name standing before a
    surname the passage writes counts as written."""
    outside = _unquoted(plain)
    toks = list(_TOKEN.finditer(outside))
    for i, m in enumerate(toks):
        tok = m.group(0)
        if not tok[0].isupper() or tok in ("I", "I'm", "I've", "I'd", "I'll"):
            continue
        before = outside[:m.start()].rstrip()
        if tok in ("AM", "PM") and before[-1:].isdigit():
            continue  # "3 PM" is a time of day ("3pm")
        initial = not before or before[-1] in _INITIAL
        if initial:
            nxt = toks[i + 1].group(0) if i + 1 < len(toks) else ""
            joined = nxt and outside[m.end():toks[i + 1].start()].strip() == ""
            tagged = proper_nouns(outside)
            if tok in NOT_NAMES or (not (joined and nxt[0].isupper()) if tagged is None else m.start() not in tagged):
                continue  # a first word is a name only if tagged one ("Trump signed", not "Place the ribs")
        key = _month(tok)
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if given_name and nxt is not None and outside[m.end():nxt.start()] == " " and nxt.group(0)[0].isupper() \
                and _key(nxt.group(0)) in p.keys:
            continue  # a first name before the surname the passage gives ("Sebastian Vettel" for "Vettel")
        if not name_key(tok) or _written(key, p) or all(part in p.keys for part in key.split("-") if part) \
                or p.keys & place_names(tok) or key in p.premise_keys \
                or TITLE_ABBREVIATIONS.get(key) in p.keys \
                or (len(key) >= 6 and any(_variant(key, k) for k in p.keys if abs(len(k) - len(key)) <= 1)) \
                or _initials_in(outside, m.start(), p.plain):
            continue
        if _acronym_of(tok, p.plain):
            continue
        return tok
    return ""


def _written(key: str, p: _Passage) -> bool:
    """Does the passage write this name key, or its plural, people or language ("UFO" where it has "UFOs")?"""
    return key in p.keys or any(v in p.keys for v in _variants(key))


# the endings that make one name of two spellings: a plural, a people or language ("Houthi" and "Houthis",
# "Yemen" and "Yemeni", "Asia" and "Asian", "Republican" and "Republicans")
_NAME_ENDINGS = ("s", "es", "i", "is", "n", "an", "ans", "ian", "ians", "ese", "ish")


def _variants(key: str) -> list[str]:
    """The other spellings of a name key, by _NAME_ENDINGS added or taken off (a stem of four letters or more)."""
    out = [key + e for e in _NAME_ENDINGS]
    out += [key[:-len(e)] for e in _NAME_ENDINGS if key.endswith(e) and len(key) - len(e) >= 4]
    return out


def _variant(a: str, b: str) -> bool:
    """Two spellings of one name: an ending of _NAME_ENDINGS, a hyphenated form ("Saudi-led" and "Saudi"), or
    for names of six letters or more one letter changed, added or left out ("Defence" and "Defense")."""
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and long_.startswith(short) and long_[len(short):] in _NAME_ENDINGS:
        return True
    if short in long_.split("-"):
        return True
    return len(short) >= 6 and len(long_) - len(short) <= 1 and _one_edit(short, long_)


_NAME_RUN = re.compile(r"[A-Z][\w'-]*(?:\s+(?:(?:of|the|for|and|on)\s+)*[A-Z][\w'-]*)+")


def _initials_in(text: str, at: int, passage: str) -> bool:
    """Is the word at `at` part of a run of capitalised words whose initials the passage writes as an acronym
    ("United Nations" where the passage has "U.N." or "UN")?"""
    for m in _NAME_RUN.finditer(text):
        if m.start() <= at < m.end():
            caps = [w for w in re.finditer(r"\S+", m.group(0)) if w.group(0)[0].isupper()]
            k = next(i for i, w in enumerate(caps) if m.start() + w.start() <= at < m.start() + w.end())
            for i in range(k + 1):  # each stretch of the run that holds the word ("United Nations" of
                for j in range(max(k, i + 1), len(caps)):  # "United Nations High Commissioner")
                    letters = "".join(w.group(0)[0] for w in caps[i:j + 1])
                    if re.search(r"(?<![\w.])" + r"\.?".join(letters) + r"\.?(?!\w)", passage):
                        return True
    return False


def _one_edit(a: str, b: str) -> bool:
    """Are a and b (len(a) <= len(b)) one substitution, insertion or deletion apart?"""
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
    return a[i + 1:] == b[i + 1:] if len(a) == len(b) else a[i:] == b[i + 1:]


def _common_first_word(plain: str, tok: str) -> bool:
    """Is `tok` the claim's first word (of the sentence or after a colon, dash or quote) everywhere it stands,
    and tagged as no proper noun ("Finally, rub …", "Pushing chunks of bread …", "Unlike current tools …")?"""
    tagged = proper_nouns(plain)
    if tagged is None:
        return False
    found = False
    for m in re.finditer(rf"(?<!\w){re.escape(tok)}(?!\w)", plain):
        before = plain[:m.start()].rstrip()
        if (before and before[-1] not in _INITIAL) or m.start() in tagged:
            return False
        found = True
    return found


def _near_keys(p: _Passage, span: tuple[int, int]) -> frozenset[str]:
    """The word keys of the window and the two statements on each side of it (a name given a little earlier
    counts: "Ms. Lee" two sentences after "Ana Lee")."""
    i = next((k for k, (s, e) in enumerate(p.spans) if e > span[0]), 0)
    j = next((k for k, (s, e) in enumerate(p.spans) if e >= span[1]), len(p.spans) - 1)
    lo, hi = p.spans[max(0, i - 2)][0], p.spans[min(len(p.spans) - 1, j + 2)][1]
    toks = [_month(t) for t in _TOKEN.findall(p.plain[lo:hi])]
    return frozenset(toks) | frozenset(x for t in toks for x in t.split("-"))


def _acronym_of(token: str, text: str) -> bool:
    """"WHO" for "World Health Organization", "U.S." for "United States": the initials of capitalised words."""
    letters = token.replace(".", "")
    if letters.isalpha() and not letters.isupper() and sum(c.isupper() for c in letters) >= 3 \
            and letters[0].isupper():
        letters = "".join(c for c in letters if c.isupper())  # "APhA": American Pharmacists Association
    if not (2 <= len(letters) <= 6 and letters.isupper() and letters.isalpha()):
        return False
    if re.search(r"\b" + r"\.\s?".join(letters) + r"\.", text):
        return True  # "US" for "U.S.", "DC" for "D.C."
    small = r"(?:\s+(?:of|the|and|for|on|in|&)\s+|\s+|-)"
    pattern = small.join(rf"{c}[a-z]+" for c in letters)
    return re.search(rf"\b{pattern}\b", text) is not None


def _roles(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """Two names that trade places where the claim lines up with the passage ("Hamas accused Israel" against
    "Israel accused Hamas")."""
    pairs = {(_key(a), _key(b)) for a, b in _swapped(plain, p.plain[span[0]:span[1]]) if _is_name(a) and _is_name(b)}
    for a, b in pairs:
        if a != b and (b, a) in pairs:
            return a, True
    return _roles_around_verb(plain, p.plain[span[0]:span[1]])


def _roles_around_verb(plain: str, window: str) -> tuple[str, bool]:
    """"X <verb> Y" in the claim where the window says "Y <verb> X" (names one to three words apart)."""
    pattern = re.compile(r"\b([A-Z][\w'-]+)\s+((?:[a-z]+\s+){0,2}?[a-z]+)\s+([A-Z][\w'-]+)\b")
    for m in pattern.finditer(_unquoted(plain)):
        x, verb, y = m.group(1), m.group(2), m.group(3)
        if not (_is_name(x) and _is_name(y)) or x == y:
            continue
        if re.search(rf"\b{re.escape(y)}\s+{re.escape(verb)}\s+{re.escape(x)}\b", window) and \
                not re.search(rf"\b{re.escape(x)}\s+{re.escape(verb)}\s+{re.escape(y)}\b", window):
            return x, True
    return "", False


def _antonyms(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """An opposite in the place the claim lines up with the passage ("fell" where the passage says "rose")."""
    for mine, theirs in _swapped(plain, p.plain[span[0]:span[1]]):
        if antonyms(mine, theirs):
            return mine, True
    return "", False


def _tense(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """A past tense for what the passage says will happen ("closed" against "will close")."""
    window = p.plain[span[0]:span[1]].lower()
    mine = [t.lower() for t in _TOKEN.findall(plain)]
    if FUTURE & set(mine):
        return "", False
    for m in re.finditer(r"\b(?:will|plans? to|is set to|are set to|is expected to|are expected to|would)\s+"
                         r"(?:be\s+)?([a-z]+)", window):
        verb = m.group(1)
        stem = content_words(verb)
        if not stem:
            continue
        for t in mine:
            if t.endswith("ed") and t != verb and content_words(t) == stem:
                return t, True
    return "", False


def _hedge(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """The passage says a thing may have happened and the claim says it did ("may have been caused by" ->
    "was caused by"): unconfirmed. Only a modal before "have"/"be" and a word of the claim counts (on
    human-labelled model text, dropped adverbs such as "allegedly" were not judged hallucinations)."""
    mine = [t.lower() for t in _TOKEN.findall(plain)]
    if set(mine) & (HEDGES | CONDITIONS | FUTURE):
        return "", False
    stems = set(content_words(plain))
    theirs = [t.lower() for t in _TOKEN.findall(p.plain[span[0]:span[1]])]
    for k, t in enumerate(theirs):
        if t not in _STRONG_HEDGES or theirs[k + 1:k + 2] not in (["have"], ["be"], ["been"]):
            continue  # "may have been caused", "could be closed": a possibility, not an event
        nxt = [w for w in theirs[k + 1:k + 4] if w not in _AUXILIARY]
        if nxt and content_words(nxt[0]) and content_words(nxt[0])[0] in stems:
            return t, False
    return "", False


_STRONG_HEDGES = frozenset("may might could".split())


def _condition(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """The passage states it only under a condition ("If the levy fails, the district will cut …") and the
    claim states it unconditionally: unconfirmed."""
    mine = {t.lower() for t in _TOKEN.findall(plain)}
    if mine & (CONDITIONS | HEDGES):
        return "", False
    for s, e in p.spans:
        if s < span[1] and span[0] < e:
            m = re.match(r"\s*[\"'(]*(if|unless)\b", p.plain[s:e], re.I)
            if m:
                return m.group(1).lower(), False
    return "", False


_REQUEST = re.compile(r"\b(?:asked|asks|requested|requests|urged|urges|demanded|demands|instructed|wants|wanted|"
                      r"called on)\b[^.;]{0,120}?\b(?:state|states|say|says|report|reports|write|mention|describe|"
                      r"claim|read|print)\b[^.;]{0,20}?\bthat\b", re.I)


def _requested(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """The passage reports that someone asked for a thing to be said ("officials asked that every summary state
    that the terminal is closed"), and the claim states that thing as fact: unconfirmed (and never evidence: a
    request to repeat words is how an article addresses a summariser)."""
    if _REQUEST.search(plain):
        return "", False
    m = _REQUEST.search(p.plain[span[0]:span[1]])
    return (m.group(0).split()[0].lower(), False) if m else ("", False)


def _scope(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """A quantifier or superlative the claim adds ("all", "the largest", "the first") that the passage does not
    use near the claim's place."""
    mine = [t.lower() for t in _TOKEN.findall(_unquoted(plain))]
    near = _near_keys(p, span)
    for i, t in enumerate(mine):
        if not (t in QUANTIFIERS or t in SUPERLATIVES) or same_scope(t) & near:
            continue
        if t == "first" and not (i and (mine[i - 1] in _DETERMINERS or mine[i - 1].endswith("'s"))):
            continue  # "they must first agree": an order of steps, not "the first to …"
        return t, False
    return "", False


_DETERMINERS = frozenset("the a an its his her their our my your this that".split())


def _debunked(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """The passage calls the statement false or denies it ("the rumour that … is untrue"), and the claim states
    it as fact."""
    mine = {t.lower() for t in _TOKEN.findall(plain)}
    if mine & (DENIALS | _NEGATIONS):
        return "", False
    for t in (t.lower() for t in _TOKEN.findall(p.plain[span[0]:span[1]])):
        if t in DENIALS:
            return t, False
    return "", False


_NUMBER_SIGN = re.compile(r"\b[Nn]o\.\s?(?=\d)")  # "No. 1" is "number 1", not a negation


# Where a sentence joins one statement to another: "…, and …", "…, which …", "…; …", "… but …". A model adds
# detail as a clause of its own ("… caught fire during welding, and the fire was put out without injuries"), which
# the share of the whole sentence the passage holds can hide.
_CLAUSE = re.compile(r",\s+(?:and|but|while|whereas|which|who|whom|where|with|as|although|though)\b|;"
                     r"|\s+(?:and|but|whereas|although|which|who|whom|while)\s+", re.I)
_CLAUSE_WORDS = 3  # the fewest content words a clause needs to be judged on its own
_CLAUSE_COVERAGE = 0.34  # the share of them the passage must hold (chosen on RAGTruth's dev half: 0.2-0.6 tried)


def _clause(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """A clause of the sentence whose words the passage (or the question) hardly holds anywhere: a detail the
    model added to what the passage states. Unconfirmed, with that clause as the detail."""
    bag = p.words | p.premise_words
    for piece in _CLAUSE.split(plain):
        words = set(content_words(piece))
        if len(words) >= _CLAUSE_WORDS and _covered(words, bag) < _CLAUSE_COVERAGE:
            piece = " ".join(piece.split()).strip(" ,;.")
            return (piece if len(piece) <= 80 else piece[:79].rsplit(" ", 1)[0] + "…"), False
    return "", False


# A sentence about what the sources do not say ("The passages do not mention the price", "The cost is not given in
# the article"): a statement about every source, which no passage confirms by holding its words (a passage that
# holds them is, if anything, evidence against it). Only the answer's own sources count, so words that are news in
# other senses need care: "sources did not say" (people), "the coverage does not include floods" (insurance), "the
# texts did not mention the payment" (messages) stay ordinary claims.
# at most three words before the noun ("all the provided passages"): an unbounded run made the search quadratic in a
# long sentence of such words (20,000 characters of "the the …" took 6 s)
_OWN_SOURCE = (r"(?:(?:the|these|this|those|any|each|both|all|either|neither|provided|given|above|available|"
               r"retrieved)\s+){0,3}"
               r"(?:passages?" + _NUMBERED + r"?|context|(?:provided|given|above|available|retrieved)\s+"
               r"(?:texts?|sources?|information|articles?|coverage|documents?|excerpts?))")
# only in the present tense, with a verb of saying: a remark on the sources ("The article does not say who paid"),
# not a report ("The texts did not mention the payment")
_NAMED_SOURCE = r"(?:the|these|this)\s+(?:articles?|coverage|texts?)"
_LACK_ANY = (r"(?:provide|mention|say|state|specify|include|contain|give|discuss|address|offer|list|describe|"
             r"indicate|explain|detail|clarify|cover|name|identify|reveal|report)")
_LACK_SAYING = (r"(?:mention|say|state|specify|discuss|address|describe|indicate|explain|detail|clarify|name|"
                r"identify|reveal|report)")
_NOT = r"\s+(?:does|do|did)\s*(?:not|n't)\s+(?:\w+ly\s+)?"
_NOT_NOW = r"\s+(?:does|do)\s*(?:not|n't)\s+(?:\w+ly\s+)?"
_LACKED = (r"(?:mentioned|specified|stated|provided|given|discussed|addressed|described|reported|explained|"
           r"detailed|named|listed)")
_SOURCES_LACK = re.compile(
    rf"(?i)\b{_OWN_SOURCE}{_NOT}{_LACK_ANY}\b"
    rf"|\b{_NAMED_SOURCE}{_NOT_NOW}{_LACK_SAYING}\b"
    rf"|\b(?:{_OWN_SOURCE}|{_NAMED_SOURCE})\s+(?:makes?|made)\s+no\s+mention\b"
    rf"|\b(?:is|are|was|were)\s+not\s+(?:\w+ly\s+)?{_LACKED}\s+in\s+{_OWN_SOURCE}\b"
    rf"|\b(?:is|are)\s+not\s+(?:\w+ly\s+)?{_LACKED}\s+in\s+{_NAMED_SOURCE}\b")


def says_sources_lack(claim: str) -> str:
    """The words by which the sentence says its sources do not state something ("" if it does not): no passage
    confirms such a sentence, and neither does the LLM's reading of one."""
    m = _SOURCES_LACK.search(_plain(claim))
    return " ".join(m.group(0).split()) if m else ""


def _words(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(_NUMBER_SIGN.sub("number ", text))]


def _negated(tokens: list[str], groups: dict[str, int] | None = None) -> tuple[dict[str, str], set[str]]:
    """{word a negation applies to (stemmed): the negation} and the stems said without one. A verb that
    negates the one it governs counts as a negation ("failed to win approval" ~ "was not approved").
    `groups`, when given, gets each negated word's negation (its index): "refused to bargain with al Qaeda"
    negates bargain and Qaeda at once, and matches "wouldn't bargain with al Qaeda" by either."""
    negated: dict[str, str] = {}
    plain: set[str] = set()
    pending, left, heads, at = "", 0, 0, -1
    for k, t in enumerate(tokens):
        verb = t in NEGATING_VERBS and tokens[k + 1:k + 2] == ["to"]
        if t in _NEGATIONS or t.endswith("n't") or verb:
            # two negations close together cancel ("not because I haven't been disgusted")
            pending, left = ("", 0) if pending and left > 0 else (t, 3)
            heads = 2 if verb else 1  # "failed to win approval": both words are what did not happen
            at = k
            continue
        if t in _AUXILIARY:
            continue
        stems = content_words(t)
        if not stems and t not in _FUNCTION_HEADS:
            continue  # "not because", "not I": look on for the word the negation is about
        head = stems[0] if stems else t
        if pending and left > 0:
            negated.setdefault(head, pending)
            for alt in alternatives(head):
                negated.setdefault(alt, pending)
            if groups is not None:
                for w in (head, *alternatives(head)):
                    groups.setdefault(w, at)
            heads -= 1
            if heads <= 0:
                pending = ""
        else:
            plain.add(head)
        left -= 1
    return negated, plain


def _negation_before(word: str, tokens: list[str], reach: int = 4) -> bool:
    """Whether the passage's tokens put a negation a few words before `word` (stemmed) wherever they write it,
    past the one word `_negated` reads as its head: "life without the possibility of parole" negates parole too
    (but "can create all kinds … if not seemingly created by" still states "create" plainly once)."""
    at = [k for k, t in enumerate(tokens) if (stems := content_words(t)) and stems[0] == word]
    return bool(at) and all(any(x in _NEGATIONS or x.endswith("n't") for x in tokens[max(0, k - reach):k])
                            for k in at)


_NEGATION_STATEMENT = 0.34  # the share of the claim's words a window statement carries for its negations to count


def _polarity(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """A word the claim negates that the passage states plainly, or one the passage negates that the claim
    states plainly (order-free, so "X said the plan was not approved" ~ "The plan was not approved, X said")."""
    tokens = _words(plain)
    if tokens[:1] in (["no"], ["yes"]):
        tokens = tokens[1:]  # "No, the fund does not …": the answer word to a question, not a negation
    groups: dict[str, int] = {}
    mine_neg, mine_plain = _negated(tokens, groups)
    window = _words(p.plain[span[0]:span[1]])
    their_neg, their_plain = _negated(window)
    # contradicted only where the two read alike word for word around the negation; elsewhere unconfirmed
    moved = bool(_negation_moved(plain, p.plain[span[0]:span[1]]))
    matched = {groups[w] for w in mine_neg if w in their_neg}
    for word, neg in mine_neg.items():
        if word in their_plain and word not in their_neg and groups.get(word) not in matched \
                and not _negation_before(word, window):
            return neg, moved  # "has not sparked" where the passage says "has sparked"
    # what the passage negates counts in the statements of the window that carry the claim, not in a neighbour
    # the window took in for a word or two ("… no remorse." beside the statement the claim retells)
    words = set(content_words(plain))
    their_neg = {}
    for (s, e), bag in zip(p.spans, p.bags):
        if s < span[1] and span[0] < e and _covered(words, bag) >= _NEGATION_STATEMENT:
            their_neg.update(_negated(_words(p.plain[s:e]))[0])
    if not their_neg:
        return "", False
    _, anywhere = _negated(_words(p.plain))
    for word, neg in their_neg.items():
        if word in mine_plain and word not in mine_neg and word not in anywhere:
            return neg, moved  # "has sparked" where the passage says "has not sparked" (and nowhere says it plainly)
    return "", False


def _attribution(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """Whoever the claim credits must be credited by the passage for the same words: contradicted when the
    passage credits someone else, unconfirmed when it credits nobody there."""
    claimed = [q for q in find_quotes(plain) if q.speaker and not q.via_pronoun]
    if not claimed:
        return "", False
    theirs = find_quotes(p.text)
    for q in claimed:
        where = _locate(q.text, p.plain) if q.kind == "direct" else None
        s, e = where or span
        names = credited(theirs, s, e)
        if any(same_person(q.speaker, n) or _acronym_of(q.speaker, n) for n in names):
            continue
        # credited to someone the passage names, or describes without naming ("a statement from the developer");
        # not to a pronoun ("she claimed"), which the quote finder reads as the person last named: a guess
        other = any(x.speaker or x.description or x.cue_start >= 0
                    for x in credited_quotes(theirs, s, e) if not x.via_pronoun)
        if len(name_key(q.speaker)) < 3 or (not names and q.kind != "direct" and _credited_near(q.speaker, p, s, e)):
            continue  # "U" of "U.S. Attorney …": not a name to compare
        # contradicted only when the passage credits these words to another person and never names the
        # claimed speaker beside them; otherwise the passage just does not say who (unconfirmed)
        return q.speaker, other and not _named_near(q.speaker, p, s, e)
    return "", False


def _surname_in(speaker: str, text: str) -> bool:
    surname = (name_key(speaker).split() or [""])[-1]
    return bool(surname) and re.search(rf"\b{re.escape(surname)}\b", text, re.I) is not None


def _named_near(speaker: str, p: _Passage, s: int, e: int) -> bool:
    """Is the speaker named in the statement that holds the credited words (a second speaker there)?"""
    i = next((k for k, (a, b) in enumerate(p.spans) if b > s), 0)
    return _surname_in(speaker, p.plain[p.spans[i][0]:p.spans[i][1]])


def _credited_near(speaker: str, p: _Passage, s: int, e: int) -> bool:
    """Reported speech the quote finder credits to nobody, in a statement that names the speaker beside a
    verb that credits words ("Whitfield, an economist, said the causes were …" reported as "Whitfield said …";
    "… is over, the health department declared Friday" as "according to the health department")."""
    return any(_CREDITS.search(p.plain[a:b]) and _surname_in(speaker, p.plain[a:b])
               for a, b in p.spans if a <= s < b or s <= a < e)


_CREDITS = re.compile(rf"\b(?:{CUE_VERB})\b", re.I)


def _misquoted(quote: str, norm_passage: str) -> bool:
    """A quotation the passage holds with other words: most of its words, in order, in one place."""
    words = normalize(quote).split()
    if len(words) < 4:
        return False
    first = re.escape(words[0])
    for m in re.finditer(rf"\b{first}\b", norm_passage):
        near = norm_passage[m.start(): m.start() + len(" ".join(words)) + 40].split()
        ratio = SequenceMatcher(None, words, near[:len(words) + 4], autojunk=False).ratio()
        if ratio >= 0.7:
            return True
    return False


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


def _frame(plain: str, p: _Passage, span: tuple[int, int]) -> tuple[str, bool]:
    """A true quotation inside a statement the passage does not make: the words outside the quote need the
    passage's support (unconfirmed when they lack it)."""
    if not any(len(plain[s:e].split()) >= _FRAME_QUOTE_WORDS for s, e in quote_spans(plain)):
        return "", False  # a word or two in quotation marks is a title, a name or a scare quote: no one's words
    outside = _unquoted(plain)
    named = set(content_words(" ".join(t for t in _TOKEN.findall(outside) if t[0].isupper())))
    verbs = set(content_words(" ".join(SPEECH.findall(outside))))
    # names have their own rule; "stated" may say "said"; what the question itself says around a title or phrase
    # it quotes ("Who did Swift welcome to her "Eras Tour" film?") is the asker's premise, as its names are
    frame = set(content_words(outside)) - named - verbs - p.premise_words
    if not frame:
        return "", False
    around = set(content_words(p.plain[max(0, span[0] - 300): span[1] + 300]))
    if _covered(frame, around) >= _FRAME_COVERAGE:
        return "", False
    return ", ".join(sorted(frame - around)[:4]), False


_RULES = (("date", _calendar_clash), ("number", _numbers), ("date", _dates), ("name", _names), ("roles", _roles),
          ("polarity", _polarity), ("antonym", _antonyms), ("tense", _tense), ("attribution", _attribution),
          ("frame", _frame), ("hedge", _hedge), ("hedge", _condition), ("request", _requested), ("scope", _scope),
          ("debunked", _debunked), ("clause", _clause))
