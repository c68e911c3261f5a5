"""When cited passages from different articles disagree on the same thing, say so and cite both.

Only like things are compared: the same quantity (same unit and scale, the same thing counted: "1,100 flights"
against "900 flights", never against "19 years") in two statements about the same subject, or, for a question
that asks for a name, figure or date, two different answers given right beside what the question asks about.

The plainest case of like things: two articles state the same thing in the same words except for the one
value the question asks for ("Disney purchased most of 21st Century Fox's assets" / "Warner Bros purchased
most of ..."). `rival_values` finds such pairs by aligning the two texts word by word; every other word of the
statement is the same, so the two values are of the same subject, unit and scale by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Sequence

from rag.core.schema import Citation, Hit
from rag.nlp.answer_type import (
    NUMBER,
    TOKEN,
    WHEN,
    answer_type,
    focus_word,
    is_name,
    predicate_words,
    question_names,
)
from rag.nlp.calendar import MONTH_NAMES, MONTH_NUMBER, WEEKDAYS
from rag.nlp.lexical import content_words
from rag.nlp.numbers import SCALES
from rag.nlp.numbers import quantities as parse_quantities
from rag.nlp.sentences import statement_spans

__all__ = ["find_conflicts", "conflict", "disagree", "quantities", "rival_values", "Rival", "rival_statements",
           "with_rival_statements"]

# A figure followed by "-12" is a range or a code ("10-12", "2019-20"), not one figure.
_RANGE_AFTER = re.compile(r"[\d,]*\s?-\d")
_HEAD = re.compile(r"[$£€¥]?\s?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)")
_NOUN = re.compile(r"\s+(?:more\s+|new\s+|of\s+|other\s+|additional\s+)?([A-Za-z][a-z\-]+)")
_SIGN = {"usd": "$", "gbp": "£", "eur": "€", "jpy": "¥"}
_YEAR = re.compile(r"^(1[89]|20)\d{2}$")
_SKIP_NOUNS = {"and", "or", "to", "in", "on", "at", "of", "the", "a", "an", "by", "for", "from", "with", "as", "per",
               "than", "is", "was", "were", "are"}


def quantities(text: str) -> dict[str, set[float]]:
    """The figures of a text keyed by what they measure: 'flight' -> {1100.0}, '$' -> {1.04e10}, '%' -> {3.5},
    'year-date' -> {2021.0}. A figure whose unit cannot be read is left out (it cannot be compared)."""
    return {k: {v for v, _, _ in vs} for k, vs in _quantities(text).items()}


_AFTER = re.compile(r"\s+([A-Za-z][\w'\-]*)")


def _counted(text: str, pos: int, n: int = 2) -> set[str]:
    """The content words of the (at most) n words right after a figure, up to a punctuation mark: what it
    counts ("vacant positions", "vacant firefighter", "flights cancelled")."""
    out: list[str] = []
    for _ in range(n):
        m = _AFTER.match(text, pos)
        if not m:
            break
        out.append(m.group(1))
        pos = m.end()
    return set(content_words(" ".join(out)))


def _quantities(text: str) -> dict[str, list[tuple[float, set[str], set[str]]]]:
    """As `quantities`, each figure with the words around it (what it is a figure of) and the words right
    after it (what it counts)."""
    out: dict[str, list[tuple[float, set[str], set[str]]]] = {}
    for q in parse_quantities(text):  # the one number parser (rag/nlp/numbers.py)
        head = _HEAD.match(text, q.start)
        if q.spelled or not head or _RANGE_AFTER.match(text, head.end(1)):
            continue  # figures in words are left out here; so are ranges and codes
        raw = head.group(1).replace(",", "")
        value, scaled = q.value, q.value != float(raw)
        m = _NOUN.match(text, q.end)
        noun = (m.group(1) if m else "").lower()
        if q.unit in _SIGN:
            key = _SIGN[q.unit]
        elif q.unit == "%":
            key = "%"
        elif _YEAR.match(raw) and not scaled and (not noun or noun in _SKIP_NOUNS or m.group(1)[:1].isupper()):
            # "in 2019", "the 2021 Tour de France": a year, not a count of tours
            key = "year-date"
        elif q.unit == "cent":
            key = "cent"
        elif noun and noun not in _SKIP_NOUNS:
            key = (content_words(noun) or [noun])[0]
        else:
            continue
        around = content_words(text[max(0, q.start - 60):q.start])[-3:] + content_words(text[q.end:q.end + 60])[:3]
        if noun and noun not in _SKIP_NOUNS:
            around += content_words(noun)  # "60% of residents" and "43% of adults" count different people
        out.setdefault(key, []).append((value, {w for w in around if not w[0].isdigit() and w != key},
                                        _counted(text, q.end)))
    return out


_ANSWER_SHARE = 0.5  # two statements that both answer the question need this much in common to be one event
_YEARS = re.compile(r"\b(?:19|20)\d{2}\b")
_DAYS = re.compile(rf"\b({'|'.join(WEEKDAYS + tuple(m for m in MONTH_NAMES if m != 'may'))})\b", re.I)


@lru_cache(maxsize=4096)  # an answer compares each statement with many others
def _subject_words(text: str) -> frozenset[str]:
    return frozenset(w for w in content_words(text) if not w[0].isdigit())


def _same_subject(a: str, b: str, share: float = 0.6) -> bool:
    """Most of the shorter statement's words (figures aside) are in the other one."""
    wa, wb = _subject_words(a), _subject_words(b)
    common = wa & wb
    return len(common) >= 3 and len(common) / min(len(wa), len(wb)) >= share


