"""The Gradio web chat: a thin adapter from browser (or gradio_client) events to a ready Assistant.

Tabs: Chat (streamed, cited answers; a sources panel with the quoted words highlighted; outlet and date
and as-of filters), Add coverage (upload files or paste URLs, with progress and a report) and Coverage (a searchable
table and a chart of articles per day by outlet). API endpoints for gradio_client: `/ask` (question, optional
history, sources, since, until, as_of -> the Answer as a dict) and `/ingest` (files, URLs -> the report as HTML).
gradio is imported only when a UI is built.
"""

from __future__ import annotations

import html
import json
import logging
import os
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from rag.attribution.refresh import QuoteRefresher
from rag.core.errors import NewsragError, SettingsError, StoreError
from rag.core.events import Final, TextPiece
from rag.core.settings import Settings
from rag.frontends.api.service import Service
from rag.frontends.web.conversations import ConversationStore
from rag.frontends.web.data import (
    chart_bucket,
    chart_frame,
    chart_top,
    coverage_rows,
    describe_row,
    example_questions,
    filter_rows,
    md_text,
    parse_urls,
    pasted_record,
    table_frame,
    table_note,
    undated_note,
)
from rag.frontends.web.feeds import EVERY, FeedWatcher
from rag.frontends.web.login import LoginGuard
from rag.frontends.web.render import (
    CSS,
    HEAD,
    answer_markdown,
    answer_sources,
    empty_sources_html,
    error_notice,
    md_escape,
    notice_markdown,
    plain_history,
    report_html,
    sources_panel,
    status_line,
)
from rag.jobs.ingestor import ingestor_for
from rag.jobs.queue import IngestJobs

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr

    from rag.answer.assistant import Assistant

__all__ = ["build_ui", "launch", "shutdown", "auth_pair", "theme", "CONCURRENCY"]

CONCURRENCY = 4  # events of one kind served at once (the queue holds the rest)
TABLE_ROWS = 500  # coverage table rows shown at once (the search box narrows them)
POLL_SECONDS = 0.25  # how often an ingest request looks at its job
MSG_LINES = 6  # the question box grows to this many lines, then scrolls
log = logging.getLogger("newsrag.web")

_THINKING = "_Searching the coverage…_"
INTERNAL_ERROR = ("Something went wrong while answering ({kind}); the server log has the details. "
                  "Your question is back in the box: try again.")


def _user_error(exc: BaseException) -> Exception:
    """A gr.Error carrying a NewsragError's message (escaped: the modal renders HTML)."""
    import gradio as gr

    return gr.Error(html.escape(str(exc), quote=False), title="Cannot answer", print_exception=False)


def _internal_error(what: str, exc: BaseException) -> Exception:
    import gradio as gr

    log.exception("web: %s failed", what)
    return gr.Error(f"Something went wrong while {what} ({html.escape(type(exc).__name__)}); "
                    "the server log has the details. Try again.", print_exception=False)


