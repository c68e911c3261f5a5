"""The offline answerer: verbatim sentences from the retrieved passages, attributed to whoever the text says
spoke, each followed by its [n]. Fast (no model call) and never says anything the coverage does not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from rag.answer.answerers.base import Turn
from rag.answer.conflicts import disagree
from rag.answer.followup import refers_back
from rag.attribution.quotes import credited, find_quotes
from rag.attribution.speakers import asked_speaker, is_speech, mentions
from rag.core.schema import Hit, Quote
from rag.nlp.answer_type import (
    GENERIC,
    TOKEN,
    WHEN,
    answer_spans,
    answer_type,
    answers_focus,
    capitalised_mid,
    figure_key,
    focus_word,
    predicate_words,
    question_names,
    span_kind,
)
from rag.nlp.injection import without_instructions
from rag.nlp.lexical import content_words, coverage, idf_weights
from rag.nlp.sentences import long_quotes, statement_spans

__all__ = ["ExtractiveAnswerer", "opens_article"]

# How much each part of a statement's score counts (see ExtractiveAnswerer._ranked).
_SAID = 1.0  # the share of the question's words it says
_JOINED = 0.3  # the question's words in the same order, side by side ("Donald Duck", "Chicago Marathon")
_RANK_WEIGHT = 0.8  # the passage's retrieval score
_TYPED = 0.4  # it holds a name, figure or date of the kind asked for (a single-word name counts _SINGLE of it)
_SINGLE = 0.5
_UNTYPED = 0.2
_FOCUS = 0.3  # ... right beside the question's focus word
_VOTE = 0.8  # ... and one the passages repeat (see _votes)
_FOLLOW = 0.8  # a further statement must score this share of the best one's
_OPENING = 0.3  # the statement opens its article (news writes the main fact first) ...
_OPENING_CHARS = 200  # ... that is, it starts within the article's first 200 characters
_BEARS = 0.34  # a statement after the first must say this share of what the question asks (beyond its names)
_PRONOUN = re.compile(r"\b(he|she|they|him|her|his|hers|their|them|it|its|this|that|these|those)\b", re.I)
_WORD = re.compile(r"\w+")


@dataclass
class _Unit:
    n: int  # passage number (1-based)
    start: int  # offsets in the passage text
    end: int
    text: str
    score: float = 0.0
    relevance: float = 0.0  # how much of what the question asks (beyond its names) the unit says
    speaker: str | None = None  # who the text says spoke, when the unit is a quote


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, max_units: int = 3, max_words: int = 110, embedder=None, rerank: int = 12) -> None:
        self.max_units = max_units
        self.max_words = max_words
        self.embedder = embedder  # when given, the best lexical candidates are reranked by meaning
        self.rerank = rerank

    def answer(self, question: str, hits: Sequence[Hit]) -> str:
        return " ".join(_written(u) for u in self._pick(question, hits))

    def lead(self, question: str, hits: Sequence[Hit]) -> str:
        """The statement this answerer would open with ("" if none): the passages' sentence that best answers
        the question, with its [n]. An LLM answer whose own first sentence the passages do not confirm opens with
        it (rag/answer/assistant.py)."""
        units = self._pick(question, hits)
        return _written(units[0]) if units else ""

    def stream(self, question: str, hits: Sequence[Hit], as_of: Any = None) -> Iterator[str]:
        """The answer in one piece (it is chosen whole, at once); `as_of` is not needed: the passages are
        already those of the day asked."""
        yield self.answer(question, hits)

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """Carry the previous question's subject into a follow-up that leans on it ("what about her kids?")."""
        previous = [t["content"] for t in history if t.get("role") == "user" and t.get("content", "").strip()]
        if not previous:
            return question
        last = previous[-1]
        own_names = _names(question)
        if not refers_back(question):
            return question
        subject = asked_speaker(last) or " ".join(_names(last)[:3])
        extra = [w for w in subject.split() if w not in own_names] if subject else []
        topic = [w for w in _topic_words(last) if w.lower() not in question.lower() and w not in extra][:3]
        if not extra and not topic:
            return question
        return f"{question.rstrip('?').strip()} ({' '.join(extra + topic)})?"

    # -- choosing sentences ----------------------------------------------------------------------------------
    def _pick(self, question: str, hits: Sequence[Hit]) -> list[_Unit]:
        """The statement that answers the question first, then at most the statements that add to it."""
        speaker = asked_speaker(question)
        units = self._ranked(question, hits, speaker)
        if units is None:
            return _leads(hits, self.max_units)  # "What happened last week?": the leads of the top stories
        if not units:
            return []
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
            if len(out) >= limit or u.score < units[0].score * _FOLLOW:
                break
            if out and u.relevance < _BEARS:
                continue  # shares a name with the question but not what it asks: it does not bear on it
            if any(_overlaps(u, o) for o in out) or words + len(u.text.split()) > self.max_words and out:
                continue
            out.append(u)
            words += len(u.text.split())
        # A statement from another article that gives a different figure for the same thing goes in too,
        # so the answer can say that the sources disagree; like any statement after the first, it must bear
        # on the question (two polls' margins of error differ, but neither answers "what share backed X?").
        for picked in list(out):
            rival = next((u for u in units if u.n != picked.n and u not in out and u.relevance >= _BEARS
                          and hits[u.n - 1].passage.article_id != hits[picked.n - 1].passage.article_id
                          and disagree(picked.text, u.text, question)), None)
            if rival is not None:
                out.insert(out.index(picked) + 1, rival)
                break
        return out

    def _ranked(self, question: str, hits: Sequence[Hit], speaker: str | None = None) -> list[_Unit] | None:
        """Every statement of the passages, best answer first (None for a question about no subject).

        A statement scores on what of the question it says (every question word, weighted by how rare it is
        among these passages, names included; runs of the question's words kept together count extra), on
        holding the kind of span asked for (a name for who/which/where, a figure for how many, a date for when)
        that the question does not already give, more so when the passages repeat it or it stands right beside
        what is asked about, on its passage's retrieval score, on opening its article (the lede), and on quoting
        the person asked about. A statement with none of the kind asked for loses a little: it cannot be the
        answer.
        """
        units = [u for n, h in enumerate(hits, 1) for u in _units(n, h)]
        if not units:
            return []
        names = set(content_words(" ".join(question_names(question))))
        if speaker:
            names |= set(content_words(speaker))
        asked = predicate_words(question)
        pred = set(asked) - names
        if not names and not speaker and not {w for w in pred if not WHEN.fullmatch(w)} - GENERIC:
            return None
        kind, focus, span = answer_type(question), focus_word(question), span_kind(question)
        seqs = [predicate_words(u.text) for u in units]
        bags = [set(q) for q in seqs]
        idf = idf_weights(bags)
        terms = set(asked)
        pairs = {p for p in zip(asked, asked[1:]) if p[0] != p[1]}
        known = {n: capitalised_mid(h.passage.text) for n, h in enumerate(hits, 1)}
        best_hit = max((h.score for h in hits), default=1.0) or 1.0
        found = {id(u): answer_spans(span, u.text, question, known[u.n]) for u in units} if span in (
            "number", "when", "who", "why") else {}
        votes = _votes(found.values(), hits, best_hit)
        focused = {id(u) for u in units if answers_focus(kind, focus, u.text, question)}
        # "When does the work begin?": where a date stands beside "begin", a date elsewhere ("voted on Monday")
        # dates something else and earns nothing for holding a date
        dated_elsewhere = kind == "when" and bool(focused)
        for u, seq, bag in zip(units, seqs, bags):
            u.relevance = coverage(pred, bag, idf) if pred else 1.0  # nothing beyond names asked: all bear on it
            said = coverage(terms, bag, idf)
            joined = len(pairs & set(zip(seq, seq[1:]))) / len(pairs) if pairs else 0.0
            u.score = _SAID * said + _JOINED * joined + _RANK_WEIGHT * hits[u.n - 1].score / best_hit
            if found:
                spans = found[id(u)]
                if not spans:
                    u.score -= _UNTYPED  # no name, figure or date of the kind asked for: it cannot answer
                elif not dated_elsewhere or id(u) in focused:
                    u.score += _TYPED * (1.0 if span != "who" or any(" " in f for f in spans) else _SINGLE)
                    u.score += _VOTE * max(votes.get(_key(f), 0.0) for f in spans)
            if id(u) in focused:
                u.score += _FOCUS  # ... right beside what is asked about ("Tom Sanders voted", "52 votes")
                u.relevance = max(u.relevance, 0.5)
            if speaker:
                said_by = u.speaker and mentions(u.speaker, speaker)
                direct = mentions(u.text, speaker) and is_speech(u.text)
                if said_by or (direct and long_quotes(u.text)):
                    u.score += 1.0
                    u.relevance = max(u.relevance, 0.5)
                elif direct:
                    u.score += 0.4
            if len(u.text.split()) < 6:
                u.score -= 0.3
            if opens_article(hits[u.n - 1].passage, u.start):
                u.score += _OPENING  # the lede: what the story is about, stated first
        units.sort(key=lambda u: -u.score)
        return units


