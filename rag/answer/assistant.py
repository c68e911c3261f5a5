"""Assistant: question (+ history, filters) -> retrieved passages -> answer with [n] -> checked citations."""

from __future__ import annotations

import threading
import time
import unicodedata
from datetime import date
from typing import Any, Iterator, Sequence

from rag.answer.answerers.base import Answerer, Turn
from rag.answer.answerers.extractive import ExtractiveAnswerer
from rag.answer.conflicts import find_conflicts, with_rival_statements
from rag.answer.followup import refers_back
from rag.answer.refusal import should_answer
from rag.answer.retriever import Retriever
from rag.attribution.answerer import QuoteAnswerer, QuoteDraft, quote_followup
from rag.check.citations import REFUSAL_PREFIX
from rag.check.recency import sources_before_reach
from rag.check.stream import CheckedStream, checked_pieces
from rag.check.verify_llm import verify_unconfirmed
from rag.core.errors import EmptyStoreError, InputError, LLMError
from rag.core.events import Event, Final, Notice, SourcesFound, TextPiece, final_answer
from rag.core.prompts import load_prompt
from rag.core.schema import Answer, Citation, Hit
from rag.core.settings import Settings
from rag.index import Index
from rag.index.embedder import Embedder
from rag.nlp.tags import warm_up as warm_tagger

__all__ = ["Assistant", "ask"]

REFUSAL = (REFUSAL_PREFIX + " this question. The closest passages I found are listed below; "
           "add coverage on the topic and ask again.")