class _Handlers:
    """The event handlers, holding the assistant and a coverage cache keyed by the catalog version."""

    def __init__(self, assistant: "Assistant", examples: Sequence[str] | None) -> None:
        self.assistant = assistant
        self.extra_examples = list(examples or [])
        self._lock = threading.Lock()
        self._cache: tuple[int, list[dict[str, Any]], list[list[str]]] | None = None
        self.jobs = IngestJobs(lambda targets, progress: ingestor_for(assistant).ingest(targets, progress=progress),
                               shared=assistant.index.job_queue(),  # the catalog's jobs, when replicas share one
                               lease_s=assistant.settings.job_lease_seconds)
        self.conversations = ConversationStore(assistant.settings.home, catalog=assistant.index)
        self.feeds = FeedWatcher(assistant.settings.home, self.jobs.submit,  # started by launch()
                                 catalog=assistant.index)
        self.service = Service(assistant, self.jobs)  # what /api/* (rag/frontends/api/http.py) and gr.api's /ask serve

    # -- chat ------------------------------------------------------------------------------------------------
    def respond(self, message: str, turns: list[dict] | None, chat: list | None, sources: list[str] | None,
                since: str | None, until: str | None, as_of: str | None = None,
                panels: list[str] | None = None) -> Iterator[tuple]:
        """Stream one answer into the chat: (chat, turns, sources panel, notice, textbox, panels) per update.
        `panels` holds each earlier answer's sources, so its [n] links keep finding them."""
        message = message or ""
        panels = list(panels or [])
        turn = len(panels) + 1
        turns = plain_history(turns or [])
        before = list(chat or [])
        shown = before + [{"role": "user", "content": md_escape(message.strip())},
                          {"role": "assistant", "content": _THINKING}]
        yield list(shown), turns, _keep(), "", "", _keep()
        text = ""
        try:
            for piece in self.assistant.stream(message, history=turns, sources=sources or None,
                                               since=(since or "").strip() or None, until=(until or "").strip() or None,
                                               as_of=(as_of or "").strip() or None):
                if isinstance(piece, Final):
                    answer = piece.answer
                    break
                if isinstance(piece, TextPiece):
                    text += piece.text
                    shown[-1] = {"role": "assistant", "content": md_escape(text) + " ▌"}
                    yield list(shown), turns, _keep(), "", "", _keep()
            else:  # pragma: no cover - stream always ends with an Answer
                raise RuntimeError("the answer stream ended without an answer")
        except NewsragError as exc:  # beside the chat, never instead of it: the conversation stays
            # the turn taken back, the text given back
            yield before, turns, _keep(), error_notice(str(exc)), message, _keep()
            return
        except Exception as exc:  # keep serving; the log has the traceback
            log.exception("web: answering failed")
            yield (before, turns, _keep(), error_notice(INTERNAL_ERROR.format(kind=type(exc).__name__)), message,
                   _keep())
            return
        shown[-1] = {"role": "assistant", "content": answer_markdown(answer, turn)}
        turns = turns + [{"role": "user", "content": answer.question},
                         {"role": "assistant", "content": answer.text}]
        panels.append(answer_sources(answer, turn))
        yield shown, turns, sources_panel(panels), notice_markdown(answer), "", panels

    def respond_kept(self, message: str, turns: list[dict] | None, chat: list | None, sources: list[str] | None,
                     since: str | None, until: str | None, as_of: str | None, panels: list[str] | None,
                     conversation_id: str | None, user: str | None) -> Iterator[tuple]:
        """`respond`, and each finished answer saved to the user's earlier chats: one more output per update,
        the chat's id (the earlier-chats list is refreshed after the event: `history_update`)."""
        for update in self.respond(message, turns, chat, sources, since, until, as_of, panels):
            if isinstance(update[5], list):  # the final update of an answer carries the panels
                try:
                    conversation_id = self.conversations.save(user, conversation_id, update[0], update[1],
                                                              update[5])
                except (OSError, StoreError) as exc:  # a full disk or a catalog that is away must not cost the answer
                    log.warning("web: the chat could not be saved (%s)", exc)
                    yield (*update, _keep())
                    continue
                yield (*update, conversation_id)
            else:
                yield (*update, _keep())

    def history_update(self, user: str | None, selected: str | None = None) -> Any:
        """The earlier-chats dropdown: the user's chats, newest first, this one selected."""
        import gradio as gr

        return gr.update(choices=history_choices(self.conversations.list(user)), value=selected)

    def open_chat(self, conversation_id: str | None, user: str | None) -> tuple:
        """Reopen one of the user's earlier chats: chat, turns, sources panel, notice, panels, its id."""
        found = self.conversations.get(user, conversation_id)
        if found is None:
            return ([], [], empty_sources_html(), error_notice("That chat is no longer kept; start a new one."),
                    [], None)
        return (found["chat"], found["turns"], sources_panel(found["panels"]) if found["panels"]
                else empty_sources_html(), "", found["panels"], found["id"])

    def restore(self, user: str | None) -> tuple:
        """On page load: the user's latest chat back (chat, turns, sources, panels, id) and the list."""
        chats = self.conversations.list(user)
        latest = chats[0]["id"] if chats else None
        chat, turns, panel, _, panels, conversation_id = (self.open_chat(latest, user) if latest
                                                            else ([], [], empty_sources_html(), "", [], None))
        return chat, turns, panel, panels, conversation_id, self.history_update(user, conversation_id)

    def api_ask(self, question: str, history: list[dict] | None = None, sources: list[str] | None = None,
                since: str = "", until: str = "", as_of: str = "") -> dict:
        """Answer a question from the ingested coverage. history: earlier turns as [{"role", "content"}];
        sources: outlets to keep; since/until: YYYY-MM-DD; as_of: YYYY-MM-DD, answer as of that day. Returns the Answer as a dict (text with [n] markers,
        citations with quotes and offsets, passages, notices, timings)."""
        if isinstance(history, str):
            try:
                history = json.loads(history) if history.strip() else None
            except ValueError:
                raise _user_error(NewsragError("history is not JSON: pass a list of {role, content}")) from None
        if isinstance(sources, str):
            sources = [s.strip() for s in sources.split(",") if s.strip()]
        try:  # the JSON API's and the MCP server's own path (rag/frontends/api/service.py): one answer for all of them
            return self.service.ask(question or "", history=history, sources=sources, since=since, until=until,
                                    as_of=as_of)
        except NewsragError as exc:
            raise _user_error(exc) from None
        except Exception as exc:
            raise _internal_error("answering", exc) from None

    # -- ingest ----------------------------------------------------------------------------------------------
    def ingest(self, files: list[str] | None, urls: str | None, progress: Any = None) -> str:
        """Ingest uploaded files and pasted URLs; return the report as HTML (failures with their reasons)."""
        import gradio as gr

        paths = [str(f) for f in (files or []) if f]
        good, bad = parse_urls(urls)
        if not paths and not good and not bad:
            raise gr.Error("Nothing to ingest: choose files, or paste article or feed URLs (one per line).",
                           print_exception=False)
        names = {p: os.path.basename(p) for p in paths}
        if progress is not None:
            progress(0.0, desc="Reading inputs…")

        def step(n: int, origin: str) -> None:
            if progress is not None:
                progress((n, None), desc=f"Read {names.get(origin, os.path.basename(origin) or origin)}",
                         unit="inputs")

        report: dict[str, Any] = {"added": 0, "updated": 0, "unchanged": 0, "duplicates": 0, "failed": 0,
                                  "passages": 0, "seconds": 0.0, "items": {"failed": []}}
        if paths or good:
            report = self._run_job([*paths, *good], progress, step)
        report["items"].setdefault("failed", []).extend(bad)
        report["failed"] = len(report["items"]["failed"])
        if report["failed"]:
            gr.Warning(f"{report['failed']} input{'s' if report['failed'] > 1 else ''} failed: the report says why.")
        return report_html(report, names)

    def _run_job(self, targets: list[str], progress: Any, step: Any = None) -> dict[str, Any]:
        """Queue an ingest and wait for its report, telling `progress` how far it is (the work runs in the
        ingest worker; this only reports on it)."""
        try:
            job = self.jobs.submit(targets)
        except NewsragError as exc:
            raise _user_error(exc) from None
        while not job.wait(POLL_SECONDS):
            ahead = self.jobs.ahead_of(job)
            if progress is not None and ahead:
                progress(0.0, desc=f"Waiting: {ahead} ingest{'s' if ahead > 1 else ''} ahead of this one…")
            elif step is not None and job.state == "running" and job.done_inputs:
                step(job.done_inputs, job.label)
        if job.state != "done" or job.report is None:
            raise _user_error(NewsragError(job.error or "The ingest did not finish."))
        return job.report

    def paste(self, title: str | None, outlet: str | None, day: str | None, url: str | None, text: str | None,
              progress: Any = None) -> str:
        """Ingest one pasted article (its text, and optionally title, outlet, date, link); the report as HTML."""
        settings = self.assistant.settings
        try:
            record = pasted_record(title, outlet, day, url, text, max_chars=settings.max_input_bytes)
        except NewsragError as exc:
            raise _user_error(exc) from None
        folder = Path(settings.home) / "pasted"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{record['id']}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        if progress is not None:
            progress(0.0, desc="Reading the pasted article…")
        try:
            report = self._run_job([str(path)], progress)
        finally:
            path.unlink(missing_ok=True)  # read into the store; the file is not kept
        return report_html(report, {str(path): "pasted text"})

    # -- one article: remove, fetch again ------------------------------------------------------------------
    def selected(self, query: str | None, evt: Any) -> tuple[str, str]:
        """A click on a coverage table row: (the article's id, the line naming it)."""
        index = getattr(evt, "index", None)
        row_number = index[0] if isinstance(index, (list, tuple)) and index else index
        found = filter_rows(self.rows(), query)[:TABLE_ROWS]
        if not isinstance(row_number, int) or not 0 <= row_number < len(found):
            return "", describe_row(None)
        row = found[row_number]
        return row["id"], describe_row(row)

    def _row(self, article_id: str | None) -> dict[str, Any]:
        row = next((r for r in self.rows() if article_id and r["id"] == article_id), None)
        if row is None:
            raise _user_error(NewsragError("Select an article in the coverage table first (click its row); it "
                                           "may have been removed already."))
        return row

    def remove(self, article_id: str | None) -> tuple[str, str]:
        """Remove the selected article and its passages: (the report line, the cleared selection)."""
        row = self._row(article_id)
        try:
            article = ingestor_for(self.assistant).remove(row["id"])
        except NewsragError as exc:
            raise _user_error(exc) from None
        if article is None:
            raise _user_error(NewsragError("That article is no longer stored (removed already?)."))
        if row.get("file") == "pasted text":
            back = "Paste its text again to bring it back."
        else:
            back = f"Ingest {md_escape(row.get('url') or row.get('file') or 'its file')} again to bring it back."
        return f"Removed **{md_escape(article.title or '(untitled)')}**. {back}", ""

    def refetch(self, article_id: str | None, progress: Any = None) -> str:
        """Fetch the selected article's URL again and ingest it (updated when its text changed)."""
        row = self._row(article_id)
        if not row.get("url"):
            raise _user_error(NewsragError("This article has no URL, so it cannot be fetched again: upload its "
                                           "file again in the Add coverage tab."))
        if progress is not None:
            progress(0.0, desc="Fetching the article again…")
        report = self._run_job([row["url"]], progress)
        c = {k: int(report.get(k, 0)) for k in ("added", "updated", "unchanged", "duplicates", "failed")}
        failed = report.get("items", {}).get("failed") or []
        if failed:
            return f"Could not fetch it again: {md_escape(str(failed[0].get('reason')))}"
        if c["updated"]:
            return f"Fetched again: **{md_escape(row['title'])}** changed, and the stored copy is updated."
        if c["unchanged"]:
            return f"Fetched again: **{md_escape(row['title'])}** has not changed."
        return "Fetched again: " + ", ".join(f"{k} {v}" for k, v in c.items() if v)

    # -- watched feeds -------------------------------------------------------------------------------------
    def feeds_view(self) -> tuple[str, Any]:
        """The watched feeds as a Markdown table, and the stop-watching dropdown's choices."""
        import gradio as gr

        feeds = self.feeds.feeds()
        return feeds_markdown(feeds), gr.update(choices=[f["url"] for f in feeds], value=None)

    def watch_feed(self, url: str | None, every: str | None) -> tuple[str, Any, str]:
        """Watch a feed URL (its first round starts now): the table, the dropdown, the cleared URL box."""
        try:
            self.feeds.add(url, every)
        except NewsragError as exc:
            raise _user_error(exc) from None
        return (*self.feeds_view(), "")

    def unwatch_feed(self, url: str | None) -> tuple[str, Any]:
        if not url:
            raise _user_error(NewsragError("Choose the feed to stop watching."))
        self.feeds.remove(url)
        return self.feeds_view()

    def api_ingest_status(self) -> dict:
        """The ingest worker: {"running": {"id", "inputs_read", "label"} or null, "waiting": n, "stopping": bool}."""
        return self.jobs.status()

    # -- coverage --------------------------------------------------------------------------------------------
    def _cached(self) -> tuple[list[dict[str, Any]], list[list[str]]]:
        """Coverage rows and example questions, recomputed only when the catalog changes."""
        catalog = self.assistant.catalog
        version = catalog.version()
        with self._lock:
            if self._cache is None or self._cache[0] != version:
                examples = example_questions(catalog, extra=self.extra_examples)
                self._cache = (version, coverage_rows(catalog), [[q] for q in examples])
            return self._cache[1], self._cache[2]

    def rows(self) -> list[dict[str, Any]]:
        return self._cached()[0]

    def examples(self) -> list[list[str]]:
        return self._cached()[1]

    def search(self, query: str | None) -> tuple[Any, ...]:
        """The table and the chart filtered by the query, the line that says how many match, and the undated note."""
        rows = self.rows()
        found = filter_rows(rows, query)
        note = undated_note(found) if found or not rows else "No articles match the search."
        return table_frame(found[:TABLE_ROWS]), table_note(len(found), len(rows), TABLE_ROWS), chart(found), note

    def refresh(self, query: str | None = "") -> tuple:
        """Everything that depends on the coverage: outlets, status, examples, table (+ note), chart (+ note)."""
        import gradio as gr

        stats = self.assistant.stats()
        rows = self.rows()
        return (gr.update(choices=list(stats.get("sources") or [])), status_line(stats),
                gr.Dataset(samples=self.examples()), *self.search(query))


