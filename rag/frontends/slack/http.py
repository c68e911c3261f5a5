"""A small threaded HTTP server for a Bolt app: what `newsrag slack` uses in HTTP mode (POST /slack/events).

It holds up against slow and hostile clients: every read has a timeout and the whole request a deadline (a
connection that stalls or trickles is closed, its thread freed), connections are capped, bodies are limited,
and a body that is not the JSON or form it claims to be gets a 400 instead of silence.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest

__all__ = ["make_http_server", "READ_TIMEOUT", "REQUEST_DEADLINE", "MAX_CONNECTIONS", "MAX_BODY"]

log = logging.getLogger("rag.frontends.slack.bot")

READ_TIMEOUT = 10.0  # seconds one read may wait for bytes
REQUEST_DEADLINE = 15.0  # seconds to receive a whole request (headers and body): trickling clients are cut off
MAX_CONNECTIONS = 64  # connections served at once; more get 503 at once
MAX_BODY = 1_000_000  # bytes; Slack's payloads are a few kilobytes
_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # Slack sends whole seconds; ASCII digits only (int() takes more)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_http_server(
    app: App, *, host: str = "127.0.0.1", port: int = 3000, path: str = "/slack/events", max_body: int = MAX_BODY,
    read_timeout: float = READ_TIMEOUT, request_deadline: float = REQUEST_DEADLINE,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """A threaded HTTP server (not yet serving) that hands POSTs at `path` to `app.dispatch`; port 0 = any free port."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "newsrag-slack"
        sys_version = ""
        timeout = read_timeout  # socket timeout for every read and write

        def handle(self) -> None:
            # The deadline covers a client that sends one byte every few seconds (each read alone is quick).
            self._deadline = threading.Timer(request_deadline, self._cut_off)
            self._deadline.daemon = True
            self._deadline.start()
            try:
                super().handle()
            except (TimeoutError, socket.timeout, ConnectionError, OSError):
                self.close_connection = True
            finally:
                self._deadline.cancel()

        def _cut_off(self) -> None:
            log.info("http: closing a connection that did not send its request within %.0f s", request_deadline)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            self.close_connection = True
            url = urlsplit(self.path)
            if url.path != path:
                return self._send(404, "not found")
            if self.headers.get("Transfer-Encoding"):
                return self._send(411, "send a Content-Length")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return self._send(400, "bad Content-Length")
            if length < 0 or length > max_body:
                return self._send(413, "request too large")
            raw = self.rfile.read(length)
            if len(raw) < length:  # the client closed or was cut off mid-body
                return
            self._deadline.cancel()
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                return self._send(400, "body is not UTF-8")
            kind = (self.headers.get("Content-Type") or "").lower()
            if "json" in kind:
                try:
                    json.loads(body)
                except ValueError:
                    return self._send(400, "body is not valid JSON")
            headers = {k.lower(): self.headers.get_all(k) or [] for k in set(self.headers.keys())}
            if not all(_TIMESTAMP.fullmatch(ts) for ts in headers.get("x-slack-request-timestamp", [])):
                # Bolt's check would raise on int() and answer 500 with a traceback: this request is not signed.
                log.info("http: refused a request whose X-Slack-Request-Timestamp is not a number")
                return self._send(401, "X-Slack-Request-Timestamp must be a number of seconds: sign the request "
                                       "as Slack does")
            try:
                response = app.dispatch(BoltRequest(body=body, query=url.query, headers=headers))
            except Exception:  # a payload Bolt cannot handle must not leave the client without an answer
                log.exception("http: could not handle a Slack request")
                return self._send(400, "could not handle this request")
            self._send(response.status, response.body or "", response.headers)

        def do_GET(self) -> None:  # noqa: N802
            self.close_connection = True
            self._send(405 if urlsplit(self.path).path == path else 404, "POST Slack events here")

        def _send(self, status: int, body: str, headers: Mapping[str, Any] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            for name, values in (headers or {"content-type": ["text/plain; charset=utf-8"]}).items():
                if name.lower() in ("content-length", "connection"):
                    continue
                for value in [values] if isinstance(values, str) else values:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("http: " + format, *args)

    return _Server((host, port), Handler, max_connections)