class Assistant:
    """Holds the store, the retriever and the answerer. Thread-safe for concurrent asks."""

    def __init__(self, retriever: Retriever, answerer: Answerer, *, settings: Settings,
                 notices: Sequence[str] = ()) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self.settings = settings
        self.notices = list(notices)
        self._fallback = ExtractiveAnswerer()
        self.quotes = QuoteAnswerer(retriever.catalog)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, answerer: Answerer | None = None) -> "Assistant":
        settings = settings or Settings.from_env()
        embedder = Embedder.shared(settings.embedding_model, settings.embed_batch_size, settings.embedding_cache,
                                   settings.embedding_cache_max_mb * 1_000_000)
        retriever = Retriever(settings, index=Index(settings), embedder=embedder)
        notices: list[str] = []
        if answerer is None:
            from rag.llms.choose import make_chat_model

            model, name, notices = make_chat_model(settings)
            if model is None:
                answerer = ExtractiveAnswerer()  # lexical choice: as good on realtimeqa as a MiniLM rerank, 10x faster
            else:
                from rag.answer.answerers.llm import LLMAnswerer

                answerer = LLMAnswerer(model, name)
        return cls(retriever, answerer, settings=settings, notices=notices)

    @property
    def index(self) -> Index:
        return self.retriever.index

    @property
    def catalog(self) -> Index:
        """The index, under the name callers used for the catalog's reads (listings, version)."""
        return self.retriever.index

    def warm_up(self) -> list[threading.Thread]:
        """Load what the first question needs, in background threads: the embedding model, and the keyword
        and vector indexes. A question asked meanwhile waits for what it needs; an error is raised by it."""

        def indexes() -> None:
            try:
                self.index.warm()
            except Exception:  # noqa: BLE001 - the first question meets it again and reports it
                pass

        self.index.keep_read_mirror()  # a replica of a shared catalog answers from its own copy while it is away
        thread = threading.Thread(target=indexes, name="newsrag-index-warm", daemon=True)
        thread.start()
        threads = [self.retriever.embedder.preload(), thread]
        threads.append(threading.Thread(target=_quietly, args=(warm_tagger,), name="newsrag-tagger-warm", daemon=True))
        threads[-1].start()  # the claim check's tagger (rag/nlp/tags.py)
        load_llm = getattr(self.answerer, "warm_up", None)
        if callable(load_llm):  # a local model loads once and stays loaded for every later question
            threads.append(threading.Thread(target=_quietly, args=(load_llm,), name="newsrag-llm-warm", daemon=True))
            threads[-1].start()
        return threads

    def stats(self) -> dict:
        """Articles, duplicates, passages, newest date and outlets in the store."""
        return self.catalog.stats()

    # -- public ----------------------------------------------------------------------------------------------
    def ask(self, question: str, *, history: Sequence[Turn] | None = None, sources: Sequence[str] | None = None,
            since: Any = None, until: Any = None, as_of: Any = None) -> Answer:
        """Answer from the ingested coverage, every [n] checked against passage n. `as_of` (a date or
        YYYY-MM-DD): answer as of that day: date words count back from it, later coverage is not used."""
        return final_answer(self.stream(question, history=history, sources=sources, since=since, until=until,
                                        as_of=as_of))

    def stream(self, question: str, *, history: Sequence[Turn] | None = None, sources: Sequence[str] | None = None,
               since: Any = None, until: Any = None, as_of: Any = None) -> Iterator[Event]:
        """The answer as typed events (rag/core/events.py): the passages found, checked text as it is written
        (each sentence once the claim check has kept it; never the raw draft), notices, then the Final Answer
        (whose text is what counts)."""
        t0 = time.perf_counter()
        question = self._validate(question)
        answer = Answer(text="", question=question, answerer=self.answerer.name, notices=list(self.notices))
        standalone = self._rewrite(question, history or [], answer)
        answer.standalone_question = standalone
        query = self._plan(standalone, sources=sources, since=since, until=until, as_of=as_of)
        if query.as_of:
            answer.notices.append(load_prompt("as_of_notice").format(as_of=query.as_of.isoformat()))
        answer.notices.extend(query.notes)
        timings: dict[str, float] = {"plan": time.perf_counter() - t0}
        drafted = self.quotes.answer(standalone, sources=query.sources, since=query.since, until=query.until,
                                     as_of=query.as_of)
        quoted = self._from_quotes(answer, drafted, t0=t0, timings=timings, as_of=query.as_of) \
            if drafted is not None else None
        if quoted is not None:  # who said what: from the quote index, for every front end and answerer
            yield SourcesFound(tuple(quoted.passages))
            yield TextPiece(quoted.text)
            yield Final(quoted)
            return
        hits = self.retriever.retrieve(query, timings=timings)
        t1 = time.perf_counter()
        answer.passages = hits
        yield SourcesFound(tuple(hits))
        if not self._relevant(standalone, hits, query):
            answer.refused, answer.text = True, REFUSAL
            answer.timings = {"retrieve": t1 - t0, "answer": 0.0, "total": time.perf_counter() - t0, **timings}
            yield TextPiece(answer.text)
            yield Final(answer)
            return
        # Only checked sentences leave this method: the draft is released sentence by sentence as each passes.
        guard = self._guard(standalone, hits, query.as_of)
        answerer = self.answerer
        try:
            yield from self._drafted(guard, answerer.stream(standalone, hits, as_of=query.as_of), standalone, hits)
        except LLMError as exc:
            notice = f"{exc} Answered extractively instead."
            answer.notices.append(notice)
            yield Notice(notice)
            answerer = self._fallback
            answer.answerer = f"extractive (fallback from {self.answerer.name})"
            guard = self._guard(standalone, hits, query.as_of)
            yield from self._drafted(guard, answerer.stream(standalone, hits, as_of=query.as_of), standalone, hits)
        checked, overrides = self._verified(guard, answerer, answer)
        if not isinstance(answerer, ExtractiveAnswerer) and _opens_unconfirmed(checked):
            # The model's first sentence is not one the passages confirm: the answer opens with the passages'
            # sentence that best answers the question, and what the model wrote follows it, checked as before.
            lead = self._fallback.lead(standalone, hits)
            led = guard.led_by(lead, overrides) if lead else None
            if led is not None and _opening(led) == "supported":  # the passages' sentence held (screened text aside)
                checked = led
                notice = load_prompt("model_lead_unconfirmed").format(model=self.answerer.name)
                answer.notices.append(notice)
                yield Notice(notice)
                answer.answerer = f"{self.answerer.name} (opened with the passages' best sentence)"
        if not checked.citations and not (checked.unconfirmed and checked.text.strip()) \
                and not isinstance(answerer, ExtractiveAnswerer):
            # Nothing the model wrote survived the check (a bare "1", a fragment, each sentence contradicted), on
            # passages judged relevant: the passages' own sentences answer instead of a refusal, and what the model
            # wrote stays listed with why it was removed.
            notice = load_prompt("model_not_confirmed").format(model=self.answerer.name)
            answer.notices.append(notice)
            yield Notice(notice)
            removed, judged, first = list(checked.dropped), list(checked.verdicts), checked
            answerer = self._fallback
            answer.answerer = f"extractive (nothing {self.answerer.name} wrote was confirmed)"
            guard = self._guard(standalone, hits, query.as_of)
            yield from self._drafted(guard, answerer.stream(standalone, hits, as_of=query.as_of), standalone, hits)
            checked, _ = self._verified(guard, answerer, answer)
            checked.dropped, checked.verdicts = removed + list(checked.dropped), judged + list(checked.verdicts)
            checked.claims_checked += first.claims_checked
            checked.claims_dropped += first.claims_dropped
        answer.claims_checked, answer.claims_dropped = checked.claims_checked, checked.claims_dropped
        answer.dropped, answer.verdicts = checked.dropped, checked.verdicts
        answer.citations = checked.citations
        if checked.citations:
            answer.text = " ".join([checked.text, *find_conflicts(checked.citations, standalone)])
            answer.notices.extend(newest_source_notice(checked.citations))
            answer.notices.extend(older_sources_notice(standalone, checked.citations, query.as_of))
        elif checked.unconfirmed and checked.text.strip():
            # only sentences no passage states or contradicts: they stay, marked, with the passages listed
            # (NEWSRAG_CHECK=strict removes them, and the answer is a refusal)
            answer.text = checked.text
            answer.notices.append(load_prompt("unconfirmed_answer"))
        else:
            answer.refused, answer.text = True, REFUSAL
        rest = answer.text if answer.refused else guard.rest(answer.text)
        if rest:
            yield TextPiece(rest)
        answer.timings = {"retrieve": t1 - t0, "answer": time.perf_counter() - t1,
                          "total": time.perf_counter() - t0, **timings}
        yield Final(answer)

    def search(self, query: str, *, k: int | None = None, sources: Sequence[str] | None = None, since: Any = None,
               until: Any = None, as_of: Any = None) -> list[Hit]:
        """The k passages retrieval ranks best for `query` (the passages an answer would be written from), with
        the same checks and filters as a question."""
        query = self._validate(query)
        return self.retriever.retrieve(self._plan(query, sources=sources, since=since, until=until, as_of=as_of), k=k)

    # -- steps -----------------------------------------------------------------------------------------------
    def _plan(self, question: str, **filters: Any):
        try:
            return self.retriever.plan(question, **filters)
        except ValueError as exc:
            raise InputError(f"{exc} (for since/until/as_of).") from None

    def _from_quotes(self, answer: Answer, drafted: QuoteDraft, *, t0: float, timings: dict[str, float],
                     as_of: date | None = None) -> Answer | None:
        """The checked quote-index answer, or None when the check keeps none of it (then passages answer). What
        the index lacks (`lead`) and holds beyond the answer (`trail`) are the product's words, said as they are."""
        t1 = time.perf_counter()
        hits = drafted.hits
        guard = self._guard(answer.standalone_question or answer.question, hits, as_of)
        guard.feed(drafted.body)
        checked = guard.finish()
        if not checked.citations:
            return None
        answer.passages = hits
        answer.claims_checked, answer.claims_dropped = checked.claims_checked, checked.claims_dropped
        answer.dropped, answer.verdicts = checked.dropped, checked.verdicts
        answer.citations = checked.citations
        answer.notices.extend(newest_source_notice(checked.citations))
        answer.notices.extend(older_sources_notice(answer.standalone_question or answer.question, checked.citations,
                                                   as_of))
        # Verbatim quotes from the index, whatever the answerer: no model paraphrases who said what.
        answer.answerer = "extractive" if self.answerer.name == "extractive" else "extractive (quote index)"
        answer.text = " ".join(x for x in (drafted.lead, checked.text, drafted.trail) if x)
        answer.timings = {"retrieve": t1 - t0, "answer": time.perf_counter() - t1,
                          "total": time.perf_counter() - t0, **timings}
        return answer

    @staticmethod
    def _drafted(guard: CheckedStream, pieces: Iterator[str], question: str, hits: Sequence[Hit]
                 ) -> Iterator[TextPiece]:
        """Feed a draft through the claim check (rag.check.stream.checked_pieces), then, when two sources state the
        same thing with other answers, both statements with their [n]."""
        for released in checked_pieces(guard, pieces):
            yield TextPiece(released)
        rivals = with_rival_statements(guard.draft, question, hits)[len(guard.draft.rstrip()):]
        if rivals.strip():
            for released in checked_pieces(guard, [rivals]):
                yield TextPiece(released)

    def _guard(self, question: str, hits: Sequence[Hit], as_of: date | None = None) -> CheckedStream:
        """The claim check for one answer; "this week" is judged against `as_of`, or today."""
        return CheckedStream(question, hits, threshold=self.settings.support_threshold,
                             strict=self.settings.check == "strict", today=as_of or date.today())

    def _verified(self, guard: CheckedStream, answerer: Any, answer: Answer):
        """The draft checked, and the LLM's verdicts: with an LLM (and NEWSRAG_LLM_VERIFY on), the sentences the
        rules leave unconfirmed are read by it in one call and its verdicts joined to the rules'
        (rag/check/verify_llm.py)."""
        checked = guard.finish()
        model = getattr(answerer, "chat_model", None)
        if not (self.settings.llm_verify and model is not None and checked.unconfirmed):
            return checked, {}
        overrides, notice = verify_unconfirmed(model, checked.unconfirmed, guard.hits,
                                               timeout=self.settings.llm_verify_timeout, name=answerer.name)
        if notice:
            answer.notices.append(notice)
        return (guard.finish(overrides) if overrides else checked), overrides

    def _validate(self, question: str) -> str:
        question = (question or "").strip()
        if not "".join(c for c in question if unicodedata.category(c) not in ("Cf", "Zs", "Cc")).strip():
            # zero-width spaces, joiners and marks alone are as empty as no text
            raise InputError("The question is empty: type a question about the ingested news.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InputError(f"The question is {len(question):,} characters long; the limit is {limit:,} "
                             "(NEWSRAG_MAX_QUESTION_CHARS). Ask it in fewer words.")
        self.index.refresh()  # another process may have added or removed coverage since the last question
        if not self.index.has_articles():
            raise EmptyStoreError(str(self.settings.home))
        return question

    def _rewrite(self, question: str, history: Sequence[Turn], answer: Answer) -> str:
        """A follow-up that leans on the conversation is rewritten with it; a self-contained question is asked
        as it stands (an earlier subject carried into an unrelated question finds the wrong coverage)."""
        if not history or not refers_back(question):
            return question
        asked = [t.get("content", "") for t in history if t.get("role") == "user" and (t.get("content") or "").strip()]
        followed = quote_followup(question, asked[-1]) if asked else None
        if followed:  # "and the principal?" after "What did the coach say?": the same question of another person
            return followed
        try:
            return self.answerer.rewrite(question, history) or question
        except LLMError as exc:
            answer.notices.append(f"Could not rewrite the follow-up with the LLM ({exc}); used the history's subject.")
            return self._fallback.rewrite(question, history)

    def _relevant(self, question: str, hits: Sequence[Hit], query=None) -> bool:
        """Answer or refuse on the question and the evidence together (rag.answer.refusal)."""
        dated = bool(query is not None and query.recent)
        if query is not None and (query.prefer_since or query.prefer_until):
            # "What happened this week?" is answered by passages of those dates, so only when there are some
            low = query.prefer_since.isoformat() if query.prefer_since else ""
            high = query.prefer_until.isoformat() if query.prefer_until else "9999-12-31"
            dated = any(low <= h.passage.published_at[:10] <= high for h in hits[:5] if h.passage.published_at)
        return should_answer(question, hits, refuse_below=self.settings.refuse_below, dated=dated,
                             sources=self.index.sources)


