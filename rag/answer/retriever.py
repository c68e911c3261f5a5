"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by reciprocal rank, with filters applied inside
both searches, a preference for passages that quote the person asked about, date awareness and diversity."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Sequence

import numpy as np

from rag.attribution.speakers import asked_speaker, is_speech, mentions
from rag.core.schema import Hit
from rag.core.settings import Settings
from rag.index import Index
from rag.index import day_number as _day_number
from rag.index.embedder import Embedder
from rag.nlp.dates import DateIntent, parse_dates, to_date

__all__ = ["Retriever", "Query", "as_langchain_retriever"]

_RRF_K = 60
# keyword searches run here, beside the embedding (one per question in flight; the web serves a few at once)
_SEARCHES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="newsrag-keyword")


@dataclass
class Query:
    text: str
    sources: list[str] | None = None
    since: date | None = None  # explicit filters (caller, CLI, web): hard
    until: date | None = None
    prefer_since: date | None = None  # read from the question's words ("in April 2024"): a strong preference
    prefer_until: date | None = None
    recent: bool = False
    as_of: date | None = None  # asked as of this day: coverage published after it is left out (hard)
    speaker: str | None = None
    notes: list[str] = field(default_factory=list)


class Retriever:
    def __init__(self, settings: Settings, *, index: Index, embedder: Embedder) -> None:
        self.settings = settings
        self.index = index
        self.embedder = embedder

    @property
    def catalog(self) -> Index:
        """The index, under the name callers used for the catalog's reads."""
        return self.index

    def plan(self, question: str, *, sources: Sequence[str] | None = None, since: Any = None,
             until: Any = None, as_of: Any = None) -> Query:
        """Turn a question and explicit filters into a query: date words become a range or a recency preference,
        read as of `as_of` (default today); with `as_of`, coverage published after that day is left out."""
        q = Query(question, sources=list(sources) if sources else None, since=to_date(since), until=to_date(until),
                  as_of=to_date(as_of))
        if q.since is None and q.until is None:
            intent: DateIntent = parse_dates(question, q.as_of or date.today())
            # Words are ambiguous ("Business Today", "spent $26bn in 2021" in a 2023 story), so they steer
            # ranking rather than filter: passages in the range rank first, others stay reachable.
            q.prefer_since, q.prefer_until, q.recent = intent.since, intent.until, intent.recent
            if intent.since or intent.until:
                q.notes.append(f"Dates: {intent.phrase!r} read as {intent.since} to {intent.until}; "
                               "passages from those dates rank first.")
        q.speaker = asked_speaker(question)
        return q

    def retrieve(self, query: Query, k: int | None = None, timings: dict | None = None) -> list[Hit]:
        k = k or self.settings.top_k
        t0 = time.perf_counter()
        since_day = _day_number(query.since.isoformat()) if query.since else None
        until_day = _day_number(query.until.isoformat()) if query.until else None
        as_of_day = _day_number(query.as_of.isoformat()) if query.as_of else None
        n = self.settings.candidates

        def keyword_search() -> tuple[list[tuple[str, float]], float]:
            started = time.perf_counter()
            found = self.index.keyword(query.text, n, sources=query.sources, since_day=since_day,
                                       until_day=until_day, as_of_day=as_of_day)
            return found, time.perf_counter() - started

        # The keyword search needs no vector: it runs beside the question's embedding and the dense search
        # (SQLite and the model both let go of the GIL), so the slower of the two sets the pace, not their sum.
        pending = _SEARCHES.submit(keyword_search)
        qvec = self.embedder.embed_one(query.text)
        t1 = time.perf_counter()
        dense = self.index.dense(qvec, n, _where(query.sources, since_day, until_day, as_of_day))
        last_day = min((d for d in (until_day, as_of_day) if d is not None), default=None)
        pref = _preferred(query, since_day, last_day)  # date words are read up to as_of, never past it
        # Dense candidates in the preferred dates are counted again from this list (a filtered Chroma query
        # would find more, but costs up to a second at 100k passages: measured in docs/BENCHMARKS.md).
        dense_pref = [d for d in dense if _in_days(d.day, pref)] if pref else []
        t2 = time.perf_counter()
        # While the keyword search runs, read the dense candidates' passages (SQLite lets go of the GIL; work in
        # Python here would hold up the search's own Python part: tried, and the total rose).
        early = self.index.passages_by_id([d.passage_id for d in dense]) if not pending.done() else {}
        keyword, keyword_seconds = pending.result()
        t3 = time.perf_counter()

        fused: dict[str, float] = {}
        dense_sim = {d.passage_id: d.similarity for d in dense}
        kw_score = dict(keyword)
        wd, wk = self.settings.dense_weight, 1.0
        for weight, ranked in ((wd, [d.passage_id for d in dense]), (wk, [pid for pid, _ in keyword]),
                               (wd, [d.passage_id for d in dense_pref])):  # in the preferred dates: counted again
            for rank, pid in enumerate(ranked):
                fused[pid] = fused.get(pid, 0.0) + weight / (_RRF_K + rank + 1)

        # live versions only: nothing half-written shows (in passage id order, as one read of them all gives)
        early.update(self.index.passages_by_id([pid for pid in fused if pid not in early]))
        passages = dict(sorted(early.items()))
        if pref:  # keyword candidates in the preferred dates, counted again, read from this same list (a second
            # search filtered to those dates was the slowest stage at 1M passages: docs/BENCHMARKS.md)
            keyword_pref = [pid for pid, _ in keyword if pid in passages and passages[pid].published_at
                            and _in_days(_day_number(passages[pid].published_at[:10]), pref)]
            for rank, pid in enumerate(keyword_pref):
                fused[pid] += wk / (_RRF_K + rank + 1)
        hits: list[Hit] = []
        for pid, p in passages.items():
            score = fused[pid]
            speaker = bool(query.speaker and mentions(p.text, query.speaker) and is_speech(p.text))
            if speaker:
                score += 1.0 / (_RRF_K + 1)  # as much as a first place in one list: quoting the person matters most
            # News put the main facts first (the inverted pyramid): an article's lead passage gets the most
            # credit, later ones less and less. Relative, so an irrelevant lead is not lifted far.
            score *= 1.0 + self.settings.lead_prior / (1 + p.index)
            hits.append(Hit(p, score, dense=dense_sim.get(pid), keyword=kw_score.get(pid), speaker=speaker))
        if query.recent:
            _prefer_recent(hits)
        if as_of_day is not None and self.settings.as_of_prior:
            _prefer_near(hits, as_of_day, self.settings.as_of_prior, self.settings.as_of_half_life_days)
        hits.sort(key=lambda h: -h.score)
        out = _diversify(hits, self.settings.max_per_article, k)
        # The similarity of the passages only the keyword search found, for those handed on (the refusal reads
        # it; the ranking does not): their stored vectors, read for these few rather than for every candidate.
        missing = {h.passage.id: h for h in out if h.dense is None}
        for pid, vec in self.index.passage_vectors(list(missing)).items():
            missing[pid].dense = float(vec @ qvec)
        for i, h in enumerate(out):
            h.rank = i + 1
        if timings is not None:
            # keyword: the search's own time (it overlapped embed and dense); keyword_wait: from the dense search's
            # end to the keyword result (the dense candidates' passages were read meanwhile)
            timings.update(embed=t1 - t0, dense=t2 - t1, keyword=keyword_seconds, keyword_wait=t3 - t2,
                           fuse=time.perf_counter() - t3)
        return out


