"""Slack HTTP mode against slow, hostile and impatient clients: the real Bolt app behind rag.frontends.slack.http on
127.0.0.1, correctly signed requests, and the fake Slack Web API of tests/test_slack.py."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from rag.frontends.slack.bot import WORKING, create_app, make_http_server

from .test_slack import (  # noqa: F401
    BOT_TOKEN,
    SIGNING_SECRET,
    Bot,
    StandIn,
    fake,
    make_bot,
    sign,
    wait_for,
)

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

class Loading(StandIn):
    """A freshly started assistant: every question waits until the model has 'loaded' (the gate opens)."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded = threading.Event()

    def ask(self, question: str, **kw):
        self.loaded.wait(30)
        return super().ask(question, **kw)


class TightBot(Bot):
    """The same bot, its server built with short timeouts so the tests wait seconds, not minutes."""

    def __init__(self, fake, assistant, **server_options) -> None:
        self.fake, self.assistant = fake, assistant
        self.app = create_app(assistant, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url)
        self.server = make_http_server(self.app, host="127.0.0.1", port=0, **server_options)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self._n = 0


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    s = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return s


def _closed_by_server(s: socket.socket, within: float) -> bool:
    """True if the server closes (or resets) the connection within `within` seconds."""
    s.settimeout(within)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    finally:
        s.close()


def test_slash_commands_are_acked_within_3_s_while_the_model_is_still_loading(fake, make_bot):
    assistant = Loading()
    bot = make_bot(assistant)

    def one(i: int) -> tuple[int, float, str]:
        started = time.monotonic()
        r = bot.command(f"question {i}", user=f"U{i}")
        return r.status_code, time.monotonic() - started, r.text

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(one, range(12)))  # more than Bolt's 5 listener threads
    assert all(status == 200 and WORKING in text for status, _, text in results), results
    assert max(seconds for _, seconds, _ in results) < 3.0, results
    assistant.loaded.set()
    wait_for(lambda: len(fake.responded()) == 12, timeout=30)


def test_malformed_json_gets_400_and_the_server_keeps_serving(fake, make_bot):
    bot = make_bot()
    for body in ('{"type": "event_callback", "event": ', "not json at all", "[1, 2"):
        r = bot.post(body, "application/json")
        assert r.status_code == 400 and "JSON" in r.text
    r = bot.post(json.dumps({"type": "url_verification", "challenge": "abc"}), "application/json")
    assert r.status_code == 200 and "abc" in r.text


def test_bodies_over_the_limit_get_413_and_chunked_bodies_411(fake):
    bot = TightBot(fake, StandIn(), max_body=10_000)
    try:
        big = json.dumps({"type": "event_callback", "pad": "x" * 20_000})
        r = bot.post(big, "application/json")
        assert r.status_code == 413
        ts = str(int(time.time()))
        r = requests.post(bot.url, data=iter([b'{"type":', b' "x"}']), timeout=10,
                          headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                                   "X-Slack-Signature": sign('{"type": "x"}', ts)})
        assert r.status_code == 411
    finally:
        bot.close()


def test_stalled_and_trickling_connections_are_closed_and_do_not_block_others(fake):
    bot = TightBot(fake, StandIn(), read_timeout=1.0, request_deadline=2.0, max_connections=16)
    try:
        stalled = []
        for _ in range(10):  # headers started, then nothing
            s = _connect(bot.url)
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
            stalled.append(s)
        body = _connect(bot.url)  # a body promised and never sent
        body.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{")
        started = time.monotonic()
        r = bot.command("still there?")  # a real request is served meanwhile
        assert r.status_code == 200 and time.monotonic() - started < 3.0
        assert all(_closed_by_server(s, within=5.0) for s in [*stalled, body])

        trickle = _connect(bot.url)  # one byte every 0.4 s: each read is quick, the request never ends
        closed_at = None
        started = time.monotonic()
        try:
            for ch in b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40:
                trickle.sendall(bytes([ch]))
                time.sleep(0.4)
                if time.monotonic() - started > 8:
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed_at = time.monotonic() - started
        if closed_at is None:
            assert _closed_by_server(trickle, within=2.0)
            closed_at = time.monotonic() - started
        assert closed_at < 8.0
    finally:
        bot.close()


def test_connections_over_the_cap_get_503_not_a_thread(fake):
    bot = TightBot(fake, StandIn(), read_timeout=5.0, request_deadline=5.0, max_connections=3)
    try:
        held = [_connect(bot.url) for _ in range(3)]
        for s in held:
            s.sendall(b"POST /slack/events HTTP/1.1\r\n")
        time.sleep(0.3)
        extra = _connect(bot.url)
        extra.settimeout(5)
        assert extra.recv(100).startswith(b"HTTP/1.1 503")
        extra.close()
        for s in held:
            s.close()
        wait_for(lambda: bot.command("after").status_code == 200, timeout=10)
    finally:
        bot.close()


def test_a_non_numeric_timestamp_is_401_not_500_and_logs_no_traceback(fake, make_bot, caplog):
    """Issue 27: a correctly signed request whose X-Slack-Request-Timestamp is not a number gave HTTP 500 and a
    traceback in the log; it is an unauthenticated request: 401, one quiet line."""
    bot = make_bot()
    body = json.dumps({"type": "url_verification", "challenge": "abc"})
    for ts in ("soon", "1e9", "", "nan", "0x10", "1_700_000_000", "17000.5"):
        caplog.clear()
        r = requests.post(bot.url, data=body.encode(), timeout=10,
                          headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                                   "X-Slack-Signature": sign(body, ts)})
        assert r.status_code == 401, (ts, r.status_code, r.text)
        assert "Traceback" not in caplog.text and not any(rec.exc_info for rec in caplog.records), caplog.text
    ts = str(int(time.time()))
    r = requests.post(bot.url, data=body.encode(), timeout=10,
                      headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                               "X-Slack-Signature": sign(body, ts)})
    assert r.status_code == 200 and "abc" in r.text