def _names(text: str, asked: set[str]) -> set[str]:
    return {t.strip(".,") for t in TOKEN.findall(text)[1:] if is_name(t, asked)}


def _differ(a: str, b: str, share: float = 0.6) -> list[tuple[str, set[float], set[float]]]:
    """Units both give different values of, where the figures stand among the same words ("60% of Americans
    agreed" and "43% of adults got" are not the same count: most words around them must agree)."""
    qa, qb = _quantities(a), _quantities(b)
    out = []
    for k in qa.keys() & qb.keys():
        va, vb = {v for v, _, _ in qa[k]}, {v for v, _, _ in qb[k]}
        if va & vb:
            continue
        if all(xa - xb and xb - xa for _, _, xa in qa[k] for _, _, xb in qb[k]):
            continue  # each counts something the other does not name ("29 vacant positions", "16 vacant firefighter")
        ca = set().union(*(c for _, c, _ in qa[k]))
        cb = set().union(*(c for _, c, _ in qb[k]))
        if ca and cb and len(ca & cb) / min(len(ca), len(cb)) >= share:
            out.append((k, va, vb))
    return out


def conflict(question: str, a: str, b: str, *, same_topic: bool = False) -> tuple[str, str] | None:
    """How two statements from different articles disagree on the same thing ("1,100 (flight)", "900
    (flight)"), or None when they do not, or speak of different things. Different things: too few words in
    common; worded alike but with other ordinary words swapped in ("the tram line" / "the bus line");
    different years named (two seasons, two studies), unless the question asks when; different people or
    places named beside the figures; or figures of different units (19 years against 1,100 flights).
    `same_topic`: both passages carry every word of the question, so the words around a figure may name the
    subject differently ("the bridge cost" / "the project cost"); half of them in common is then enough."""
    if a.rstrip().endswith("?") or b.rstrip().endswith("?"):
        return None  # a question in the text (a heading, a reader's query) states nothing
    kind = answer_type(question) if question else None
    answering = kind in ("who", "when") and _answers_question(question, a) and _answers_question(question, b)
    if not _same_subject(a, b, _ANSWER_SHARE if answering else 0.6):
        return None
    asked_years = set(_YEARS.findall(question))
    ya, yb = set(_YEARS.findall(a)) - asked_years, set(_YEARS.findall(b)) - asked_years
    if kind != "when" and ya and yb and not ya & yb:
        return None
    da, db = {d.lower() for d in _DAYS.findall(a)}, {d.lower() for d in _DAYS.findall(b)}
    if kind != "when" and da and db and not da & db:
        return None  # "sold Tuesday" and "won Wednesday's": two events
    if _other_things(a, b):  # the costliest test (an alignment of the two statements) last
        return None
    asked = {w.lower() for w in question_names(question)} if question else set()
    figures_a = set().union(*quantities(a).values()) if quantities(a) else set()
    figures_b = set().union(*quantities(b).values()) if quantities(b) else set()
    if kind == "who" and answering and not (figures_a and figures_b and not figures_a & figures_b):
        na, nb = _answers(question, a), _answers(question, b)  # names beside what is asked, not any name
        if na and nb and not (na & nb) and not any(x in y or y in x for x in na for y in nb) \
                and not any(x.lower() in b.lower() for x in na) and not any(y.lower() in a.lower() for y in nb):
            return ", ".join(sorted(na)), ", ".join(sorted(nb))
    # Years and dates are compared only as `rival_values` does (the same statement with another date): two
    # sentences on one subject that name different years mostly speak of two seasons or editions.
    diffs = [d for d in _differ(a, b, 0.5 if same_topic else 0.6) if d[0] != "year-date"]
    if not diffs:
        return None
    ma, mb = _names(a, asked), _names(b, asked)
    if ma and mb and not ma & mb:
        return None  # figures about different named things
    key, va, vb = diffs[0]
    return _fmt(key, va), _fmt(key, vb)