# gr.api reads the return annotation unevaluated (a string under `from __future__ import annotations`).
_Handlers.api_ask.__annotations__["return"] = dict[str, Any]
_Handlers.api_ingest_status.__annotations__["return"] = dict[str, Any]


def feeds_markdown(feeds: Sequence[dict[str, Any]]) -> str:
    """The watched feeds, each with its interval, when it was last read and what that round did."""
    if not feeds:
        return "No feeds are watched. Paste a feed URL above: it is read now and then on its schedule."
    names = {v: k for k, v in EVERY.items()}
    rows = ["| Feed | Every | Last read | Last round |", "|---|---|---|---|"]
    for f in feeds:
        when = ("reading now" if f.get("running") else
                time.strftime("%d %b %H:%M", time.localtime(float(f["last_run"]))) if f.get("last_run") else "not yet")
        every = names.get(int(f["every"]), f"{int(f['every'])} s")
        rows.append(f"| {md_text(f['url'])} | {every} | {when} | {md_text(f.get('last_result') or '')} |")
    return "\n".join(rows)


def _user(request: Any) -> str | None:
    """The login name of the request (None without a login)."""
    return getattr(request, "username", None) or None


def history_choices(chats: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(label, id) per earlier chat: its first question, how many answers, when it was last used."""
    out = []
    for c in chats:
        when = time.strftime("%d %b %H:%M", time.localtime(float(c.get("updated_at") or 0)))
        n = int(c.get("answers") or 0)
        title = c["title"] if len(c["title"]) <= 44 else c["title"][:43].rstrip() + "…"
        out.append((f"{title} · {n} answer{'' if n == 1 else 's'} · {when}", c["id"]))
    return out


def chart(rows: Sequence[dict[str, Any]]) -> Any:
    """The coverage chart for these rows: bars per day (week, month for long spans) on a time axis, a y axis
    that ticks whole numbers."""
    import gradio as gr

    bucket = chart_bucket(rows)
    frame = chart_frame(rows, bucket)
    return gr.BarPlot(frame, x="day", y="articles", color="outlet", sort="x", y_lim=[0, chart_top(frame)],
                      x_bin=_BIN[bucket], y_aggregate="sum", x_axis_format=_DATE_FORMAT[bucket],
                      y_axis_format="d", title=f"Articles per {bucket} by outlet", x_title=bucket,
                      y_title="articles", height=280, elem_id="nr-chart")


# Bars as wide as their bucket (Vega bins the time axis by this step), and tick labels that carry the year.
_BIN = {"day": "1d", "week": "7d", "month": "30d"}
_DATE_FORMAT = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%b %Y"}


def _keep() -> Any:
    import gradio as gr

    return gr.skip()


def build_ui(assistant: "Assistant", *, examples: Sequence[str] | None = None) -> "gr.Blocks":
    """The web chat for a ready Assistant (it is never built here). `examples` are questions shown first."""
    import gradio as gr

    h = _Handlers(assistant, examples)
    stats = assistant.stats()
    rows = h.rows()
    with gr.Blocks(title="newsrag: cited answers from the news", analytics_enabled=False) as demo:
        with gr.Row(elem_id="nr-header"):
            gr.Markdown("# newsrag\nCited answers from the news you ingested; every [n] is checked against "
                        "its passage.", scale=3)
            status = gr.Markdown(status_line(stats), elem_id="nr-status", scale=2)
        turns = gr.State([])
        panels = gr.State([])  # each answer's sources (HTML), so older [n] links stay reachable
        conversation = gr.State(None)  # this chat's id among the user's earlier chats (None: not saved yet)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=480):
                        chatbot = gr.Chatbot(elem_id="nr-chat", show_label=False, height=520,
                                             buttons=["copy"], feedback_options=None,
                                             placeholder="Ask about the ingested news. Answers cite their "
                                                         "sources; click a [n] to see the passage.")
                        # The notice sits between the chat and the box, so an error about a long pasted
                        # question is in view; the box grows to MSG_LINES lines, then scrolls.
                        notice = gr.Markdown("", elem_id="nr-notice")
                        with gr.Row(elem_id="nr-ask-row"):
                            msg = gr.Textbox(placeholder="Ask about the news…", show_label=False, scale=1,
                                             autofocus=True, elem_id="nr-msg", container=False, lines=1,
                                             max_lines=MSG_LINES)
                            send = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="nr-send")
                            new = gr.Button("New chat", scale=0, min_width=110, elem_id="nr-new")
                        ex = gr.Dataset(components=[msg], samples=h.examples(), label="Try asking",
                                        elem_id="nr-examples")
                    with gr.Column(scale=2, min_width=360):
                        history = gr.Dropdown(choices=[], value=None, label="Earlier chats", interactive=True,
                                              elem_id="nr-history", info="Kept on the server for your login; "
                                              "choose one to reopen it")
                        with gr.Accordion("Filters", open=False, elem_id="nr-filters"):
                            outlets = gr.Dropdown(choices=list(stats.get("sources") or []), value=[],
                                                  multiselect=True, label="Outlets", info="Empty: all outlets")
                            with gr.Row():
                                since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD", max_lines=1)
                                until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", max_lines=1)
                            as_of = gr.Textbox(label="As of", placeholder="YYYY-MM-DD (default: today)", max_lines=1)
                        sources = gr.HTML(empty_sources_html(), elem_id="nr-sources-box", js_on_load=None)
            with gr.Tab("Add coverage", id="add"):
                gr.Markdown("Upload article files (text, Markdown, HTML, JSON/JSONL records, RSS/Atom feeds) "
                            "or paste article or feed URLs, one per line. Copies of stories already ingested "
                            "are recognised and set aside.")
                with gr.Row():
                    files = gr.File(file_count="multiple", type="filepath", label="Article files")
                    urls = gr.Textbox(lines=6, label="Article or feed URLs", placeholder="https://…\nhttps://…/feed")
                go = gr.Button("Ingest", variant="primary")
                with gr.Accordion("Paste an article's text", open=False, elem_id="nr-paste"):
                    with gr.Row():
                        paste_title = gr.Textbox(label="Title", placeholder="optional: else its first line",
                                                 max_lines=1, elem_id="nr-paste-title")
                        paste_outlet = gr.Textbox(label="Outlet", placeholder="optional", max_lines=1,
                                                  elem_id="nr-paste-outlet")
                        paste_date = gr.Textbox(label="Date", placeholder="YYYY-MM-DD (optional)", max_lines=1,
                                                elem_id="nr-paste-date")
                        paste_url = gr.Textbox(label="Link", placeholder="https://… (optional, not fetched)",
                                               max_lines=1, elem_id="nr-paste-url")
                    paste_text = gr.Textbox(label="Text", lines=8, max_lines=16, elem_id="nr-paste-text",
                                            placeholder="The article's text, as published.")
                    paste_go = gr.Button("Add this article", variant="primary", elem_id="nr-paste-go")
                with gr.Accordion("Watch feeds", open=False, elem_id="nr-feeds"):
                    gr.Markdown("A watched feed is read now, then again on its schedule while the server runs "
                                "(new and changed stories are ingested; copies are set aside).")
                    with gr.Row():
                        feed_url = gr.Textbox(label="Feed URL", placeholder="https://…/feed", max_lines=1, scale=3,
                                              elem_id="nr-feed-url")
                        feed_every = gr.Dropdown(choices=list(EVERY), value="1 hour", label="Read it every",
                                                 scale=1, elem_id="nr-feed-every")
                        feed_go = gr.Button("Watch", variant="primary", scale=0, min_width=100, elem_id="nr-feed-go")
                    feed_table = gr.Markdown(feeds_markdown(h.feeds.feeds()), elem_id="nr-feed-table")
                    with gr.Row():
                        feed_pick = gr.Dropdown(choices=[f["url"] for f in h.feeds.feeds()], value=None, scale=3,
                                                label="Stop watching", elem_id="nr-feed-pick")
                        feed_stop = gr.Button("Stop watching", scale=0, min_width=140, elem_id="nr-feed-stop")
                ingest_status = gr.Markdown(h.jobs.status_line(), elem_id="nr-ingest-status")
                gr.Timer(3.0).tick(h.jobs.status_line, outputs=ingest_status, api_visibility="private",
                                   show_progress="hidden", queue=False)
                report = gr.HTML("", elem_id="nr-report", label="report")
            with gr.Tab("Coverage", id="coverage"):
                search = gr.Textbox(placeholder="Search titles, outlets, dates, files…", show_label=False, container=False,
                                    elem_id="nr-coverage-search")
                found = gr.Markdown(table_note(len(rows), len(rows), TABLE_ROWS), elem_id="nr-found")
                table = gr.Dataframe(table_frame(rows[:TABLE_ROWS]), datatype=["str", "str", "str", "markdown"],
                                     interactive=False, wrap=True, max_height=380, elem_id="nr-table",
                                     column_widths=["52%", "16%", "12%", "20%"])
                picked_id = gr.State("")
                with gr.Row(elem_id="nr-picked-row"):
                    picked = gr.Markdown(describe_row(None), elem_id="nr-picked")
                    remove_btn = gr.Button("Remove", variant="stop", scale=0, min_width=100, elem_id="nr-remove")
                    refetch_btn = gr.Button("Fetch again", scale=0, min_width=120, elem_id="nr-refetch")
                article_report = gr.Markdown("", elem_id="nr-article-report")
                plot = chart(rows)
                undated = gr.Markdown(undated_note(rows), elem_id="nr-undated")

        def chat(message: str, turns: list, chat: list, sources: list, since: str, until: str, as_of: str,
                 panels: list, conversation_id: str | None, request) -> Iterator[tuple]:
            yield from h.respond_kept(message, turns, chat, sources, since, until, as_of, panels, conversation_id,
                                      _user(request))

        def reopen(conversation_id: str | None, request) -> tuple:
            return h.open_chat(conversation_id, _user(request))

        def restore(request) -> tuple:
            return h.restore(_user(request))

        def listed(conversation_id: str | None, request) -> Any:
            return h.history_update(_user(request), conversation_id)

        for fn in (chat, reopen, restore, listed):  # gradio hands the request (and so the login name) to this argument
            fn.__annotations__["request"] = gr.Request

        chat_io = dict(fn=chat, inputs=[msg, turns, chatbot, outlets, since, until, as_of, panels, conversation],
                       outputs=[chatbot, turns, sources, notice, msg, panels, conversation],
                       show_progress="hidden")
        # the earlier-chats list follows each answer (a separate step: the /chat API keeps its outputs)
        history_io = dict(fn=listed, inputs=conversation, outputs=history, api_visibility="private",
                          show_progress="hidden", queue=False)
        msg.submit(**chat_io, api_name="chat", api_visibility="undocumented").then(**history_io)
        send.click(**chat_io, api_visibility="private").then(**history_io)
        ex.click(lambda sample: sample[0], inputs=ex, outputs=msg, queue=False, api_visibility="private").then(
            **chat_io, api_visibility="private").then(**history_io)
        new.click(lambda: ([], [], empty_sources_html(), "", "", [], None, gr.update(value=None)),
                  outputs=[chatbot, turns, sources, notice, msg, panels, conversation, history],
                  queue=False, api_visibility="private")
        history.input(reopen, inputs=history, outputs=[chatbot, turns, sources, notice, panels, conversation],
                      api_visibility="private", show_progress="hidden")
        demo.load(restore, outputs=[chatbot, turns, sources, panels, conversation, history],
                  api_visibility="private", show_progress="hidden")

        refresh_out = [outlets, status, ex, table, found, plot, undated]

        def ingest(files: list[str] | None, urls: str | None, progress: gr.Progress = gr.Progress()) -> str:
            return h.ingest(files, urls, progress)

        go.click(ingest, inputs=[files, urls], outputs=report, api_name="ingest", concurrency_limit=1,
                 concurrency_id="ingest").then(
            h.jobs.status_line, outputs=ingest_status, api_visibility="private", queue=False,
            show_progress="hidden").then(h.refresh, inputs=search, outputs=refresh_out, api_visibility="private")
        def paste(title: str, outlet: str, day: str, url: str, text: str,
                  progress: gr.Progress = gr.Progress()) -> str:
            return h.paste(title, outlet, day, url, text, progress)

        paste_go.click(paste, inputs=[paste_title, paste_outlet, paste_date, paste_url, paste_text], outputs=report,
                       api_name="paste", concurrency_limit=1, concurrency_id="ingest").then(
            h.jobs.status_line, outputs=ingest_status, api_visibility="private", queue=False,
            show_progress="hidden").then(h.refresh, inputs=search, outputs=refresh_out, api_visibility="private")

        feed_go.click(h.watch_feed, inputs=[feed_url, feed_every], outputs=[feed_table, feed_pick, feed_url],
                      api_visibility="private")
        feed_stop.click(h.unwatch_feed, inputs=feed_pick, outputs=[feed_table, feed_pick], api_visibility="private")
        gr.Timer(10.0).tick(lambda: feeds_markdown(h.feeds.feeds()), outputs=feed_table, api_visibility="private",
                            show_progress="hidden", queue=False)

        def select(query: str, evt) -> tuple[str, str]:
            return h.selected(query, evt)

        select.__annotations__["evt"] = gr.SelectData  # gradio passes the clicked cell to a SelectData argument
        table.select(select, inputs=search, outputs=[picked_id, picked], api_visibility="private", queue=False)

        def refetch(article_id: str, progress: gr.Progress = gr.Progress()) -> str:
            return h.refetch(article_id, progress)

        remove_btn.click(h.remove, inputs=picked_id, outputs=[article_report, picked_id], api_visibility="private",
                         concurrency_id="ingest").success(
            lambda: describe_row(None), outputs=picked, api_visibility="private", queue=False).success(
            h.refresh, inputs=search, outputs=refresh_out, api_visibility="private")
        refetch_btn.click(refetch, inputs=picked_id, outputs=article_report, api_visibility="private",
                          concurrency_limit=1, concurrency_id="ingest").then(
            h.refresh, inputs=search, outputs=refresh_out, api_visibility="private")
        search.change(h.search, inputs=search, outputs=[table, found, plot, undated], api_visibility="private",
                      show_progress="hidden")
        demo.load(h.refresh, inputs=search, outputs=refresh_out, api_visibility="private", show_progress="hidden")
        gr.api(h.api_ask, api_name="ask")
        gr.api(h.api_ingest_status, api_name="ingest_status")
    demo.ingest_jobs = h.jobs  # for shutdown()
    demo.feed_watcher = h.feeds  # started by launch(), stopped by shutdown()
    demo.service = h.service  # for the JSON API (launch)
    return demo


def shutdown(demo: "gr.Blocks", *, timeout: float = 30.0) -> bool:
    """Stop cleanly: refuse new ingests, let the running one stop at its next input (what it wrote stays
    whole), then close the server. False when the ingest was still running after `timeout` seconds."""
    refresher = getattr(demo, "quote_refresher", None)
    if refresher is not None:
        refresher.stop(timeout)
    watcher = getattr(demo, "feed_watcher", None)
    if watcher is not None:
        watcher.stop(min(timeout, 5.0))
    jobs = getattr(demo, "ingest_jobs", None)
    stopped = jobs is None or jobs.shutdown(timeout)
    if not stopped:
        log.warning("web: the running ingest did not stop within %.0f s; closing anyway", timeout)
    demo.close()
    return stopped


def theme() -> Any:
    """A calm theme on system fonts (nothing fetched from font servers)."""
    import gradio as gr

    fonts = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
             "sans-serif"]
    return gr.themes.Soft(primary_hue="indigo", neutral_hue="slate", font=fonts,
                          font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])


def auth_pair(settings: Settings) -> tuple[str, str] | None:
    """(user, password) when both NEWSRAG_AUTH_USER and NEWSRAG_AUTH_PASSWORD are set; None when neither is."""
    user, password = settings.auth_user, settings.auth_password
    if bool(user) != bool(password):
        missing = "NEWSRAG_AUTH_PASSWORD" if user else "NEWSRAG_AUTH_USER"
        raise SettingsError(f"Login needs both NEWSRAG_AUTH_USER and NEWSRAG_AUTH_PASSWORD; set {missing} "
                            "too, or unset both for no login.")
    return (user, password) if user and password else None


def launch(assistant: "Assistant", settings: Settings, *, examples: Sequence[str] | None = None,
           **kw: Any) -> "gr.Blocks":
    """Build the UI, queue it (CONCURRENCY events at once) and serve it on settings.host:port (login when
    settings carry a user and password). Extra keywords go to `Blocks.launch` (e.g. prevent_thread_lock=True,
    quiet=True). Returns the running Blocks: `.local_url`, `.close()`."""
    pair = auth_pair(settings)
    # throttled: wrong passwords lock the name for a while (counted in the catalog when replicas share one)
    auth = LoginGuard(*pair, store=assistant.index.login_store()) if pair else None
    demo = build_ui(assistant, examples=examples)
    demo.queue(default_concurrency_limit=CONCURRENCY)
    options: dict[str, Any] = dict(server_name=settings.host, server_port=settings.port, share=settings.share,
                                   auth=auth, auth_message="newsrag: sign in to ask about the coverage.",
                                   theme=theme(), css=CSS, head=HEAD, footer_links=["api"])
    options.update(kw)
    from starlette.middleware import Middleware

    from rag.frontends.web.login import ClientAddressMiddleware

    app_kwargs = dict(options.get("app_kwargs") or {})  # the login throttle counts per client address
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), Middleware(ClientAddressMiddleware)]
    options["app_kwargs"] = app_kwargs
    demo.launch(**options)
    from rag.frontends.api.http import mount_api

    mount_api(demo.app, demo.service, settings)  # /api/* beside the chat (docs/API.md)
    # What `newsrag ask` checks before it sends a login or a question to the port in HOME/serve.json (rag/frontends/remote.py)
    token = demo.instance_token = secrets.token_urlsafe(24)
    demo.app.add_api_route("/newsrag-instance", lambda: {"instance": token}, methods=["GET"], include_in_schema=False)
    demo.quote_refresher = QuoteRefresher(lambda: ingestor_for(assistant))  # for shutdown()
    demo.quote_refresher.start(assistant.index)
    demo.feed_watcher.start()  # the feeds watched from the page, read on their schedules while it serves
    return demo
