"""`newsrag mcp`: the store as an MCP server (the official `mcp` SDK), over stdio for desktop clients and over
streamable HTTP for remote ones (docs/MCP.md).

Tools: `ask` (the checked answer), `search` (passages with scores), `quotes` (who said what, from the quote index),
`coverage` (articles per day and outlet) and, only with NEWSRAG_MCP_ALLOW_ADD, `add` (a URL or an article's text,
through the same front doors as the web chat). Articles are resources, `newsrag://article/{id}`, and the list of
them is `newsrag://articles`. Each tool's output is the JSON API's (`rag/frontends/api/service.py`), typed by `rag/frontends/api/models.py`;
an error is a tool error (`isError`) carrying the message users see elsewhere. Over HTTP the server listens on
127.0.0.1 unless told otherwise, and anywhere else only with a bearer token (NEWSRAG_API_TOKEN).
"""

import contextlib
import hmac
import ipaddress
import json
import signal
import socket
import threading
from functools import partial, wraps
from typing import Annotated, Any, Callable

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from rag.core.errors import NewsragError, SettingsError
from rag.core.prompts import load_prompt
from rag.core.settings import Settings
from rag.frontends.api.models import (
    AnswerOut,
    CoverageOut,
    JobOut,
    QuotesOut,
    SearchOut,
)
from rag.frontends.api.service import NotFound, Service, job_dict, message

__all__ = ["build_server", "run_stdio", "run_http", "http_app", "check_http", "answer_text", "ADD_WAIT_SECONDS"]

ADD_WAIT_SECONDS = 300.0  # how long `add` waits for its ingest before saying it goes on in the background
PATH = "/mcp"

Day = Annotated[str | None, Field(description="YYYY-MM-DD")]
Outlets = Annotated[list[str] | None, Field(description="Only these outlets.")]


class _Refused(Exception):
    """A NewsragError on its way out as a tool error."""


async def _call(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Run a blocking operation in a worker thread; a NewsragError is raised as _Refused (see `_tool`)."""
    try:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kw))
    except NewsragError as exc:
        raise _Refused(str(exc)) from None


def _tool(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A tool whose refusals come back as a tool error (`isError`) holding exactly the user-facing message."""
    @wraps(fn)
    async def run(*args: Any, **kw: Any) -> Any:
        try:
            return await fn(*args, **kw)
        except _Refused as exc:
            return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)

    return run


def answer_text(answer: dict[str, Any]) -> str:
    """An answer for a model or a person to read: the text with [n], then each source and its quoted words."""
    lines = [answer["text"]]
    citations = answer.get("citations") or []
    if citations:
        lines.append("\nSources:")
        for c in citations:
            where = ", ".join(x for x in (c.get("source") or "unknown outlet", c.get("published_at") or "undated",
                                          c.get("url") or "") if x)
            lines.append(f"[{c['n']}] {c.get('title') or '(untitled)'} ({where}; newsrag://article/{c['article_id']})"
                         f": “{' '.join(str(c.get('quote') or '').split())}”")
    elif answer.get("passages"):  # a refusal, or an answer no passage confirms: the passages it came from
        lines.append("\nClosest passages:" if answer.get("refused") else "\nPassages it was written from:")
        for i, h in enumerate(answer["passages"][:3], 1):
            p = h["passage"]
            lines.append(f"({i}) {p.get('title')} ({p.get('source') or 'unknown outlet'}, "
                         f"{p.get('published_at') or 'undated'}; newsrag://article/{p['article_id']})")
    for notice in dict.fromkeys(answer.get("notices") or []):
        lines.append(f"\nNote: {notice}")
    return "\n".join(lines)