def disagree(a: str, b: str, question: str = "") -> bool:
    """Two statements about the same subject that give different values for the same measured thing (or, for
    a question asking who or when, different answers to it)."""
    return conflict(question, a, b) is not None


def _fmt(key: str, values: set[float]) -> str:
    def one(v: float) -> str:
        for word, scale in (("trillion", 1e12), ("billion", 1e9), ("million", 1e6)):
            if v >= scale and key not in ("year-date",):
                return f"{v / scale:g} {word}"
        return f"{v:,.0f}" if v == int(v) and key != "year-date" else f"{v:g}"

    text = ", ".join(one(v) for v in sorted(values))
    if key in ("$", "£", "€", "¥"):
        return key + text
    if key == "%":
        return text + "%"
    if key == "year-date":
        return text
    return f"{text} ({key})"


def _answers_question(question: str, text: str) -> bool:
    """The statement carries most of what the question asks (its words and names): it answers that question."""
    q = set(predicate_words(question))
    return bool(q) and len(q & set(predicate_words(text))) / len(q) >= 0.6




def _answers(question: str, quote: str) -> set[str]:
    """For a question asking for a name: the names the quote gives beside the question's focus word."""
    focus = focus_word(question)
    if not focus:
        return set()
    tokens = TOKEN.findall(quote)
    asked = {w.lower() for w in question_names(question)}
    found: set[str] = set()
    for i, t in enumerate(tokens):
        if (predicate_words(t) or [""])[0] != focus:
            continue
        j = i - 1  # the name right before the verb ("Simona Halep won"), else right after it ("won by X")
        run = []
        while j >= 0 and is_name(tokens[j], asked):
            run.insert(0, tokens[j].strip(".,"))
            j -= 1
        if not run:
            k = i + 1 + (1 if i + 1 < len(tokens) and tokens[i + 1].lower() in ("by", "to") else 0)
            while k < len(tokens) and is_name(tokens[k], asked):
                run.append(tokens[k].strip(".,"))
                k += 1
        if run:
            found.add(" ".join(run))
    return found


