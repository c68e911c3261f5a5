"""What other programs may ask of newsrag, on a ready Assistant: one place for the JSON API (`rag/frontends/api/http.py`)
and the MCP server (`rag/frontends/api/mcp.py`), so both answer alike and alike to the web chat.

Every method takes plain values and returns plain JSON-ready dicts; answers are `Answer.to_dict()` as they stand
(fields added to the Answer flow through). Input the caller can fix raises a NewsragError whose message says
what to do; the messages that are the API's own live in `prompts/api_messages.md`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from rag.core.errors import InputError, NewsragError
from rag.core.events import Final, TextPiece
from rag.core.prompts import load_prompt
from rag.frontends.web.data import (
    _file_name,
    coverage_rows,
    day_counts,
    filter_rows,
    parse_urls,
)
from rag.frontends.web.render import plain_history
from rag.jobs.ingestor import ingestor_for
from rag.jobs.queue import KEEP_FINISHED, IngestJobs, Job
from rag.nlp.dates import to_date

if TYPE_CHECKING:  # pragma: no cover
    from rag.answer.assistant import Assistant

__all__ = ["Service", "NotFound", "message", "MAX_K", "MAX_LIMIT"]

MAX_K = 50  # passages one search may return
MAX_LIMIT = 500  # rows (articles, quotes) one listing may return


class NotFound(NewsragError):
    """No article or job has the id asked for."""


@lru_cache(maxsize=1)
def _messages() -> dict[str, str]:
    out = {}
    for line in load_prompt("api_messages").splitlines():
        key, sep, text = line.partition(": ")
        if sep and key.strip():
            out[key.strip()] = text.strip()
    return out


def message(key: str, **values: Any) -> str:
    """The fixed user-facing message `key` of prompts/api_messages.md, filled in."""
    return _messages()[key].format(**values)


def _day(value: Any, name: str):
    try:
        return to_date(value or None)
    except ValueError as exc:
        raise InputError(f"{exc} (for {name}).") from None


def _sources(sources: Any) -> list[str] | None:
    """Outlets as a list (a comma-separated string is split)."""
    if isinstance(sources, str):
        sources = sources.split(",")
    return [s.strip() for s in (sources or []) if s and s.strip()] or None


def _bounded(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(message("not_a_number", name=name, low=low, high=high))
    return value


MAX_HISTORY_TURNS = 20  # a follow-up leans on the latest turns: older ones are dropped before anything reads them
MAX_HISTORY_CHARS = 40_000  # those turns together; more is refused (the web /ask took 2 MB)


def bounded_history(history: list) -> list[dict[str, str]]:
    """The last MAX_HISTORY_TURNS turns of a client's history; InputError when they hold over MAX_HISTORY_CHARS."""
    turns = plain_history([t for t in history[-MAX_HISTORY_TURNS:] if isinstance(t, dict)])
    size = sum(len(t["content"]) for t in turns)
    if size > MAX_HISTORY_CHARS:
        raise InputError(message("history_too_long", size=f"{size:,}", limit=f"{MAX_HISTORY_CHARS:,}",
                                 turns=MAX_HISTORY_TURNS))
    return turns