def _opening(checked) -> str | None:
    """The verdict on the first claim a checked answer keeps (None when it keeps none; "Sure!" is no claim)."""
    return next((v["verdict"] for v in checked.verdicts
                 if v.get("kept") and not (v["verdict"] == "supported" and v.get("rule") == "empty")), None)


def _opens_unconfirmed(checked) -> bool:
    """Does the checked answer open with a sentence the passages do not confirm (kept, marked)?"""
    return _opening(checked) == "unconfirmed"


def _quietly(step) -> None:
    try:
        step()
    except Exception:  # noqa: BLE001 - the first question meets the error again and reports it
        pass


def newest_source_notice(citations: Sequence[Citation]) -> list[str]:
    """One notice naming the newest cited source, when the citations come from more than one day."""
    days = {c.published_at[:10] for c in citations if c.published_at}
    if len(days) < 2:
        return []
    newest = max(days)
    markers = ", ".join(f"[{n}]" for n in sorted({c.n for c in citations if (c.published_at or "")[:10] == newest}))
    return [load_prompt("newest_source_notice").format(oldest=min(days), newest=newest, markers=markers)]


_default: Assistant | None = None
_default_lock = threading.Lock()


def older_sources_notice(question: str, citations: Sequence[Citation], as_of: date | None) -> list[str]:
    """One notice when the question asks about "this week" (or "now", "latest") and every cited source is older
    than that: the answer may tell of an earlier event ("which automaker recalled … this week?" from a 2015 recall)."""
    older = sources_before_reach(question, [c.published_at for c in citations], as_of or date.today())
    return [load_prompt("older_sources_notice").format(phrase=older[0], newest=older[1])] if older else []


def ask(question: str, *, history: Sequence[Turn] | None = None, sources: Sequence[str] | None = None,
        since: Any = None, until: Any = None, as_of: Any = None) -> Answer:
    """Answer a question from the coverage in NEWSRAG_HOME, with settings from the environment; `as_of`:
    answer as of that day (YYYY-MM-DD or a date)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant.from_settings(Settings.from_env())
    return _default.ask(question, history=history, sources=sources, since=since, until=until, as_of=as_of)
