"""The JSON HTTP API that `newsrag serve` offers beside the web chat, on the same server (docs/API.md).

`/api/ask` (and `/api/ask/stream`: checked sentences as server-sent events), `/api/search`, `/api/quotes`,
`/api/coverage`, `/api/articles`, `/api/articles/{id}`, `/api/ingest` and `/api/jobs/{id}`, described at
`/api/openapi.json`. Every request passes one gate first: the login (a bearer NEWSRAG_API_TOKEN, or the web chat's
user and password as HTTP Basic or its login cookie, whenever either is set), a rate limit per client and a cap on
the body's size. Errors are JSON, `{"error": "what to do"}`, with a 4xx status for what the caller can fix.

(No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations, which name classes
imported inside `build_router`, at run time.)
"""

import base64
import binascii
import hmac
import json
import logging
from functools import partial
from typing import Any, AsyncIterator, Callable

from rag.core.errors import (
    EmptyStoreError,
    InputError,
    LLMError,
    NewsragError,
    StoreError,
)
from rag.core.settings import Settings
from rag.frontends.api.service import NotFound, Service, job_dict, message
from rag.frontends.slack.guard import RateLimiter
from rag.jobs.queue import QueueFull

__all__ = ["build_router", "mount_api", "ASK_CONCURRENCY", "PREFIX"]

PREFIX = "/api"
ASK_CONCURRENCY = 4  # answers computed at once (as many as the web chat's queue); the rest wait their turn
RATE_WINDOW = 60.0
log = logging.getLogger("newsrag.api")

_STATUS = ((NotFound, 404), (InputError, 400), (EmptyStoreError, 409), (QueueFull, 503), (LLMError, 502),
           (StoreError, 503))


def _status(exc: NewsragError) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


def _error(status: int, text: str, headers: dict[str, str] | None = None):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": text}, status_code=status, headers=headers)


def _readable(exc: Any) -> str:
    """A request validation error as one line: which parameter, what is wrong with it."""
    parts = []
    for e in exc.errors():
        if e.get("type") == "json_invalid":
            return message("not_json", example='{"question": "What did Kardashian say about Balenciaga?"}')
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
        parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
    return message("bad_request", details="; ".join(parts) or "The request is malformed")