def find_conflicts(citations: Sequence[Citation], question: str = "") -> list[str]:
    """Sentences like 'Sources differ: [1] gives 1,100 (flight), while [2] gives 900 (flight).' for cited quotes
    from different articles that disagree on the same thing (see `conflict`)."""
    notes: list[str] = []
    said: set[tuple[str, str]] = set()
    for i, a in enumerate(citations):
        for b in citations[i + 1:]:
            if a.article_id == b.article_id:
                continue
            found = _rival_quotes(question, a, b)
            if found is None:
                found = conflict(question, a.quote, b.quote, same_topic=_on_topic(question, a.passage, b.passage))
            if found:
                key = (f"{a.n}:{found[0].lower()}", f"{b.n}:{found[1].lower()}")
                if key in said:
                    continue
                said.add(key)
                notes.append(f"Sources differ: [{a.n}] gives {found[0]}, while [{b.n}] gives {found[1]}.")
    return notes


def _rival_quotes(question: str, a: Citation, b: Citation) -> tuple[str, str] | None:
    """The two values when the cited passages state the same thing but for them, and each cited quote holds
    its passage's value (a passage that differs somewhere the answer does not quote is not a conflict stated)."""
    r = rival_values(question, a.quote, b.quote)
    if r is not None:
        return r.a_value, r.b_value
    r = rival_values(question, a.passage, b.passage)
    if r is None:
        return None
    for c, (s, e) in ((a, r.a_span), (b, r.b_span)):
        q = c.passage.find(c.quote) if c.quote else -1
        if q < 0 or not (q <= s and e <= q + len(c.quote)):
            return None
    return r.a_value, r.b_value


def with_rival_statements(draft: str, question: str, hits: Sequence[Hit]) -> str:
    """The draft with, when two retrieved passages state the same thing with different answers to the question
    (`rival_statements`), both statements added with their [n], so the answer can say that the sources differ
    and cite each side. A statement the draft already gives is not repeated."""
    extra: list[str] = []
    for na, sa, nb, sb in rival_statements(question, hits):
        for n, text in ((na, sa), (nb, sb)):
            text = text.strip()
            if text and text not in draft and text not in " ".join(extra):
                extra.append(f"{text} [{n}]")
    return " ".join([draft.rstrip(), *extra]).strip() if extra else draft


def _on_topic(question: str, *passages: str) -> bool:
    """Every content word of the question is in each passage (both are about what the question asks)."""
    words = {w for w in content_words(question) if not w[0].isdigit()}
    return len(words) >= 2 and all(words <= set(content_words(p)) for p in passages)


# -- the same statement, another value -------------------------------------------------------------------------
_WORDTOK = re.compile(r"[A-Za-z0-9][\w'’\-.,]*[A-Za-z0-9]|[A-Za-z0-9]")
_GLUE = {"and", "of", "de", "da", "del", "van", "von", "la", "le", "du", "bin", "al", "&"}
_MIN_SAME = 6  # words the two texts must share around the differing values
_SAME_SHARE = 0.7  # ... as a share of the longer text's words
_ASKED_SHARE = 0.5  # a passage bears on the question when it carries this share of the question's words
_NAMED_SHARE = 0.3  # ... or every name the question gives and this share
_DATE_ASKED = re.compile(r"\b(dates?|day)\b", re.I)


@dataclass(frozen=True)
class Rival:
    """Two texts that say the same thing except for one value: `a_value` in a (chars a_span), `b_value` in b."""
    a_value: str
    b_value: str
    a_span: tuple[int, int]
    b_span: tuple[int, int]


def _value_class(tokens: Sequence[str], asked: set[str]) -> str | None:
    """What a run of differing words is: 'date' (a day, month or year), 'number', 'name' (capitalised words the
    question does not give), or None (ordinary words: the texts then say different things, not other values)."""
    kinds = set()
    for t in tokens:
        w = t.strip(".,")
        low = w.lower()
        if low in _GLUE:
            continue
        if WHEN.fullmatch(low) and low not in ("last", "next", "later", "earlier", "ago") or _YEAR.match(w) \
                or re.fullmatch(r"\d{1,2}(st|nd|rd|th)?", low):
            kinds.add("date")
        elif re.fullmatch(r"[$£€¥]?\d[\d,.]*%?", w) or (NUMBER.fullmatch(low) and low not in ("one",)):
            kinds.add("number")
        elif is_name(w, asked):
            kinds.add("name")
        else:
            return None
    if not kinds:
        return None
    if kinds == {"date", "number"}:
        return "date"  # "December 1, 2017": the day's number goes with the month
    return "name" if "name" in kinds else kinds.pop()


