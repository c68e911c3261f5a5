"""Ask a running `newsrag serve` over its HTTP API on 127.0.0.1 (standard library only: this is the fast path of
`newsrag ask`, which must not import the model stack). The server's `/ask` endpoint is Gradio's: POST the
arguments to `gradio_api/call/ask`, then read the result from its event stream."""

from __future__ import annotations

import hmac
import html
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Sequence

from rag.core.errors import NewsragError

__all__ = ["ServerUnavailable", "ask_server"]


class ServerUnavailable(Exception):
    """The server did not answer (refused, timed out, not a newsrag server): answer in this process instead."""


def _opener(base: str, auth: tuple[str, str] | None, timeout: float) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    if auth:
        body = urllib.parse.urlencode({"username": auth[0], "password": auth[1]}).encode()
        try:
            opener.open(urllib.request.Request(base + "login", data=body, method="POST"), timeout=timeout).read()
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 401, 403):
                raise NewsragError("The running newsrag server refused the login: check NEWSRAG_AUTH_USER and "
                                   "NEWSRAG_AUTH_PASSWORD (the same as the server's), or pass --no-server.") from None
            raise ServerUnavailable(str(exc)) from None
    return opener


def ask_server(port: int, question: str, *, root: str = "/", sources: Sequence[str] | None = None,
               since: str | None = None, until: str | None = None, as_of: str | None = None,
               auth: tuple[str, str] | None = None, instance: str | None = None,
               timeout: float = 120.0, connect_timeout: float = 2.0) -> dict[str, Any]:
    """The Answer (as a dict) from the server on 127.0.0.1:port. Raises ServerUnavailable when nothing usable
    answers, or when the server at the port does not show `instance` (the token in HOME/serve.json: another
    program on the port gets neither the login nor the question), and NewsragError with the server's message
    when it refused the question."""
    base = f"http://127.0.0.1:{int(port)}{root.rstrip('/')}/"
    try:
        _check_instance(base, instance, connect_timeout)
        opener = _opener(base, auth, connect_timeout)
        payload = json.dumps({"data": [question, None, list(sources or []), since or "", until or "",
                                       as_of or ""]}).encode()
        req = urllib.request.Request(base + "gradio_api/call/ask", data=payload, method="POST",
                                     headers={"Content-Type": "application/json"})
        with opener.open(req, timeout=connect_timeout) as resp:
            event_id = json.loads(resp.read().decode("utf-8"))["event_id"]
        with opener.open(base + f"gradio_api/call/ask/{event_id}", timeout=timeout) as resp:
            return _result(resp)
    except NewsragError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:  # URLError, refused, timeout, not JSON, not gradio
        raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from None


def _check_instance(base: str, instance: str | None, timeout: float) -> None:
    if not instance:
        raise ServerUnavailable("HOME/serve.json holds no instance token (written by an older newsrag?)")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(base + "newsrag-instance", timeout=timeout) as resp:
        shown = json.loads(resp.read(4096).decode("utf-8")).get("instance")
    if not isinstance(shown, str) or not hmac.compare_digest(shown.encode(), instance.encode()):
        raise ServerUnavailable("the program on that port is not the newsrag server that wrote HOME/serve.json")


def _result(stream) -> dict[str, Any]:
    """Read Gradio's event stream to its `complete` (the answer) or `error` (the server's message) event."""
    event = ""
    for raw in stream:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
            if event == "complete":
                value = json.loads(data)
                answer = value[0] if isinstance(value, list) else value
                if not isinstance(answer, dict) or "text" not in answer:
                    raise ValueError("the server's /ask did not return an answer")
                return answer
            if event == "error":
                message = json.loads(data) if data and data != "null" else None
                if isinstance(message, dict):
                    message = message.get("error")
                raise NewsragError(html.unescape(str(message or "the server could not answer (its log has the "
                                                              "details)")))
    raise ValueError("the server's event stream ended without an answer")
