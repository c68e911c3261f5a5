"""A small threaded HTTP server for a Bolt app: what `newsrag slack` uses in HTTP mode (POST /slack/events)."""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest

__all__ = ["make_http_server"]

log = logging.getLogger("rag.slack")


def make_http_server(
    app: App, *, host: str = "127.0.0.1", port: int = 3000, path: str = "/slack/events", max_body: int = 1_000_000
) -> ThreadingHTTPServer:
    """A threaded HTTP server (not yet serving) that hands POSTs at `path` to `app.dispatch`; port 0 = any free port."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "newsrag-slack"
        sys_version = ""

        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            url = urlsplit(self.path)
            if url.path != path:
                return self._send(404, "not found")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return self._send(400, "bad Content-Length")
            if length < 0 or length > max_body:
                return self._send(413, "request too large")
            try:
                body = self.rfile.read(length).decode("utf-8")
            except UnicodeDecodeError:
                return self._send(400, "body is not UTF-8")
            headers = {k.lower(): self.headers.get_all(k) or [] for k in set(self.headers.keys())}
            response = app.dispatch(BoltRequest(body=body, query=url.query, headers=headers))
            self._send(response.status, response.body or "", response.headers)

        def do_GET(self) -> None:  # noqa: N802
            self._send(405 if urlsplit(self.path).path == path else 404, "POST Slack events here")

        def _send(self, status: int, body: str, headers: Mapping[str, Any] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            for name, values in (headers or {"content-type": ["text/plain; charset=utf-8"]}).items():
                if name.lower() == "content-length":
                    continue
                for value in [values] if isinstance(values, str) else values:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("http: " + format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