def rival_values(question: str, a: str, b: str) -> Rival | None:
    """Two texts worded alike that differ only in values of the kind the question asks for: a name for "who",
    a date for "when", a figure for "how many"; for other questions, values of one kind on both sides. None when
    the texts differ in ordinary words too (they say different things), differ only in dates when the question
    does not ask when (two seasons, two editions), or share too few words."""
    ma, mb = list(_WORDTOK.finditer(a)), list(_WORDTOK.finditer(b))
    ta, tb = [m.group().lower() for m in ma], [m.group().lower() for m in mb]
    if len(ta) < _MIN_SAME or len(tb) < _MIN_SAME:
        return None
    if len(set(ta) & set(tb)) < _SAME_SHARE * min(len(set(ta)), len(set(tb))) * 0.8:
        return None  # quick reject before aligning
    sm = SequenceMatcher(None, ta, tb, autojunk=False)
    same = sum(block.size for block in sm.get_matching_blocks())
    if same < _MIN_SAME or same < _SAME_SHARE * max(len(ta), len(tb)):
        return None
    kind = answer_type(question) if question else None
    asked = {w.lower() for w in question_names(question)} if question else set()
    regions = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal"]
    if not regions:
        return None
    found: list[tuple[str, int, int, int, int]] = []
    for i1, i2, j1, j2 in regions:
        if i1 == i2 or j1 == j2:
            return None  # words only one side has: not the same statement with another value
        ca = _value_class([m.group() for m in ma[i1:i2]], asked)
        cb = _value_class([m.group() for m in mb[j1:j2]], asked)
        if ca is None or cb is None or ca != cb:
            return None
        found.append((ca, i1, i2, j1, j2))
    classes = {c for c, *_ in found}
    if len(classes) != 1:
        return None  # a name and a date differ: another event, not another answer
    cls = classes.pop()
    if kind is None and _DATE_ASKED.search(question or ""):
        kind = "when"  # "What is the release date of ...?", "the date of the draft"
    wanted = {"who": "name", "when": "date", "number": "number"}.get(kind or "")
    if wanted and cls != wanted:
        return None
    if cls == "date" and kind != "when":
        return None  # the same wording about two dates: two events (seasons, editions), not a disagreement
    if len(found) > 2:
        return None
    _, i1, _, j1, _ = found[0]
    _, _, i2, _, j2 = found[-1]
    sa, ea = _whole_value(a, ma, i1, i2, cls)
    sb, eb = _whole_value(b, mb, j1, j2, cls)
    return Rival(a[sa:ea], b[sb:eb], (sa, ea), (sb, eb))


def _whole_value(text: str, tokens: Sequence[re.Match], i: int, j: int, cls: str) -> tuple[int, int]:
    """Character span of tokens[i:j] widened to the whole value: the month before a differing day ("August
    22, 2021"), the scale after a differing figure ("$10.4 billion")."""
    def dateish(t: str) -> bool:
        w = t.strip(".,").lower()
        # (beside a date already found, "May" is the month)
        return bool(_DAYS.fullmatch(w) or w in MONTH_NUMBER and len(w) <= 4
                    or _YEAR.match(w) or re.fullmatch(r"\d{1,2}(st|nd|rd|th)?", w))

    if cls == "date":
        while i > 0 and dateish(tokens[i - 1].group()):
            i -= 1
        while j < len(tokens) and dateish(tokens[j].group()):
            j += 1
    start, end = tokens[i].start(), tokens[j - 1].end()
    if cls == "number":
        while j < len(tokens) and tokens[j].group().lower() in (*SCALES, "percent"):
            end = tokens[j].end()
            j += 1
        if start > 0 and text[start - 1] in "$£€¥":
            start -= 1
        if end < len(text) and text[end] == "%":
            end += 1
    return start, end


