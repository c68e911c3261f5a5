"""The offline answerer: verbatim sentences from the retrieved passages, attributed to whoever the text says
spoke, each followed by its [n]. Fast (no model call) and never says anything the coverage does not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from ..conflicts import disagree
from ..injection import without_instructions
from ..lexical import content_words, coverage, idf_weights
from ..quotes import credited, find_quotes
from ..schema import Hit, Quote
from ..sentences import long_quotes, statement_spans
from ..speakers import asked_speaker, is_speech, mentions
from .base import Turn

__all__ = ["ExtractiveAnswerer"]

_PRONOUN = re.compile(r"\b(he|she|they|him|her|his|hers|their|them|it|its|this|that|these|those)\b", re.I)


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

    def __init__(self, max_units: int = 3, max_words: int = 140, embedder=None, rerank: int = 12) -> None:
        self.max_units = max_units
        self.max_words = max_words
        self.embedder = embedder  # when given, the best lexical candidates are reranked by meaning
        self.rerank = rerank

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
        wants = _answer_type(question)
        for u, bag in zip(units, bags):
            cov = coverage(q, bag, idf) if q else 0.0
            u.score = cov + 0.25 * hits[u.n - 1].score / best_hit
            if wants and wants.search(u.text):
                u.score += 0.3  # it holds the kind of thing asked for: a figure, a date, a name
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
        if self.embedder is not None and len(units) > 1:
            top = units[: self.rerank]
            vecs = self.embedder.embed([question] + [u.text for u in top])
            for u, sim in zip(top, vecs[1:] @ vecs[0]):
                u.score += float(sim)
            units = sorted(top, key=lambda u: -u.score) + units[self.rerank:]
            floor = 0.25 + 0.2  # the lexical floor plus a weak similarity
        else:
            floor = 0.25
        if units[0].score <= floor and not speaker:
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
        # A statement from another article that gives a different figure for the same thing goes in too,
        # so the answer can say that the sources disagree.
        for picked in list(out):
            rival = next((u for u in units if u.n != picked.n and u not in out
                          and hits[u.n - 1].passage.article_id != hits[picked.n - 1].passage.article_id
                          and disagree(picked.text, u.text)), None)
            if rival is not None:
                out.insert(out.index(picked) + 1, rival)
                break
        return out


_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen)\b", re.I)
_WHEN = re.compile(r"\b(\d{4}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|"
                   r"january|february|march|april|may|june|july|august|september|october|november|december|"
                   r"spring|summer|autumn|fall|winter|week|month|year)\b", re.I)
_WHO = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+")


def _answer_type(question: str) -> re.Pattern | None:
    """What kind of span answers the question: a figure, a time, or a name."""
    q = question.lower()
    if re.search(r"\bhow (much|many|long|old|far|big|large)\b|\bwhat (percentage|share|number|amount|price)\b", q):
        return _NUMBER
    if re.search(r"\bwhen\b|\bwhat (year|date|day|month|time)\b", q):
        return _WHEN
    if re.search(r"^\s*who\b|\bwhich (person|company|team|country)\b", q):
        return _WHO
    return None


def _units(n: int, hit: Hit) -> list[_Unit]:
    """The passage's statements (a quotation over several sentences kept whole), and who spoke each."""
    text = without_instructions(hit.passage.text)  # same offsets; instructions to the assistant blanked out
    quotes = find_quotes(text)
    units: list[_Unit] = []
    for s, e in statement_spans(text):
        unit = _Unit(n, s, e, text[s:e])
        if len(unit.text.split()) >= 4 and re.search(r"[.!?\"']$", unit.text):
            unit.speaker = _speaker_of(unit.text, quotes, s, e)
            units.append(unit)
    return units


def _speaker_of(unit: str, quotes: list[Quote], start: int, end: int) -> str | None:
    """Who the passage credits with the quotation in this unit (rag/quotes.py); None unless it credits exactly
    one person, so a name from another paragraph is never put on these words."""
    if not long_quotes(unit):
        return None
    names = credited([q for q in quotes if q.kind == "direct"], start, end)
    return next(iter(names)) if len(names) == 1 else None


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
