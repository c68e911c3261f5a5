"""The one number parser: numbers with their unit and scale, so that "$45 billion", "$45bn", "$45b" and "45 billion
dollars" are one quantity and "48%" is not "48 people". The claim check compares them; the conflict finder
(rag/answer/conflicts.py) keys them by what they count."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.nlp.text import fold

__all__ = ["Quantity", "quantities", "SCALES", "NUMBER_WORDS"]

SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "k": 1e3, "m": 1e6, "b": 1e9,
          "bn": 1e9, "mn": 1e6, "mln": 1e6, "tn": 1e12, "hundred": 1e2}
_SIGNED_ONLY = {"k", "m", "b"}  # "$5m" is five million; "5 m" is metres or a typo, "5 b" a list item
_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
          "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12, "half": 0.5}
NUMBER_WORDS = _WORDS  # "two" -> 2, for other readers of numbers written in words
_CURRENCY_SIGN = {"$": "usd", "£": "gbp", "€": "eur", "¥": "jpy"}
_CURRENCY_WORD = {"dollar": "usd", "dollars": "usd", "pound": "gbp", "pounds": "gbp", "euro": "eur",
                  "euros": "eur", "yen": "jpy", "cents": "cent", "cent": "cent"}
_PERCENT = {"%", "percent", "per cent", "percentage", "percentage points", "percentage point", "points"}
_NUM = re.compile(
    r"(?P<sign>[$£€¥])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|bn|mn|mln|tn|[kmb])\b)?"
    r"(?:\s?(?P<unit>%|percentage(?: points?)?\b|percent\b|per cent\b|dollars?\b|pounds?\b|euros?\b|yen\b|"
    r"cents?\b))?", re.I)
_TIME_PREFIX = re.compile(r"(?i)\b(?:mid|pre|post)-$")  # "mid-1970s", "pre-2020", "post-1945"
_WORDNUM = re.compile(
    rf"\b(?P<num>{'|'.join(_WORDS)})(?:[\s-](?P<num2>one|two|three|four|five|six|seven|eight|nine))?"
    rf"(?:\s(?P<scale>hundred|thousand|million|billion|trillion))?"
    r"(?:\s(?P<unit>percentage(?: points?)?|percent|per cent|dollars?|pounds?|euros?))?\b", re.I)


@dataclass(frozen=True)
class Quantity:
    text: str  # as written
    value: float  # scaled: "$45 billion" -> 45e9
    unit: str | None  # "usd", "gbp", "eur", "jpy", "%", "cent", or None (a count, a year, a route number, ...)
    start: int = 0
    end: int = 0
    spelled: bool = False  # written in words ("two million"), not digits

    def same(self, other: "Quantity") -> bool:
        """The same quantity: equal value, and units that agree (an unstated unit agrees with a stated one,
        so "45 billion in aid" matches "$45 billion"). Hundreds of digits (a model's runaway output) parse past a
        float's range: such a number is the same only as the same digits."""
        if not (math.isfinite(self.value) and math.isfinite(other.value)):
            return self.text == other.text
        if abs(self.value - other.value) > 1e-9 * max(1.0, abs(self.value)):
            return False
        if self.unit == other.unit:
            return True
        if "%" in (self.unit, other.unit):
            return False  # "48 venues" is not "48% of the venues"
        return self.unit is None or other.unit is None


def quantities(text: str) -> list[Quantity]:
    """The numbers a text states, digits or words, each with its unit and scale."""
    plain = fold(text)
    out: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for m in _NUM.finditer(plain):
        before = plain[max(0, m.start("num") - 2):m.start("num")]
        if (before[-1:].isalpha() or (before[-1:] == "-" and before[:1].isalpha())) \
                and not _TIME_PREFIX.search(plain, max(0, m.start("num") - 6), m.start("num")):
            continue  # "COVID-19", "A320": part of a name, left to the name rule ("mid-1970s" is a time)
        value = float(m.group("num").replace(",", ""))
        scale = (m.group("scale") or "").lower()
        end = m.end()
        if scale in _SIGNED_ONLY and not m.group("sign"):
            scale = ""  # "5 m" is metres or a typo, not millions; only "$5m" is
            end = m.end("num")
        value *= SCALES.get(scale, 1.0)
        out.append(Quantity(m.group(0).strip(), value, _unit(m.group("sign"), m.group("unit")), m.start(), end))
        taken.append((m.start(), m.end()))
    for m in _WORDNUM.finditer(plain):
        if any(s <= m.start() < e for s, e in taken):
            continue
        word = m.group("num").lower()
        if word == "one" and not (m.group("scale") or m.group("unit")):
            continue  # "one of the", "no one": too often not a count
        if word == "half" and not m.group("scale"):
            continue
        value = float(_WORDS[word]) + float(_WORDS.get((m.group("num2") or "").lower(), 0))
        value *= SCALES.get((m.group("scale") or "").lower(), 1.0)
        out.append(Quantity(m.group(0), value, _unit(None, m.group("unit")), m.start(), m.end(), spelled=True))
    out.sort(key=lambda q: q.start)
    return out


def _unit(sign: str | None, unit: str | None) -> str | None:
    if sign:
        return _CURRENCY_SIGN[sign]
    if not unit:
        return None
    u = unit.lower()
    if u in _PERCENT:
        return "%"
    return _CURRENCY_WORD.get(u)