def _other_things(a: str, b: str) -> bool:
    """The two statements are worded alike but swap ordinary words somewhere ("the tram line" / "the bus
    line"): they speak of different things, whatever figures they give."""
    oa, ob = _WORDTOK.findall(a), _WORDTOK.findall(b)
    ta, tb = [t.lower() for t in oa], [t.lower() for t in ob]
    if min(len(ta), len(tb)) < _MIN_SAME:
        return False
    sm = SequenceMatcher(None, ta, tb, autojunk=False)
    if sum(block.size for block in sm.get_matching_blocks()) < 0.6 * max(len(ta), len(tb)):
        return False

    def ordinary(words: Sequence[str]) -> list[str]:  # lowercase content words: not names, figures or dates
        return [w for w in words if w[:1].islower() and content_words(w) and not WHEN.fullmatch(w.lower())]

    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "replace":
            continue
        wa, wb = ordinary(oa[i1:i2]), ordinary(ob[j1:j2])
        if wa and wb and not set(content_words(" ".join(wa))) & set(content_words(" ".join(wb))):
            return True
    return False


def _bears_on(question: str, text: str) -> bool:
    """The passage carries half of the question's words, or every name it gives and some of the rest."""
    words = {w for w in content_words(question) if not w[0].isdigit()}
    if not words:
        return False
    share = len(words & set(content_words(text))) / len(words)
    names = {n.lower() for n in question_names(question)}
    low = text.lower()
    named = bool(names) and all(re.search(rf"\b{re.escape(n)}\b", low) for n in names)
    return share >= _ASKED_SHARE or (named and share >= _NAMED_SHARE)


def _statement_at(text: str, span: tuple[int, int], min_words: int = 6) -> tuple[int, int]:
    """The statement of `text` that holds the span, joined with the ones before it until it has a few words
    ("Release date. November 8, 2021 ..." rather than the bare date)."""
    spans = statement_spans(text) or [(0, len(text))]
    i = next((k for k, (s, e) in enumerate(spans) if s <= span[0] < e), len(spans) - 1)
    j = i
    s, e = spans[i]
    while len(text[s:e].split()) < min_words and j > 0:
        j -= 1
        s = spans[j][0]
    while len(text[s:e].split()) < min_words and i + 1 < len(spans):
        i += 1
        e = spans[i][1]
    return s, max(e, span[1])


def rival_statements(question: str, hits: Sequence[Hit], limit: int = 1) -> list[tuple[int, str, int, str]]:
    """Pairs of retrieved passages from different articles that both bear on the question and state the same
    thing with different values of the kind it asks for: (passage number a, its statement, passage number b,
    its statement), numbers 1-based as the answerer cites them. At most `limit` pairs, best-ranked first."""
    if not question:
        return []
    bearing = [(n, h) for n, h in enumerate(hits, 1) if _bears_on(question, f"{h.passage.title or ''} {h.passage.text}")]
    out: list[tuple[int, str, int, str]] = []
    seen: set[tuple[str, str]] = set()
    for x, (na, ha) in enumerate(bearing):
        for nb, hb in bearing[x + 1:]:
            if ha.passage.article_id == hb.passage.article_id:
                continue
            r = rival_values(question, ha.passage.text, hb.passage.text)
            if r is None:
                continue
            key = tuple(sorted((r.a_value.lower(), r.b_value.lower())))
            if key in seen:
                continue
            seen.add(key)
            sa, ea = _statement_at(ha.passage.text, r.a_span)
            sb, eb = _statement_at(hb.passage.text, r.b_span)
            out.append((na, ha.passage.text[sa:ea], nb, hb.passage.text[sb:eb]))
            if len(out) >= limit:
                return out
    return out