def _written(u: _Unit) -> str:
    """A chosen unit as the answer writes it: a quotation with its speaker, then its [n]."""
    text = u.text
    if u.speaker and not mentions(text, u.speaker) and text.lstrip().startswith('"'):
        text = f"{u.speaker} said: {text}"
    return f"{text} [{u.n}]"


def opens_article(passage, start: int) -> bool:
    """Whether a statement at `start` (an offset in the passage's text) opens its article: it begins within the
    article's first _OPENING_CHARS characters, the lede that news writing gives the story's main fact."""
    return passage.start + start < _OPENING_CHARS


def _key(span: str) -> str:
    """A candidate answer as the passages may write it again: a name's last word ("Christie"), a figure in one
    spelling ("four" and "4" are one candidate)."""
    last = span.split()[-1]
    return figure_key(last) or last.lower().strip(".,")


def _votes(found: Iterable[list[str]], hits: Sequence[Hit], best_hit: float) -> dict[str, float]:
    """How strongly the passages, by retrieval score, repeat each candidate answer (a name, figure or date of
    the kind asked for): an answer the coverage agrees on appears in several of the best passages. 1.0 for the
    best-supported one."""
    keys = {_key(f) for spans in found for f in spans}
    if not keys:
        return {}
    texts = [h.passage.text.lower() for h in hits]
    figures = [{figure_key(t) for t in TOKEN.findall(text)} - {None} for text in texts]
    words = [set(_WORD.findall(t)) for t in texts]  # a key of word characters stands alone: one of these
    votes = {}
    for k in keys:
        if _WORD.fullmatch(k):
            votes[k] = sum(h.score / best_hit for h, w, f in zip(hits, words, figures) if k in f or k in w)
            continue
        pattern = re.compile(rf"(?<![\w]){re.escape(k)}(?![\w])")
        votes[k] = sum(h.score / best_hit for h, t, f in zip(hits, texts, figures) if k in f or pattern.search(t))
    top = max(votes.values()) or 1.0
    return {k: v / top for k, v in votes.items()}


