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
import threading
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from .errors import NewsragError, SettingsError
from .ingest_jobs import IngestJobs
from .quote_refresh import QuoteRefresher
from .login import LoginGuard
from .schema import Answer
from .settings import Settings
from .web_data import (chart_bucket, chart_frame, chart_top, coverage_rows, example_questions, filter_rows,
                       parse_urls, table_frame, table_note, undated_note)
from .web_render import (CSS, HEAD, answer_markdown, answer_sources, empty_sources_html, error_notice, md_escape,
                         notice_markdown, plain_history, report_html, sources_panel, status_line)

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr

    from .assistant import Assistant

__all__ = ["build_ui", "launch", "shutdown", "auth_pair", "theme", "CONCURRENCY"]

CONCURRENCY = 4  # events of one kind served at once (the queue holds the rest)
TABLE_ROWS = 500  # coverage table rows shown at once (the search box narrows them)
POLL_SECONDS = 0.25  # how often an ingest request looks at its job
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
        self.jobs = IngestJobs(lambda targets, progress: assistant.ingestor().ingest(targets, progress=progress),
                               shared=assistant.index.job_queue(),  # the catalog's jobs, when replicas share one
                               lease_s=assistant.settings.job_lease_seconds)

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
                if isinstance(piece, Answer):
                    answer = piece
                    break
                text += piece
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
        if history is not None and not isinstance(history, list):
            raise _user_error(NewsragError("history must be a list of {role, content} turns"))
        try:
            answer = self.assistant.ask(question or "", history=plain_history(history or []), sources=sources or None,
                                        since=(since or "").strip() or None, until=(until or "").strip() or None,
                                        as_of=(as_of or "").strip() or None)
        except NewsragError as exc:
            raise _user_error(exc) from None
        except Exception as exc:
            raise _internal_error("answering", exc) from None
        return answer.to_dict()

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
            try:
                job = self.jobs.submit([*paths, *good])
            except NewsragError as exc:
                raise _user_error(exc) from None
            while not job.wait(POLL_SECONDS):  # the work runs in the ingest worker; this only reports on it
                ahead = self.jobs.ahead_of(job)
                if progress is not None and ahead:
                    progress(0.0, desc=f"Waiting: {ahead} ingest{'s' if ahead > 1 else ''} ahead of this one…")
                elif job.state == "running" and job.done_inputs:
                    step(job.done_inputs, job.label)
            if job.state != "done" or job.report is None:
                raise _user_error(NewsragError(job.error or "The ingest did not finish."))
            report = job.report
        report["items"].setdefault("failed", []).extend(bad)
        report["failed"] = len(report["items"]["failed"])
        if report["failed"]:
            gr.Warning(f"{report['failed']} input{'s' if report['failed'] > 1 else ''} failed: the report says why.")
        return report_html(report, names)

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
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=480):
                        chatbot = gr.Chatbot(elem_id="nr-chat", show_label=False, height=520,
                                             buttons=["copy"], feedback_options=None,
                                             placeholder="Ask about the ingested news. Answers cite their "
                                                         "sources; click a [n] to see the passage.")
                        with gr.Row(elem_id="nr-ask-row"):
                            msg = gr.Textbox(placeholder="Ask about the news…", show_label=False, scale=1,
                                             autofocus=True, elem_id="nr-msg", container=False)
                            send = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="nr-send")
                            new = gr.Button("New chat", scale=0, min_width=110, elem_id="nr-new")
                        notice = gr.Markdown("", elem_id="nr-notice")
                        ex = gr.Dataset(components=[msg], samples=h.examples(), label="Try asking",
                                        elem_id="nr-examples")
                    with gr.Column(scale=2, min_width=360):
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
                plot = chart(rows)
                undated = gr.Markdown(undated_note(rows), elem_id="nr-undated")

        chat_io = dict(fn=h.respond, inputs=[msg, turns, chatbot, outlets, since, until, as_of, panels],
                       outputs=[chatbot, turns, sources, notice, msg, panels], show_progress="hidden")
        msg.submit(**chat_io, api_name="chat", api_visibility="undocumented")
        send.click(**chat_io, api_visibility="private")
        ex.click(lambda sample: sample[0], inputs=ex, outputs=msg, queue=False, api_visibility="private").then(
            **chat_io, api_visibility="private")
        new.click(lambda: ([], [], empty_sources_html(), "", "", []),
                  outputs=[chatbot, turns, sources, notice, msg, panels],
                  queue=False, api_visibility="private")

        refresh_out = [outlets, status, ex, table, found, plot, undated]

        def ingest(files: list[str] | None, urls: str | None, progress: gr.Progress = gr.Progress()) -> str:
            return h.ingest(files, urls, progress)

        go.click(ingest, inputs=[files, urls], outputs=report, api_name="ingest", concurrency_limit=1,
                 concurrency_id="ingest").then(h.refresh, inputs=search, outputs=refresh_out,
                                               api_visibility="private")
        search.change(h.search, inputs=search, outputs=[table, found, plot, undated], api_visibility="private",
                      show_progress="hidden")
        demo.load(h.refresh, inputs=search, outputs=refresh_out, api_visibility="private", show_progress="hidden")
        gr.api(h.api_ask, api_name="ask")
        gr.api(h.api_ingest_status, api_name="ingest_status")
    demo.ingest_jobs = h.jobs  # for shutdown()
    return demo


def shutdown(demo: "gr.Blocks", *, timeout: float = 30.0) -> bool:
    """Stop cleanly: refuse new ingests, let the running one stop at its next input (what it wrote stays
    whole), then close the server. False when the ingest was still running after `timeout` seconds."""
    refresher = getattr(demo, "quote_refresher", None)
    if refresher is not None:
        refresher.stop(timeout)
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
    demo.launch(**options)
    demo.quote_refresher = QuoteRefresher(assistant.ingestor)  # for shutdown()
    demo.quote_refresher.start(assistant.index)
    return demo
