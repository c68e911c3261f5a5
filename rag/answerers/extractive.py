"""The offline answerer: verbatim sentences from the retrieved passages, attributed to whoever the text says
spoke, each followed by its [n]. Fast (no model call) and never says anything the coverage does not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from ..injection import without_instructions
from ..lexical import content_words, coverage, idf_weights
from ..schema import Hit
from ..sentences import long_quotes, statement_spans
from ..speakers import asked_speaker, is_speech, mentions
from .base import Turn

__all__ = ["ExtractiveAnswerer"]

_PRONOUN = re.compile(r"\b(he|she|they|him|her|his|hers|their|them|it|its|this|that|these|those)\b", re.I)
_ATTRIB = re.compile(
    r"((?:[A-Z][\w'’.\-]+\s?){1,3})\s+(?:also\s+)?(?:said|says|tweeted|wrote|posted|told|added|stated|explained)\b"
    r"|\b(?:said|says|according to)\s+((?:[A-Z][\w'’.\-]+\s?){1,3})")


@dataclass
class _Unit:
    n: int  # passage number (1-based)
    start: int  # offsets in the passage text
    end: int
    text: str
    score: float = 0.0
    speaker: str | None = None  # who the text says spoke, when the unit is a quote


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, max_units: int = 3, max_words: int = 140) -> None:
        self.max_units = max_units
        self.max_words = max_words

    def answer(self, question: str, hits: Sequence[Hit]) -> str:
        units = self._pick(question, hits)
        parts = []
        for u in units:
            text = u.text
            if u.speaker and not mentions(text, u.speaker) and text.lstrip().startswith('"'):
                text = f"{u.speaker} said: {text}"
            parts.append(f"{text} [{u.n}]")
        return " ".join(parts)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str]:
        text = self.answer(question, hits)
        for piece in re.findall(r"\S+\s*", text):
            yield piece

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """Carry the previous question's subject into a follow-up that leans on it ("what about her kids?")."""
        previous = [t["content"] for t in history if t.get("role") == "user" and t.get("content", "").strip()]
        if not previous:
            return question
        last = previous[-1]
        own_names = _names(question)
        short = len(question.split()) <= 6
        if not (_PRONOUN.search(question) or short or question.lower().startswith(("what about", "and ", "how about"))):
            return question
        subject = asked_speaker(last) or " ".join(_names(last)[:3])
        extra = [w for w in subject.split() if w not in own_names] if subject else []
        topic = [w for w in _topic_words(last) if w.lower() not in question.lower() and w not in extra][:3]
        if not extra and not topic:
            return question
        return f"{question.rstrip('?').strip()} ({' '.join(extra + topic)})?"

    # -- choosing sentences ----------------------------------------------------------------------------------
    def _pick(self, question: str, hits: Sequence[Hit]) -> list[_Unit]:
        speaker = asked_speaker(question)
        units = [u for n, h in enumerate(hits, 1) for u in _units(n, h)]
        if not units:
            return []
        q = set(content_words(question))
        if speaker:
            q -= set(content_words(speaker))
        bags = [set(content_words(u.text)) for u in units]
        idf = idf_weights(bags)
        best_hit = max((h.score for h in hits), default=1.0) or 1.0
        for u, bag in zip(units, bags):
            cov = coverage(q, bag, idf) if q else 0.0
            u.score = cov + 0.25 * hits[u.n - 1].score / best_hit
            if speaker:
                said = u.speaker and mentions(u.speaker, speaker)
                direct = mentions(u.text, speaker) and is_speech(u.text)
                if said or (direct and long_quotes(u.text)):
                    u.score += 1.0
                elif direct:
                    u.score += 0.4
            if len(u.text.split()) < 6:
                u.score -= 0.3
        units.sort(key=lambda u: -u.score)
        if units[0].score <= 0.25 and not speaker:
            return []  # nothing in the passages shares the question's words
        out: list[_Unit] = []
        words = 0
        limit = self.max_units + (1 if speaker else 0)
        for u in units:
            if len(out) >= limit or u.score < units[0].score * 0.5:
                break
            if any(_overlaps(u, o) for o in out) or words + len(u.text.split()) > self.max_words and out:
                continue
            out.append(u)
            words += len(u.text.split())
        return out


def _units(n: int, hit: Hit) -> list[_Unit]:
    """The passage's statements (a quotation over several sentences kept whole), and who spoke each."""
    text = without_instructions(hit.passage.text)  # same offsets; instructions to the assistant blanked out
    units: list[_Unit] = []
    for s, e in statement_spans(text):
        unit = _Unit(n, s, e, text[s:e])
        if len(unit.text.split()) >= 4 and re.search(r"[.!?\"']$", unit.text):
            unit.speaker = _speaker_of(unit.text, text[max(0, s - 300):s])
            units.append(unit)
    return units


def _speaker_of(unit: str, before: str) -> str | None:
    """Who the text says spoke a quotation: named in the unit itself or in the line that introduces it."""
    if not long_quotes(unit):
        return None
    for source in (unit, before.strip().rsplit("\n", 1)[-1]):
        m = _ATTRIB.search(source)
        if m:
            name = (m.group(1) or m.group(2) or "").strip()
            if name and name.split()[0] not in {"The", "A", "It", "He", "She", "They", "We", "I"}:
                return name
    return None


def _overlaps(a: _Unit, b: _Unit) -> bool:
    if a.n == b.n and a.start < b.end and b.start < a.end:
        return True
    return a.text.strip() == b.text.strip()


def _names(text: str) -> list[str]:
    return [w for w in re.findall(r"\b[A-Z][\w'’\-]+", text)
            if w not in {"What", "How", "Who", "Why", "When", "Where", "Did", "Does", "The", "And", "A", "Is", "Was"}]


def _topic_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z][\w'’\-]+", text)
            if w.lower() not in {"what", "did", "say", "said", "about", "how", "does", "the", "who", "why", "when", "was",
                                 "is", "are", "were", "do", "of", "to", "in", "on", "for", "and", "a", "an", "with"}]