def _units(n: int, hit: Hit) -> list[_Unit]:
    """The passage's statements (a quotation over several sentences kept whole), and who spoke each."""
    text = without_instructions(hit.passage.text)  # same offsets; instructions to the assistant blanked out
    quotes: list[Quote] | None = None  # found once a statement holds a quotation (most passages' do not)
    units: list[_Unit] = []
    for s, e in statement_spans(text):
        unit = _Unit(n, s, e, text[s:e])
        if len(unit.text.split()) >= 4 and re.search(r"[.!?\"']$", unit.text):
            if long_quotes(unit.text):
                quotes = find_quotes(text) if quotes is None else quotes
                unit.speaker = _speaker_of(unit.text, quotes, s, e)
            units.append(unit)
    return units


def _leads(hits: Sequence[Hit], n: int) -> list[_Unit]:
    """The first statement of each of the best-ranked articles (one each), for a question about no subject."""
    out: list[_Unit] = []
    seen: set[str] = set()
    for i, h in enumerate(hits, 1):
        if h.passage.article_id in seen or len(out) >= n:
            continue
        units = _units(i, h)
        if units:
            out.append(units[0])
            seen.add(h.passage.article_id)
    return out


def _speaker_of(unit: str, quotes: list[Quote], start: int, end: int) -> str | None:
    """Who the passage credits with the quotation in this unit (rag/attribution/quotes.py); None unless it credits exactly
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