def _preferred(query: Query, since_day: int | None, until_day: int | None) -> tuple[int | None, int | None] | None:
    """The preferred day range, inside any explicit one; None when the question named no dates."""
    if query.prefer_since is None and query.prefer_until is None:
        return None
    lo = _day_number(query.prefer_since.isoformat()) if query.prefer_since else None
    hi = _day_number(query.prefer_until.isoformat()) if query.prefer_until else None
    if since_day is not None:
        lo = since_day if lo is None else max(lo, since_day)
    if until_day is not None:
        hi = until_day if hi is None else min(hi, until_day)
    return lo, hi


def _in_days(day: int, span: tuple[int | None, int | None]) -> bool:
    lo, hi = span
    return day >= 0 and (lo is None or day >= lo) and (hi is None or day <= hi)


def _where(sources: list[str] | None, since_day: int | None, until_day: int | None,
           as_of_day: int | None = None) -> dict | None:
    clauses: list[dict] = []
    if as_of_day is not None:
        clauses.append({"day": {"$lte": as_of_day}})  # undated passages (day -1) stay: their date is unknown
    if sources:
        clauses.append({"source": {"$in": list(sources)}})
    if since_day is not None:
        clauses.append({"day": {"$gte": since_day}})
    if until_day is not None:
        clauses.append({"day": {"$lte": until_day}})
        clauses.append({"day": {"$gte": 0}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _prefer_recent(hits: list[Hit]) -> None:
    days = np.array([_day_number(h.passage.published_at) for h in hits], dtype=float)
    known = days >= 0
    if known.sum() < 2:
        return
    lo, hi = days[known].min(), days[known].max()
    for h, d in zip(hits, days):
        if d >= 0 and hi > lo:
            h.score += 0.5 / (_RRF_K + 1) * (d - lo) / (hi - lo)


def _prefer_near(hits: list[Hit], as_of_day: int, weight: float, half_life: float) -> None:
    """Asked as of a day, the coverage just before it is what the question is most likely about: a passage
    d days older than as_of scores x(1 + weight * 2^(-d/half_life)). Undated passages are left as they are."""
    for h in hits:
        day = _day_number(h.passage.published_at)
        if day >= 0:
            h.score *= 1.0 + weight * 0.5 ** (max(0, as_of_day - day) / half_life)


def _diversify(hits: list[Hit], per_article: int, k: int) -> list[Hit]:
    """At most per_article passages of one article in the top k, unless too few other articles were found:
    then the best of the rest fill the free places (one article may be all the coverage there is)."""
    out, rest, seen = [], [], {}
    for h in hits:
        n = seen.get(h.passage.article_id, 0)
        if n < per_article and len(out) < k:
            out.append(h)
            seen[h.passage.article_id] = n + 1
        else:
            rest.append(h)
    out.extend(rest[:k - len(out)])
    out.sort(key=lambda h: -h.score)
    return out


def as_langchain_retriever(retriever: Retriever, **filters: Any):
    """A LangChain BaseRetriever over this retriever: Documents with the passage text and its metadata."""
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class NewsRetriever(BaseRetriever):
        model_config = {"arbitrary_types_allowed": True}
        inner: Any
        options: dict

        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
            hits = self.inner.retrieve(self.inner.plan(query, **self.options))
            return [Document(page_content=h.passage.text, id=h.passage.id, metadata={
                "passage_id": h.passage.id, "article_id": h.passage.article_id, "title": h.passage.title,
                "source": h.passage.source, "url": h.passage.url, "published_at": h.passage.published_at,
                "start": h.passage.start, "end": h.passage.end, "score": h.score, "dense": h.dense,
                "keyword": h.keyword}) for h in hits]

    return NewsRetriever(inner=retriever, options=filters)
