"""Content words (stemmed, stop words out): the lexical overlap used to pick and to check sentences."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Iterable

from rag.nlp.sentences import words

__all__ = ["content_words", "coverage", "idf_weights"]

STOP = frozenset("""a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have having he
her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves said says say told according week
year years one two new like get got make made many much may might must shall still even ever really whether
s t don didn doesn isn wasn weren won wouldn""".split())


@lru_cache(maxsize=1)
def _stem():
    try:
        import Stemmer

        return Stemmer.Stemmer("english").stemWord
    except ImportError:
        return lambda w: w


@lru_cache(maxsize=200_000)
def _stem_word(w: str) -> str:
    return _stem()(w)


def content_words(text: str) -> list[str]:
    return list(_content_words(text))


@lru_cache(maxsize=4096)  # an answer reads each statement's words in several checks (passage-sized texts)
def _content_words(text: str) -> tuple[str, ...]:
    # a contraction is its first part's word ("it's", "they're", "can't" are stop words; "Biden's" is Biden)
    return tuple(_stem_word(w.strip("'-")) for w in words(text)
                 if w not in STOP and w.split("'")[0] not in STOP and len(w.strip("'-")) > 1)


def idf_weights(docs: Iterable[set[str]]) -> dict[str, float]:
    docs = list(docs)
    n = len(docs)
    df: dict[str, int] = {}
    for d in docs:
        for w in d:
            df[w] = df.get(w, 0) + 1
    return {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}


def coverage(claim: set[str], support: set[str], idf: dict[str, float] | None = None) -> float:
    """The (idf-weighted) share of the claim's content words that the support contains."""
    if not claim:
        return 0.0
    weight = (lambda w: idf.get(w, 1.0)) if idf else (lambda w: 1.0)
    total = sum(weight(w) for w in claim)
    return sum(weight(w) for w in claim & support) / total if total else 0.0