def build_server(service: Service) -> MCPServer:
    """The MCP server over `service`: its tools and resources."""
    settings = service.settings
    server = MCPServer("newsrag", title="newsrag: checked answers from the news", version="0.1.0",
                       instructions=load_prompt("mcp_instructions"), log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only, title="Ask the coverage")
    @_tool
    async def ask(question: Annotated[str, Field(description="A question about the ingested news.")],
                  as_of: Annotated[str | None, Field(description="Answer as of this day (YYYY-MM-DD): date words "
                                                                 "count back from it, later coverage is left out.")]
                  = None,
                  sources: Outlets = None, since: Day = None, until: Day = None) -> AnswerOut:
        """Answer a question from the ingested news coverage. The text cites passages as [n]; every cited
        sentence was checked against its passage, and `citations` give each source's title, outlet, date, URL
        and the exact words quoted. `refused` is true when the coverage does not answer the question."""
        answer = await _call(service.ask, question, sources=sources, since=since, until=until, as_of=as_of)
        return CallToolResult(content=[TextContent(type="text", text=answer_text(answer))],
                              structured_content=answer, is_error=False)

    @server.tool(annotations=read_only, title="Search passages")
    @_tool
    async def search(query: Annotated[str, Field(description="What to look for.")],
                     k: Annotated[int | None, Field(ge=1, le=50, description="How many passages.")] = None,
                     sources: Outlets = None, since: Day = None, until: Day = None, as_of: Day = None) -> SearchOut:
        """The passages that rank best for the query (hybrid dense and keyword search), with their scores and
        their articles' title, outlet, date and URL."""
        return await _call(service.search, query, k=k, sources=sources, since=since, until=until, as_of=as_of)

    @server.tool(annotations=read_only, title="Who said what")
    @_tool
    async def quotes(speaker: Annotated[str | None, Field(description="A name as the coverage gives it (a surname "
                                                                      "is enough).")] = None,
                     topic: Annotated[str | None, Field(description="What the words are about.")] = None,
                     since: Day = None, until: Day = None, sources: Outlets = None,
                     limit: Annotated[int, Field(ge=1, le=500)] = 20) -> QuotesOut:
        """Quotes credited to a speaker (and/or about a topic) from the quote index, newest first: the exact
        words, the speaker as the article credits them, and the article's title, outlet, date and URL."""
        return await _call(service.quotes, speaker=speaker, topic=topic, sources=sources, since=since, until=until,
                           limit=limit)

    @server.tool(annotations=read_only, title="Coverage by day and outlet")
    @_tool
    async def coverage(since: Day = None, until: Day = None,
                       source: Annotated[str | None, Field(description="Only this outlet.")] = None) -> CoverageOut:
        """How many articles the store holds per day and outlet (dated ones), per outlet, and how many are
        undated."""
        return await _call(service.coverage, sources=[source] if source else None, since=since, until=until)

    if settings.mcp_allow_add:
        @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                                                 open_world_hint=True), title="Add coverage")
        @_tool
        async def add(url_or_text: Annotated[str, Field(description="An article or feed URL (http or https), or "
                                                                    "an article's text.")],
                      title: Annotated[str | None, Field(description="The title, for a text.")] = None,
                      source: Annotated[str | None, Field(description="The outlet, for a text.")] = None,
                      published_at: Annotated[str | None, Field(description="YYYY-MM-DD, for a text.")] = None
                      ) -> JobOut:
            """Ingest an article or feed URL, or an article's text, into the store; returns the ingest's report
            (what was added, what was a copy of a stored story, what failed and why)."""
            value = (url_or_text or "").strip()
            if value.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in value):
                job = await _call(service.submit, urls=[value])
            else:
                record = {k: v for k, v in (("text", value), ("title", title), ("source", source),
                                            ("published_at", published_at)) if v}
                job = await _call(service.submit, articles=[record])
            wait = min(ADD_WAIT_SECONDS, settings.fetch_run_timeout + 60)
            finished = await anyio.to_thread.run_sync(job.wait, wait)
            out = job_dict(job)
            text = json.dumps(out, ensure_ascii=False)
            if not finished:
                text = message("add_waiting", id=job.id, state=job.state, seconds=int(wait)) + "\n" + text
            report = out["report"] or {}
            nothing = report.get("failed") and not any(report.get(k) for k in ("added", "updated", "unchanged",
                                                                                 "duplicates"))
            return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=out,
                                  is_error=job.state in ("failed", "stopped") or bool(nothing))

    @server.resource("newsrag://article/{article_id}", name="article", mime_type="text/markdown",
                     description="An ingested article: title, outlet, date, URL, then its whole text.")
    async def article(article_id: str) -> str:
        try:
            a = await anyio.to_thread.run_sync(service.article, article_id)
        except NotFound as exc:
            raise ResourceNotFoundError(str(exc)) from None
        meta = " · ".join(x for x in (a.get("source") or a.get("credited_source"), a.get("published_at"),
                                      a.get("author"), a.get("url")) if x)
        return f"# {a.get('title') or '(untitled)'}\n\n{meta}\n\n{a.get('text') or ''}\n"

    @server.resource("newsrag://articles", name="articles", mime_type="application/json",
                     description="The ingested articles, newest first (id, title, outlet, date, URL), up to 500.")
    async def articles() -> str:
        page = await anyio.to_thread.run_sync(partial(service.articles, limit=500))
        return json.dumps(page, ensure_ascii=False)

    return server


# -- transports -------------------------------------------------------------------------------------------------
def run_stdio(server: MCPServer) -> None:
    """Serve one client on stdin/stdout until it closes them."""
    server.run("stdio")


def _loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerGate:
    """ASGI: every HTTP request needs `Authorization: Bearer <token>`; others get 401 with the message."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token.encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            header = dict(scope.get("headers") or []).get(b"authorization", b"")
            scheme, _, value = header.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
                body = json.dumps({"error": message("mcp_unauthorized")}).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                           (b"www-authenticate", b'Bearer realm="newsrag"')]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def check_http(settings: Settings, host: str) -> None:
    """Refuse to serve HTTP off loopback without a token (SettingsError with what to set)."""
    if not settings.api_token and not _loopback(host):
        raise SettingsError(message("mcp_open", host=host))


def http_app(server: MCPServer, settings: Settings, host: str) -> Any:
    """The streamable HTTP app at /mcp, behind the bearer token when one is set (required off loopback)."""
    check_http(settings, host)
    token = settings.api_token
    app = server.streamable_http_app(streamable_http_path=PATH, host=host,
                                     max_request_body_size=settings.api_max_body_bytes)
    return BearerGate(app, token) if token else app


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise SettingsError(message("port_taken", host=host, port=port, reason=exc.strerror or exc)) from None
    return sock


def run_http(server: MCPServer, settings: Settings, *, host: str, port: int,
             ready: Callable[[str], None] | None = None) -> None:
    """Serve streamable HTTP on host:port until interrupted; `ready(url)` once it listens."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # ours (below): uvicorn's would raise the signal again once it has stopped
            yield

    app = http_app(server, settings, host)
    web = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    sock = _listen(host, port)  # bound here, so a taken port is a clear error, not uvicorn's exit

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(partial(web.serve, sockets=[sock]))
            while not web.started:
                if web.should_exit:
                    return
                await anyio.sleep(0.05)
            shown = f"[{host}]" if ":" in host else host
            if ready is not None:
                ready(f"http://{shown}:{sock.getsockname()[1]}{PATH}")

    def stop(signum: int, frame: object) -> None:  # Ctrl+C or SIGTERM: finish the requests in flight, then stop
        web.should_exit = True

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        anyio.run(main)
    finally:
        sock.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
