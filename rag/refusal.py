"""Answer or refuse: read the question and the best evidence together, not one cosine.

MiniLM's similarity runs low for short questions ("What did Henrik Lund say?", "Who scored the winner in the
Regional Cup final?") even when the passage that answers them ranks first, and runs fairly high for an
unrelated question that shares a topic. So a passage close in meaning (the calibrated threshold) answers, and so
does a passage that is at least loosely close and carries the question itself: the person it asks about
quoted, the words it quotes, or every name it gives and most of its other words plus the kind of thing it asks
for (a name for "who", a figure for "how many", a date for "when").
"""

from __future__ import annotations

import re
from typing import Sequence

from .answer_type import GENERIC, WHEN, answer_type, has_type, question_names
from .lexical import content_words
from .schema import Hit
from .sentences import normalize
from .speakers import asked_speaker, is_speech, mentions

__all__ = ["should_answer"]

_QUOTED = re.compile(r"[\"“]([^\"“”]{8,})[\"”]")


_SAYS = re.compile(r"\b(say|said|says|tell|told|comment|commented|respond|responded|react|reacted|tweet|tweeted|"
                   r"post|posted|write|wrote|claim|claimed|statement|response|reaction|remarks?)\b", re.I)
_SHORT = 8  # content words: up to this many, a question may be answered on its words when its cosine runs low


def should_answer(question: str, hits: Sequence[Hit], *, refuse_below: float, dated: bool = False) -> bool:
    """True when the evidence answers the question well enough to try. `dated`: the question named dates
    ("last week") and the retriever ranked passages from them first."""
    if not hits:
        return False
    best = max((h.dense for h in hits if h.dense is not None), default=-1.0)
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
