"""URL fetching against a real HTTP server on 127.0.0.1: a "secret" internal page, redirects to it, a server
that trickles bytes, one that hangs, oversized bodies, and feeds whose entries link to all of these.

The test server is itself on loopback, so two things are shown: with default settings every fetch of it (by
any spelling, or by redirect or feed entry) is refused with a message naming NEWSRAG_FETCH_ALLOW, and with
that setting naming it the good paths work and the deadlines, byte limit and concurrency hold. The DNS
rebinding guard is tested with an injected resolver, not real DNS.
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from ingest.fetching import (
    Fetcher,
    FetchError,
    FetchPolicy,
    address_kind,
    literal_address,
    parse_allow,
)
from ingest.loaders import LoadWarning, iter_inputs
from rag.core.schema import LoadFailure, RawArticle

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

SECRET = "The internal admin password is swordfish-42 and the billing key is kept in vault seven."
ARTICLE = ("<html><head><title>Ferry Adds Night Service</title></head><body><article><h1>Ferry Adds Night "
           "Service</h1><p>The harbour ferry will run at night from May, the council said on Monday after a long "
           "vote in the town hall.</p><p>Officials expect two thousand riders a week once the late boats start "
           "running from the old pier.</p></article></body></html>")
STOP = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []  # (path, Host header) of every request received

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.seen.append((self.path, self.headers.get("Host", "")))
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/secret":
            return self._send(200, "text/html", f"<html><body><article><p>{SECRET}</p></article></body></html>")
        if url.path == "/article":
            return self._send(200, "text/html; charset=utf-8", ARTICLE)
        if url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if url.path == "/loop":
            n = int(query.get("n", ["0"])[0])
            self.send_response(302)
            self.send_header("Location", f"/loop?n={n + 1}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if url.path == "/trickle":  # 2 bytes every 0.2 s, for at most 15 s: never a read timeout, never done
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(75):
                if STOP.is_set():
                    break
                with contextlib.suppress(OSError):
                    self.wfile.write(b"ab")
                    self.wfile.flush()
                time.sleep(0.2)
            return None
        if url.path == "/trickle-headers":  # the status line and headers themselves trickle
            for _ in range(75):
                if STOP.is_set():
                    break
                with contextlib.suppress(OSError):
                    self.wfile.write(b"X")
                    self.wfile.flush()
                time.sleep(0.2)
            return None
        if url.path == "/hang":  # accepts, then says nothing for up to 10 s
            for _ in range(100):
                if STOP.is_set():
                    break
                time.sleep(0.1)
            return self._send(200, "text/html", ARTICLE)
        if url.path == "/big":  # declares its size
            return self._send(200, "text/plain", "x" * 300_000)
        if url.path == "/big-chunked":  # does not declare it
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(30):
                    chunk = b"word " * 2000
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            return None
        if url.path == "/feed":
            target = query.get("to", ["/hang"])[0]
            count = int(query.get("n", ["3"])[0])
            return self._send(200, "application/rss+xml", feed(f"http://{self.headers['Host']}{target}", count))
        return self._send(404, "text/plain", "not found")

    def _send(self, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def feed(link: str, count: int) -> str:
    items = "".join(f"<item><title>Entry {i}</title><link>{link}{'&amp;' if '?' in link else '?'}i={i}</link>"
                    f"<description>Short teaser {i} about the ferry.</description></item>" for i in range(count))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    STOP.clear()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        STOP.set()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def allowed(**kwargs) -> FetchPolicy:
    """NEWSRAG_FETCH_ALLOW=127.0.0.1: the test server may be fetched."""
    return FetchPolicy(allow_networks=parse_allow("127.0.0.1")[1], **kwargs)


def load(*targets: str, **kwargs) -> list:
    return list(iter_inputs(list(targets), **kwargs))


def port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


# ---------------------------------------------------------------- refused by default


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1",
                                  "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::ffff:127.1]",
                                  "[::ffff:0x7f.1]"])
def test_loopback_in_any_spelling_is_refused_and_never_contacted(server: str, host: str) -> None:
    Handler.seen.clear()
    [f] = load(f"http://{host}:{port(server)}/secret")
    assert isinstance(f, LoadFailure), f
    assert f.reason.startswith("refused: ") and "NEWSRAG_FETCH_ALLOW" in f.reason
    assert "loopback" in f.reason
    assert Handler.seen == []  # not one byte went to the server


@pytest.mark.parametrize("url, kind", [
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
    ("http://10.0.0.5/admin", "private"), ("http://192.168.1.1/", "private"), ("http://172.16.0.1/", "private"),
    ("http://100.64.0.1/", "carrier-grade NAT"), ("http://169.254.10.10/", "link-local"),
    ("http://224.0.0.1/", "multicast"), ("http://0.0.0.0/", "unspecified"), ("http://[fe80::1]/", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata"), ("http://[64:ff9b::a9fe:a9fe]/", "cloud metadata"),
    ("http://[2002:7f00:1::]/", "loopback"), ("http://240.0.0.1/", "reserved"),
])
def test_internal_addresses_are_refused_with_their_kind(url: str, kind: str) -> None:
    with pytest.raises(FetchError) as err:
        Fetcher(FetchPolicy(timeout=2))(url)
    assert f"is a {kind} address" in str(err.value) and "NEWSRAG_FETCH_ALLOW" in str(err.value)


@pytest.mark.parametrize("url, reason", [
    ("http://[::ffff:10.1]/", "is a private address"),  # Python's URL parser rejects these short IPv4 tails
    ("http://user@[::ffff:127.1]:8080/x", "is a loopback address"),
    ("http://[zz]/", "has an invalid host"),
    ("http://[::ffff:8.8]/", "has an invalid host"),  # a public address spelled oddly: say how to write it
])
def test_odd_bracketed_hosts_get_a_reason_not_a_bug_report(url: str, reason: str) -> None:
    """Issue 27: `[::ffff:127.1]` raised ValueError out of urlsplit ("could not read (ValueError ...) report a
    bug"); the user gets the address's kind, or what is wrong with the address."""
    [f] = load(url)
    assert isinstance(f, LoadFailure) and reason in f.reason, f.reason
    assert "ValueError" not in f.reason and "report a bug" not in f.reason
    if "invalid" in reason:
        assert "check the address" in f.reason


def test_address_kinds_and_spellings() -> None:
    assert literal_address("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("0x7f.1") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("017700000001") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("news.example") is None and literal_address("deadbeef.example") is None
    assert address_kind(ipaddress.ip_address("93.184.216.34")) is None
    assert address_kind(ipaddress.ip_address("2606:4700::1111")) is None


def test_redirect_to_the_secret_is_refused_at_the_hop(server: str) -> None:
    # A "public" page (allowed by name, resolved by an injected resolver) that 302-redirects to loopback.
    resolver = lambda host, p: ["127.0.0.1"] if host == "news.example" else []  # noqa: E731
    policy = FetchPolicy(allow_hosts=frozenset({"news.example"}), resolve=resolver, timeout=3)
    Handler.seen.clear()
    secret = f"http://127.0.0.1:{port(server)}/secret"
    [f] = load(f"http://news.example:{port(server)}/redirect?to={secret}", policy=policy)
    assert isinstance(f, LoadFailure) and f.reason.startswith("refused: 127.0.0.1 is a loopback address")
    assert [path for path, _ in Handler.seen] == [f"/redirect?to={secret}"]  # the secret was never asked for


def test_feed_entries_linking_to_the_secret_fail_and_store_nothing_of_it(server: str, tmp_path: Path) -> None:
    path = tmp_path / "feed.rss"
    path.write_text(feed(f"http://127.0.0.1:{port(server)}/secret", 3), encoding="utf-8")
    Handler.seen.clear()
    items = load(str(path))
    assert [type(i).__name__ for i in items] == ["LoadFailure"] * 3
    assert all("refused: " in i.reason and "NEWSRAG_FETCH_ALLOW" in i.reason for i in items)
    assert Handler.seen == []


def test_ingest_with_default_settings_refuses_and_stores_nothing(server: str, tmp_path: Path) -> None:
    from ingest import Ingestor
    from rag.core.settings import Settings

    settings = Settings(home=tmp_path / "home")
    report = Ingestor(settings).ingest([f"{server}/secret", f"{server}/redirect?to=/secret"])
    assert report.counts()["added"] == 0 and report.counts()["failed"] == 2
    assert all("NEWSRAG_FETCH_ALLOW" in f["reason"] for f in report.failed)


def test_cli_ingest_of_the_secret_url_fails_with_the_setting_named(server: str, tmp_path: Path, capsys) -> None:
    from rag.frontends.cli import main

    code = main(["--home", str(tmp_path / "home"), "ingest", "--quiet", f"{server}/secret"])
    out = capsys.readouterr().out
    assert code == 1 and "added 0" in out and "NEWSRAG_FETCH_ALLOW" in out
    main(["--home", str(tmp_path / "home"), "list"])
    assert "No articles yet" in capsys.readouterr().out


# ---------------------------------------------------------------- DNS rebinding


def test_resolved_once_and_connected_to_the_checked_address(server: str) -> None:
    calls: list[str] = []

    def rebinding(host: str, p: int) -> list[str]:  # the first answer passes the check; later ones would not
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["10.66.66.66"]

    Handler.seen.clear()
    policy = allowed(resolve=rebinding, timeout=3)
    body, content_type = Fetcher(policy)(f"http://pinned.example:{port(server)}/article")
    assert b"harbour ferry" in body and content_type.startswith("text/html")
    assert calls == ["pinned.example"]  # resolved once; the connection went to that answer, not a new lookup
    assert Handler.seen == [("/article", f"pinned.example:{port(server)}")]  # Host kept


def test_a_name_with_any_internal_address_is_refused() -> None:
    policy = FetchPolicy(resolve=lambda host, p: ["93.184.216.34", "127.0.0.1"], timeout=2)
    with pytest.raises(FetchError, match=r"refused: rebind\.example \(127\.0\.0\.1\) is a loopback address"):
        Fetcher(policy)("http://rebind.example/")


def test_redirect_hops_are_resolved_and_checked_each_time(server: str) -> None:
    answers = {"a.example": ["127.0.0.1"], "b.example": ["10.1.2.3"]}
    policy = FetchPolicy(allow_hosts=frozenset({"a.example"}), resolve=lambda h, p: answers[h], timeout=3)
    with pytest.raises(FetchError, match=r"refused: b\.example \(10\.1\.2\.3\) is a private address"):
        Fetcher(policy)(f"http://a.example:{port(server)}/redirect?to=http://b.example/x")


# ---------------------------------------------------------------- allowed: the good paths, deadlines, limits


def test_allowed_host_article_and_redirect_work(server: str) -> None:
    [a] = load(f"{server}/redirect?to=/article", policy=allowed(timeout=3))
    assert isinstance(a, RawArticle) and "harbour ferry" in a.body


def test_too_many_redirects_names_the_setting(server: str) -> None:
    with pytest.raises(FetchError, match="NEWSRAG_FETCH_MAX_REDIRECTS=3"):
        Fetcher(allowed(max_redirects=3, timeout=3))(f"{server}/loop")


@pytest.mark.parametrize("path", ["/trickle", "/trickle-headers", "/hang"])
def test_whole_fetch_deadline_cuts_off_slow_servers(server: str, path: str) -> None:
    started = time.monotonic()
    [f] = load(f"{server}{path}", policy=allowed(timeout=1.0))
    elapsed = time.monotonic() - started
    assert isinstance(f, LoadFailure)
    assert f.reason == ("unreachable URL (no complete answer within 1s): check the address or your network, or "
                        "raise NEWSRAG_FETCH_TIMEOUT")
    assert elapsed < 2.5, elapsed  # one deadline, however often bytes arrive


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_byte_limit_names_the_setting(server: str, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"over NEWSRAG_MAX_INPUT_BYTES=100000 .*raise NEWSRAG_MAX_INPUT_BYTES"):
        Fetcher(allowed(max_bytes=100_000, timeout=5))(f"{server}{path}")
    assert time.monotonic() - started < 3


def test_run_deadline_stops_the_rest_of_an_ingest(server: str) -> None:
    started = time.monotonic()
    items = load(f"{server}/hang?r=1", f"{server}/hang?r=2", f"{server}/article",
                 policy=allowed(timeout=1.0, run_timeout=1.5))
    assert time.monotonic() - started < 3.5
    assert [type(i).__name__ for i in items] == ["LoadFailure"] * 3
    assert "NEWSRAG_FETCH_RUN_TIMEOUT" in items[1].reason and "NEWSRAG_FETCH_RUN_TIMEOUT" in items[2].reason


def test_twenty_hanging_feed_entries_take_one_deadline_and_each_fails(server: str) -> None:
    started = time.monotonic()
    items = load(f"{server}/feed?n=20&to=/hang", policy=allowed(timeout=1.0, concurrency=20))
    elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed  # about one deadline, not twenty
    assert len(items) == 20 and all(isinstance(i, LoadFailure) for i in items)
    assert all(i.reason.startswith("feed entry ") and "no complete answer within 1s" in i.reason for i in items)


def test_feed_entry_pages_that_load_are_used_and_a_404_falls_back_with_a_warning(server: str) -> None:
    items = load(f"{server}/feed?n=2&to=/article", f"{server}/feed?n=1&to=/gone", policy=allowed(timeout=3))
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["RawArticle", "RawArticle", "LoadWarning", "RawArticle"]
    assert "harbour ferry" in items[0].body
    assert isinstance(items[2], LoadWarning) and "HTTP error 404" in items[2].reason
    assert items[3].body == "Short teaser 0 about the ferry."


def test_redirect_to_another_scheme_is_refused(server: str) -> None:
    with pytest.raises(FetchError, match=r"not fetched: file:///etc/passwd is not an http\(s\) URL"):
        Fetcher(allowed(timeout=3))(f"{server}/redirect?to=file:///etc/passwd")


def test_non_ascii_paths_are_sent_percent_encoded(server: str) -> None:
    Handler.seen.clear()
    body, _ = Fetcher(allowed(timeout=3))(f"{server}/article?q=café au lait")
    assert b"harbour ferry" in body and Handler.seen[-1][0] == "/article?q=caf%C3%A9%20au%20lait"


@pytest.mark.model
def test_a_record_whose_url_python_cannot_split_is_stored_without_an_outlet_from_it(tmp_path: Path) -> None:
    """A JSONL record's url "http://[::ffff:127.1]/x" (never fetched) made the whole ingest raise from urlparse."""
    from ingest import Ingestor
    from rag.core.settings import Settings

    path = tmp_path / "r.jsonl"
    rows = [{"id": "a", "title": "Ferry", "url": "http://[::ffff:127.1]/x",
             "body": "The ferry will add night crossings from June, the operator said on Monday."},
            {"id": "b", "title": "Bus", "url": "https://news.example/b",
             "body": "The bus will add night routes from June, the operator said on Monday in a statement."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = Ingestor(Settings(home=tmp_path / "home")).ingest([str(path)])
    assert report.counts()["added"] == 2 and not report.failed, report.to_dict()