class Service:
    """The operations, on one Assistant. `jobs` is the ingest worker to share (the web chat's, under `serve`)."""

    def __init__(self, assistant: "Assistant", jobs: IngestJobs | None = None) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self._jobs = jobs
        self._lock = threading.Lock()

    @property
    def jobs(self) -> IngestJobs:
        """The ingest worker: the one given, or one of its own started on first use."""
        with self._lock:
            if self._jobs is None:
                assistant = self.assistant
                self._jobs = IngestJobs(lambda targets, progress: ingestor_for(assistant).ingest(targets,
                                                                                              progress=progress))
            return self._jobs

    # -- answers ---------------------------------------------------------------------------------------------
    def ask(self, question: str, *, history: Sequence[dict] | None = None, sources: Any = None,
            since: str | None = None, until: str | None = None, as_of: str | None = None) -> dict[str, Any]:
        """The checked answer, as `Answer.to_dict()`."""
        answer = self.assistant.ask(question or "", **self._ask_args(history, sources, since, until, as_of))
        return answer.to_dict()

    def stream(self, question: str, *, history: Sequence[dict] | None = None, sources: Any = None,
               since: str | None = None, until: str | None = None, as_of: str | None = None
               ) -> Iterator[str | dict[str, Any]]:
        """Checked text as the claim check releases it (str), then the answer (a dict, as from `ask`)."""
        for event in self.assistant.stream(question or "", **self._ask_args(history, sources, since, until, as_of)):
            if isinstance(event, TextPiece):
                yield event.text
            elif isinstance(event, Final):
                yield event.answer.to_dict()

    def _ask_args(self, history: Any, sources: Any, since: Any, until: Any, as_of: Any) -> dict[str, Any]:
        if history is not None and not isinstance(history, list):
            raise InputError(message("history_not_list"))
        return dict(history=bounded_history(history or []),
                    sources=_sources(sources), since=(since or "").strip() or None,
                    until=(until or "").strip() or None, as_of=(as_of or "").strip() or None)

    def search(self, query: str, *, k: int | None = None, sources: Any = None, since: str | None = None,
               until: str | None = None, as_of: str | None = None) -> dict[str, Any]:
        """The passages retrieval ranks best for the query: each with its scores and its article's metadata."""
        k = self.settings.top_k if k is None else _bounded(k, "k", 1, MAX_K)
        hits = self.assistant.search(query or "", k=k, sources=_sources(sources), since=(since or "").strip() or None,
                                     until=(until or "").strip() or None, as_of=(as_of or "").strip() or None)
        return {"query": (query or "").strip(), "passages": [h.to_dict() for h in hits]}

    def quotes(self, *, speaker: str | None = None, topic: str | None = None, sources: Any = None,
               since: str | None = None, until: str | None = None, limit: int = 20) -> dict[str, Any]:
        """Who said what, from the quote index, newest first: the words, the speaker as credited, the article."""
        speaker, topic = (speaker or "").strip(), (topic or "").strip()
        if not speaker and not topic:
            raise InputError(message("quotes_need"))
        limit = _bounded(limit, "limit", 1, MAX_LIMIT)
        self.assistant.index.refresh()
        found = self.assistant.quotes.find(speaker=speaker or None, topic=topic or None, sources=_sources(sources),
                                           since=_day(since, "since"), until=_day(until, "until"))
        return {"speaker": speaker or None, "topic": topic or None, "total": len(found),
                "quotes": [_quote(q) for q in found[:limit]]}

    # -- coverage --------------------------------------------------------------------------------------------
    def _rows(self, *, sources: Any = None, since: Any = None, until: Any = None, query: str | None = None
              ) -> list[dict[str, Any]]:
        low, high = _day(since, "since"), _day(until, "until")
        keep = _sources(sources)
        self.assistant.index.refresh()
        rows = filter_rows(coverage_rows(self.assistant.catalog), query)
        if keep:
            rows = [r for r in rows if r["outlet"] in keep]
        if low or high:  # a date range keeps dated articles only
            rows = [r for r in rows if r["date"] and (not low or r["date"][:10] >= low.isoformat())
                    and (not high or r["date"][:10] <= high.isoformat())]
        return rows

    def coverage(self, *, sources: Any = None, since: str | None = None, until: str | None = None) -> dict[str, Any]:
        """Articles by day and outlet (dated ones), with totals per outlet and the count of undated articles."""
        rows = self._rows(sources=sources, since=since, until=until)
        outlets: dict[str, int] = {}
        for r in rows:
            outlets[r["outlet"] or "unknown"] = outlets.get(r["outlet"] or "unknown", 0) + 1
        return {"articles": len(rows), "undated": sum(1 for r in rows if not r["date"]),
                "outlets": dict(sorted(outlets.items(), key=lambda x: (-x[1], x[0]))),
                "days": [{"day": d.isoformat(), "outlet": o, "articles": n} for d, o, n in day_counts(rows)]}

    def articles(self, *, query: str | None = None, sources: Any = None, since: str | None = None,
                 until: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Distinct articles, newest first (id, title, outlet, date, url, file), a page at a time."""
        limit = _bounded(limit, "limit", 1, MAX_LIMIT)
        offset = _bounded(offset, "offset", 0, 10**9)
        rows = self._rows(sources=sources, since=since, until=until, query=query)
        return {"total": len(rows), "offset": offset, "articles": rows[offset:offset + limit]}

    def article(self, article_id: str) -> dict[str, Any]:
        """One article with its whole text (and the ids of the copies set aside as its duplicates)."""
        self.assistant.index.refresh()
        row = self.assistant.catalog.get((article_id or "").strip())
        if row is None:
            raise NotFound(message("no_article", id=json.dumps(article_id)))
        out = asdict(row.article)
        out.pop("content_hash", None)
        origin = out.pop("origin", "")  # a path on the server: only the file's name is the caller's business
        out["file"] = "" if out.get("url") else _file_name(origin)
        out.update(passages=row.passage_count, duplicate_of=row.duplicate_of,
                   duplicates=[d.article.id for d in self.assistant.catalog.duplicates_of(row.article.id)])
        return out

    # -- adding coverage -------------------------------------------------------------------------------------
    def submit(self, *, urls: Sequence[str] = (), articles: Sequence[dict[str, Any]] = ()) -> Job:
        """Queue an ingest of article or feed URLs (http(s) only: a path never makes the server read its own
        files) and article records ({text, title?, url?, source?, published_at?, author?}); the fetcher's rules
        (public addresses only, NEWSRAG_MAX_INPUT_BYTES) apply as for the web chat's."""
        good: list[str] = []
        for u in urls:
            ok = parse_urls(u)[0] if isinstance(u, str) and "\n" not in u.strip() else []
            if len(ok) != 1:
                raise InputError(message("not_a_url", url=json.dumps(str(u)[:200])))
            good.extend(ok)
        good = list(dict.fromkeys(good))
        records = [dict(a) for a in articles]
        for n, a in enumerate(records, 1):
            if not isinstance(a.get("text"), str) or not a["text"].strip():
                raise InputError(message("article_without_text", n=n - 1))
        if not good and not records:
            raise InputError(message("nothing_to_ingest"))
        targets, folder = list(good), None
        if records:
            folder = Path(tempfile.mkdtemp(prefix="newsrag-api-"))
            path = folder / "api-articles.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
            targets.append(str(path))
        try:
            return self.jobs.submit(targets, after=(lambda job: shutil.rmtree(folder, ignore_errors=True))
                                    if folder else None)
        except NewsragError:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    def job(self, job_id: int) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(message("no_job", id=job_id, keep=KEEP_FINISHED))
        return job_dict(job)


def job_dict(job: Job) -> dict[str, Any]:
    """An ingest job as JSON: id, state (waiting | running | done | failed | stopped), inputs read, the report
    (added, updated, duplicates, failed with reasons ...) once done, the error when it failed."""
    report = job.report
    if report is not None:  # origins are URLs or the server's temporary files: only a file's name is shown
        items = {kind: [{**x, "origin": _file_name(x["origin"])} if isinstance(x, dict) and x.get("origin") else x
                        for x in rows] for kind, rows in (report.get("items") or {}).items()}
        report = {**report, "items": items}
    return {"id": job.id, "state": job.state, "inputs_read": job.done_inputs, "report": report,
            "error": job.error}


def _quote(q) -> dict[str, Any]:
    return {"speaker": q.quote.speaker, "description": q.quote.description, "kind": q.quote.kind,
            "text": q.quote.text, "article_id": q.quote.article_id, "start": q.quote.start, "end": q.quote.end,
            "title": q.title, "source": q.source, "published_at": q.published_at, "url": q.url}
