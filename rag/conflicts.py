"""When cited passages from different articles disagree on the same thing, say so and cite both.

Only like things are compared: the same quantity (same unit and scale, the same thing counted: "1,100 flights"
against "900 flights", never against "19 years") in two statements about the same subject, or, for a question
that asks for a name, figure or date, two different answers given right beside what the question asks about.
"""

from __future__ import annotations

import re
from typing import Sequence

from .answer_type import TOKEN, answer_type, focus_word, is_name, predicate_words, question_names
from .lexical import content_words
from .schema import Citation

__all__ = ["find_conflicts", "disagree", "quantities"]

_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9,
          "trillion": 1e12, "tn": 1e12}
_QTY = re.compile(
    r"(?P<cur>[$£€¥])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d,]*\s?-\d)"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|mn|bn|tn|[kmb])\b)?"
    r"(?:\s?(?P<pct>%|percent\b|per cent\b))?"
    r"(?:\s+(?:more\s+|new\s+|of\s+|other\s+|additional\s+)?(?P<noun>[A-Za-z][a-z\-]+))?")
_YEAR = re.compile(r"^(1[89]|20)\d{2}$")
_SKIP_NOUNS = {"and", "or", "to", "in", "on", "at", "of", "the", "a", "an", "by", "for", "from", "with", "as", "per",
               "than", "is", "was", "were", "are"}


def quantities(text: str) -> dict[str, set[float]]:
    """The figures of a text keyed by what they measure: 'flight' -> {1100.0}, '$' -> {1.04e10}, '%' -> {3.5},
    'year-date' -> {2021.0}. A figure whose unit cannot be read is left out (it cannot be compared)."""
    out: dict[str, set[float]] = {}
    for m in _QTY.finditer(text):
        raw = m.group("num").replace(",", "")
        try:
            value = float(raw)
        except ValueError:
            continue
        scale = (m.group("scale") or "").lower()
        value *= _SCALE.get(scale, 1.0)
        noun = (m.group("noun") or "").lower()
        if m.group("cur"):
            key = m.group("cur")
        elif m.group("pct"):
            key = "%"
        elif _YEAR.match(raw) and not scale and (not noun or noun in _SKIP_NOUNS):
            key = "year-date"
        elif noun and noun not in _SKIP_NOUNS:
            key = (content_words(noun) or [noun])[0]
        else:
            continue
        out.setdefault(key, set()).add(value)
    return out


def _same_subject(a: str, b: str) -> bool:
    wa = {w for w in content_words(a) if not w[0].isdigit()}
    wb = {w for w in content_words(b) if not w[0].isdigit()}
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= 0.4


def _differ(a: str, b: str) -> list[tuple[str, set[float], set[float]]]:
    qa, qb = quantities(a), quantities(b)
    return [(k, qa[k], qb[k]) for k in qa.keys() & qb.keys() if not qa[k] & qb[k]]


def disagree(a: str, b: str) -> bool:
    """Two statements about the same subject that give different values for the same measured thing."""
    return _same_subject(a, b) and bool(_differ(a, b))


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
    from different articles about the same subject that give different values of the same measured thing,
    or different names for what a 'who' question asks."""
    notes: list[str] = []
    seen: set[tuple[int, int]] = set()
    who = answer_type(question) == "who" if question else False
    for i, a in enumerate(citations):
        for b in citations[i + 1:]:
            if a.article_id == b.article_id or (a.n, b.n) in seen:
                continue
            diffs = _differ(a.quote, b.quote) if _same_subject(a.quote, b.quote) else []
            if diffs:
                key, va, vb = diffs[0]
                seen.add((a.n, b.n))
                notes.append(f"Sources differ: [{a.n}] gives {_fmt(key, va)}, while [{b.n}] gives {_fmt(key, vb)}.")
                continue
            if who:
                na, nb = _answers(question, a.quote), _answers(question, b.quote)
                if na and nb and not (na & nb) and not any(x in y or y in x for x in na for y in nb):
                    seen.add((a.n, b.n))
                    notes.append(f"Sources differ: [{a.n}] gives {', '.join(sorted(na))}, while [{b.n}] gives "
                                 f"{', '.join(sorted(nb))}.")
    return notes