class Gate:
    """Login, rate limit and body size, checked before any endpoint runs."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] | None = None) -> None:
        self.settings = settings
        self.token = (settings.api_token or "").encode()
        self.limiter = RateLimiter(settings.api_rate_limit, RATE_WINDOW, **({"clock": clock} if clock else {}))

    def identity(self, request: Any) -> str | None:
        """Who is asking: "token", "user:NAME", "open" (no login set), or None (a login is needed)."""
        app = request.app
        login = getattr(app, "auth", None)
        login = login if callable(login) else None
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self.token and hmac.compare_digest(value.strip().encode(), self.token):
            return "token"
        if scheme.lower() == "basic" and login is not None:
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return None
            return f"user:{user}" if login(user, password) else None  # throttled like the login page
        tokens = getattr(app, "tokens", None)
        cookie_id = getattr(app, "cookie_id", None)
        if login is not None and tokens and cookie_id:
            cookie = (request.cookies.get(f"access-token-{cookie_id}")
                      or request.cookies.get(f"access-token-unsecure-{cookie_id}"))
            if cookie and cookie in tokens:
                return f"user:{tokens[cookie]}"
        if not self.token and login is None:
            return "open"
        return None

    async def check(self, request: Any):
        """None to go on, or the response that refuses the request."""
        who = self.identity(request)
        client = request.client.host if request.client else "unknown"
        if not self.limiter.allow(who if who not in (None, "open") else f"ip:{client}"):
            limit = self.settings.api_rate_limit
            return _error(429, message("rate_limited", limit=limit, seconds=int(RATE_WINDOW)),
                          {"Retry-After": str(int(RATE_WINDOW))})
        if who is None:
            return _error(401, message("unauthorized"), {"WWW-Authenticate": 'Bearer realm="newsrag"'})
        if request.method in ("POST", "PUT", "PATCH"):
            limit = self.settings.api_max_body_bytes
            too_large = _error(413, message("too_large", limit=f"{limit:,}"))
            try:
                if int(request.headers.get("content-length") or 0) > limit:
                    return too_large
            except ValueError:
                return _error(400, message("bad_length"))
            body = bytearray()
            async for chunk in request.stream():  # a chunked body without a length is counted as it comes
                body.extend(chunk)
                if len(body) > limit:
                    return too_large
            request._body = bytes(body)  # what the endpoint's parser reads
        return None


def build_router(service: Service, settings: Settings) -> Any:
    """The /api routes over `service` (a FastAPI APIRouter)."""
    import anyio
    from fastapi import APIRouter, Body, Path, Query
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.utils import get_openapi
    from fastapi.responses import JSONResponse, StreamingResponse
    from fastapi.routing import APIRoute

    from rag.frontends.api.models import (
        AnswerOut,
        ArticleOut,
        ArticlesOut,
        AskRequest,
        CoverageOut,
        ErrorOut,
        IngestRequest,
        JobOut,
        QuotesOut,
        SearchOut,
    )

    gate = Gate(settings)
    asks: list[Any] = []  # the semaphore, made on the server's event loop

    def semaphore():
        if not asks:
            asks.append(anyio.Semaphore(ASK_CONCURRENCY))
        return asks[0]

    class GatedRoute(APIRoute):
        def get_route_handler(self):
            handler = super().get_route_handler()

            async def gated(request):
                refused = await gate.check(request)
                if refused is not None:
                    return refused
                try:
                    return await handler(request)
                except RequestValidationError as exc:
                    return _error(400, _readable(exc))
                except NewsragError as exc:
                    return _error(_status(exc), str(exc))
                except Exception as exc:  # noqa: BLE001 - a JSON error, the traceback in the log
                    log.exception("api: %s %s failed", request.method, request.url.path)
                    return _error(500, message("internal", what="answering the request", kind=type(exc).__name__))

            return gated

    errors = {code: {"model": ErrorOut, "description": text} for code, text in (
        (400, "Bad input: the message says what to fix"), (401, "Sign in (bearer token, HTTP Basic or cookie)"),
        (413, "Body too large"), (429, "Rate limit: wait and retry"))}
    router = APIRouter(prefix=PREFIX, route_class=GatedRoute, responses=errors)
    source = partial(Query, None, description="Only this outlet (repeatable).")
    day = partial(Query, None, description="YYYY-MM-DD")

    @router.post("/ask", response_model=AnswerOut, summary="Ask a question: the checked answer")
    async def ask(body: AskRequest = Body(...)):
        """The answer with `[n]` markers, each checked against passage n; the citations carry the quoted words,
        title, outlet, date and URL; `dropped` lists what the check removed and why; `refused` is true when the
        coverage does not answer the question. The same answer as the web chat, Slack and `rag.ask()` give."""
        args = body.model_dump()
        async with semaphore():
            answer = await anyio.to_thread.run_sync(partial(service.ask, args.pop("question"), **args))
        return JSONResponse(answer)

    @router.post("/ask/stream", summary="Ask, streamed as server-sent events",
                 responses={200: {"content": {"text/event-stream": {}},
                                  "description": "`sentence` events ({\"text\"}) as the check keeps them, then "
                                                 "one `answer` event (as from /api/ask), or an `error` event."}})
    async def ask_stream(body: AskRequest = Body(...)):
        """Checked text as it is released (never the unchecked draft), then the whole answer."""
        args = body.model_dump()
        pieces = service.stream(args.pop("question"), **args)
        async with semaphore():  # the first piece raises on bad input: then a JSON error, not a stream
            first = await anyio.to_thread.run_sync(next, pieces)

        async def events() -> AsyncIterator[bytes]:
            piece = first
            async with semaphore():
                while True:
                    if isinstance(piece, dict):
                        yield _event("answer", piece)
                        return
                    yield _event("sentence", {"text": piece})
                    try:
                        piece = await anyio.to_thread.run_sync(next, pieces, None)
                    except NewsragError as exc:
                        yield _event("error", {"error": str(exc)})
                        return
                    except Exception as exc:  # noqa: BLE001
                        log.exception("api: streaming an answer failed")
                        yield _event("error", {"error": message("internal", what="answering",
                                                                kind=type(exc).__name__)})
                        return
                    if piece is None:  # pragma: no cover - a stream always ends with its answer
                        return

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/search", response_model=SearchOut, summary="Passages for a query, with scores and metadata")
    def search(q: str = Query(..., description="What to search for."),
               k: int | None = Query(None, ge=1, le=50, description="How many passages (default NEWSRAG_TOP_K)."),
               source: list[str] | None = source(), since: str | None = day(), until: str | None = day(),
               as_of: str | None = day()):
        return JSONResponse(service.search(q, k=k, sources=source, since=since, until=until, as_of=as_of))

    @router.get("/quotes", response_model=QuotesOut, summary="Who said what, from the quote index, newest first")
    def quotes(speaker: str | None = Query(None, description="A name as the coverage gives it (a surname is enough)."),
               topic: str | None = Query(None, description="What the quote is about."),
               source: list[str] | None = source(), since: str | None = day(), until: str | None = day(),
               limit: int = Query(20, ge=1, le=500)):
        return JSONResponse(service.quotes(speaker=speaker, topic=topic, sources=source, since=since, until=until,
                                           limit=limit))

    @router.get("/coverage", response_model=CoverageOut, summary="Articles per day and outlet")
    def coverage(source: list[str] | None = source(), since: str | None = day(), until: str | None = day()):
        return JSONResponse(service.coverage(sources=source, since=since, until=until))

    @router.get("/articles", response_model=ArticlesOut, summary="The ingested articles, newest first")
    def articles(q: str | None = Query(None, description="Words every listed article has in its title, outlet, "
                                                         "date, URL or file name."),
                 source: list[str] | None = source(), since: str | None = day(), until: str | None = day(),
                 limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)):
        return JSONResponse(service.articles(query=q, sources=source, since=since, until=until, limit=limit,
                                             offset=offset))

    @router.get("/articles/{article_id}", response_model=ArticleOut, summary="One article with its whole text",
                responses={404: {"model": ErrorOut, "description": "No such article"}})
    def article(article_id: str = Path(..., max_length=200)):
        return JSONResponse(service.article(article_id))

    @router.post("/ingest", response_model=JobOut, status_code=202, summary="Add coverage: starts an ingest job",
                 responses={503: {"model": ErrorOut, "description": "Too many ingests waiting: retry later"}})
    def ingest(body: IngestRequest = Body(...)):
        """URLs are fetched under the same rules as the web chat's (public addresses only, size and time
        limits); article texts are read as JSONL records. Poll `GET /api/jobs/{id}` for the report."""
        job = service.submit(urls=body.urls, articles=[a.model_dump(exclude_none=True) for a in body.articles])
        return JSONResponse(job_dict(job), status_code=202, headers={"Location": f"{PREFIX}/jobs/{job.id}"})

    @router.get("/jobs/{job_id}", response_model=JobOut, summary="An ingest job: its state, then its report",
                responses={404: {"model": ErrorOut, "description": "No such job"}})
    def job(job_id: int = Path(..., ge=1)):
        return JSONResponse(service.job(job_id))

    schema: dict[str, Any] = {}

    @router.get("/openapi.json", include_in_schema=False)
    def openapi():
        if not schema:
            schema.update(get_openapi(
                title="newsrag API", version="1", routes=router.routes,
                description=("Cited answers from the news coverage this server has ingested; every citation is "
                             "checked against its passage. See docs/API.md.")))
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "NEWSRAG_API_TOKEN"},
                "basic": {"type": "http", "scheme": "basic", "description": "The web chat's login"}}
            schema["security"] = [{"bearer": []}, {"basic": []}]
        return JSONResponse(schema)

    return router


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode("utf-8")


def mount_api(app: Any, service: Service, settings: Settings) -> None:
    """Add the /api routes to a running FastAPI app (the web chat's: Gradio serves on FastAPI)."""
    app.include_router(build_router(service, settings))
