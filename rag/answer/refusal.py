"""Answer or refuse: read the question and the best evidence together, not one cosine.

MiniLM's similarity runs low for short questions ("What did Henrik Lund say?", "Who scored the winner in the
Regional Cup final?") even when the passage that answers them ranks first, and runs fairly high for an
unrelated question that shares a topic. So a passage close in meaning (the calibrated threshold) answers, and so
does a passage that is at least loosely close and carries the question itself: the person it asks about
quoted, the words it quotes, or every name it gives and most of its other words plus the kind of thing it asks
for (a name for "who", a figure for "how many", a date for "when").

Closeness alone also answers questions the coverage cannot: "Considering a Bloomberg article and a Reuters
report on X, which ...?" finds passages about X from other outlets at a fair cosine. Such a question says where
its facts come from, so it is read against the evidence: when it names an outlet the store holds nothing from
(and that no retrieved passage names), and another of its names is in none of the retrieved passages, and no
passage is close in meaning beyond doubt, it is refused.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from rag.attribution.speakers import asked_speaker, is_speech, mentions
from rag.core.schema import Hit
from rag.nlp.answer_type import GENERIC, WHEN, answer_type, has_type, question_names
from rag.nlp.lexical import content_words
from rag.nlp.sentences import normalize

__all__ = ["should_answer", "named_outlets", "unknown_outlets"]

_QUOTED = re.compile(r"[\"“]([^\"“”]{8,})[\"”]")


_SAYS = re.compile(r"\b(say|said|says|tell|told|comment|commented|respond|responded|react|reacted|tweet|tweeted|"
                   r"post|posted|write|wrote|claim|claimed|statement|response|reaction|remarks?)\b", re.I)
_SHORT = 8  # content words: up to this many, a question may be answered on its words when its cosine runs low


_NAME = (r"['\"‘“]?(?:[Tt]he\s+|An?\s+)?(?P<n>[A-Z][\w'’&.\-]*(?:\s+(?:-\s+|\|\s+|&\s+|of\s+|the\s+)?"
         r"[A-Z0-9][\w'’&.\-]*)*)")
_NEWS = r"(?:articles?|reports?|reporting|pieces?|stor(?:y|ies)|coverage|analysis|post|feature|review|interview|update)"
_OUTLET = [re.compile(_NAME + r"['\"’”]?\s+" + _NEWS + r"\b"),  # "a Bloomberg article", "'The Verge' report"
           re.compile(r"\b(?:according to|reported by|as per|published (?:by|in)|reports? (?:from|by)|" + _NEWS
                      + r"\s+(?:from|by|in))\s+(?:both\s+)?(?:the\s+)?" + _NAME
                      # the name ends the phrase: "according to Reuters," but not "according to Ann Lee from CBS"
                      + r"['\"’”]?(?=\s*(?:[,.;:?!)]|$|\s(?:and|or|that|on|about|regarding|published)\b))")]
_NOT_OUTLET = re.compile(r"(?i)^(january|february|march|april|may|june|july|august|september|october|november|december|"
                         r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|what|who|which|did|does|is|was|"
                         r"considering|based|given|according|between|after|before|both|how|when|where|why)\b")
_SURE = 0.6  # a passage this close in meaning answers, whatever outlet the question names
_WORD = re.compile(r"[A-Za-z][\w'’\-&.]*[A-Za-z0-9]|[A-Z]")


def named_outlets(question: str) -> list[str]:
    """The outlets a question says its facts come from: "a Bloomberg article", "according to Reuters", "an
    article from The New York Times" (names only, without "The")."""
    out: list[str] = []
    for pattern in _OUTLET:
        for m in pattern.finditer(question):
            name = m.group("n").strip(" '’\".")
            if name and not _NOT_OUTLET.match(name) and name not in out:
                out.append(name)
    return out


def _same_outlet(name: str, source: str) -> bool:
    a, b = name.lower().removeprefix("the "), source.lower().removeprefix("the ")
    return a in b or b in a or (a.split()[0] == b.split()[0] and len(a.split()[0]) > 3)


def unknown_outlets(question: str, sources: Sequence[str], hits: Sequence[Hit] = ()) -> list[str]:
    """The outlets the question names that the store holds no article from (by source name) and that no
    retrieved passage mentions."""
    text = " ".join(f"{h.passage.title} {h.passage.text}" for h in hits).lower()
    return [n for n in named_outlets(question)
            if not any(_same_outlet(n, s) for s in sources if s)
            and not re.search(rf"\b{re.escape(n.lower())}\b", text)]


def _absent_names(question: str, hits: Sequence[Hit], skip: Sequence[str]) -> list[str]:
    """The question's names (capitalised words past its first) that no retrieved passage, title or outlet holds."""
    body = " ".join(f"{h.passage.title} {h.passage.text} {h.passage.source or ''}" for h in hits).lower()
    skipped = {w.lower() for n in skip for w in n.split()}
    asked = set(question_names(question))
    out = []
    for t in _WORD.findall(question)[1:]:
        w = re.sub(r"['’]s$", "", t.strip("'’."))
        if not w[:1].isupper() or w not in asked or w.lower() in skipped or _NOT_OUTLET.match(w):
            continue
        if not re.search(rf"\b{re.escape(w.lower())}\b", body):
            out.append(w)
    return out


def should_answer(question: str, hits: Sequence[Hit], *, refuse_below: float, dated: bool = False,
                  sources: Callable[[], Sequence[str]] | Sequence[str] | None = None) -> bool:
    """True when the evidence answers the question well enough to try. `dated`: the question named dates
    ("last week") and the retriever ranked passages from them first. `sources`: the outlets the store holds
    (or a function giving them), for questions that say where their facts come from."""
    if not hits:
        return False
    best = max((h.dense for h in hits if h.dense is not None), default=-1.0)
    if sources is not None and best < _SURE and named_outlets(question):
        known = sources() if callable(sources) else sources
        missing = unknown_outlets(question, known, hits)
        if missing and _absent_names(question, hits, missing):
            return False  # it cites coverage the store lacks, and the passages miss another of its names
    if best >= refuse_below:
        return True
    words = {w for w in content_words(question) if not WHEN.fullmatch(w)}
    if dated and words <= GENERIC:
        return True  # "What happened last week?": the passages of those dates answer it
    speaker = asked_speaker(question) if _SAYS.search(question) else None
    if speaker and any(mentions(h.passage.text, speaker) and is_speech(h.passage.text) for h in hits[:5]):
        return True  # the person asked about is quoted (a bare name is far from any passage in meaning)
    quoted = [normalize(q).strip(" ,.") for q in _QUOTED.findall(question) if len(q.split()) >= 4]
    if quoted and any(q in normalize(h.passage.text) for q in quoted for h in hits[:5]):
        return True  # the words the question quotes are in a passage
    loose = refuse_below * 0.5  # below this nothing is even on the topic
    top = [h for h in hits[:5] if (h.dense if h.dense is not None else -1.0) >= loose]
    if not top:
        return False
    if len(words) > _SHORT:
        return False  # a long question far in meaning from every passage is about something else
    names = {n.lower() for n in question_names(question)}
    kind = answer_type(question)
    for h in top:
        body = f"{h.passage.title}\n{h.passage.text}"
        low = body.lower()
        if not all(re.search(rf"\b{re.escape(n)}", low) for n in names):
            continue
        have = set(content_words(body))
        share = len(words & have) / len(words) if words else 0.0
        if (share >= 0.75 or (names and share >= 0.6)) and has_type(kind, h.passage.text, question):
            return True
    return False
