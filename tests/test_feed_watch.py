"""Feeds watched from the web page (issue 27): a feed served on 127.0.0.1 is read at once, then again when its
interval has passed (a test clock), through the real ingest queue; the list survives a restart; bad input and
a full list get messages; a round that cannot be queued is tried again on the next look."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from rag.core.errors import InputError, NewsragError
from rag.frontends.web.feeds import EVERY, FeedWatcher

WEB = Path(__file__).resolve().parent / "fixtures" / "web"


class _Site(http.server.BaseHTTPRequestHandler):
    routes = {"/feed.xml": ("feed.xml", "application/rss+xml"), "/story-one.html": ("story-one.html", "text/html"),
              "/story-two.html": ("story-two.html", "text/html")}

    def do_GET(self) -> None:  # noqa: N802
        if self.path not in self.routes:
            body, kind, status = b"not found", "text/plain", 404
        else:
            name, kind = self.routes[self.path]
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            body, status = (WEB / name).read_bytes().replace(b"{{BASE}}", base.encode()), 200
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def feed_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _finish(watcher: FeedWatcher) -> None:
    for job in list(watcher._running.values()):
        assert job.wait(120)
    watcher.tick()


def test_a_watched_feed_is_read_now_and_again_on_its_schedule(handlers, feed_url):
    clock = Clock()
    watcher = FeedWatcher(handlers.assistant.settings.home, handlers.jobs.submit, clock=clock,
                          catalog=handlers.assistant.index)
    watcher.add(feed_url, "1 hour")
    assert watcher.tick() == [feed_url]
    assert watcher.feeds()[0]["running"]
    _finish(watcher)
    [feed] = watcher.feeds()
    assert feed["last_result"].startswith("added 3, updated 0, unchanged 0"), feed
    assert "Harbour Crane Removed" in [r["title"] for r in handlers.rows()]
    clock.now += EVERY["1 hour"] - 1
    assert watcher.tick() == []  # not due yet
    clock.now += 1
    assert watcher.tick() == [feed_url]
    _finish(watcher)
    assert watcher.feeds()[0]["last_result"].startswith("added 0, updated 0, unchanged 3")
    again = FeedWatcher(handlers.assistant.settings.home, handlers.jobs.submit, clock=clock,  # a restart
                        catalog=handlers.assistant.index)
    assert [f["url"] for f in again.feeds()] == [feed_url] and again.tick() == []
    assert again.remove(feed_url) and again.feeds() == [] and not again.remove(feed_url)


def test_the_page_handlers_show_the_table_and_stop_watching(handlers, feed_url):
    table, pick, box = handlers.watch_feed(feed_url, "15 minutes")
    assert feed_url in table and "15 minutes" in table and box == "" and pick["choices"] == [feed_url]
    table, pick = handlers.unwatch_feed(feed_url)
    assert "No feeds are watched" in table and pick["choices"] == []


@pytest.mark.parametrize("url, every, words", [
    ("/etc/passwd", "1 hour", "not a feed URL"),
    ("", "1 hour", "Paste one feed URL"),
    ("https://a.example/feed", "every second", "Choose how often"),
])
def test_bad_feed_input_gets_a_message(tmp_path, url, every, words):
    watcher = FeedWatcher(tmp_path, lambda targets: None)
    with pytest.raises(InputError, match=words):
        watcher.add(url, every)
    assert watcher.feeds() == []


def test_the_list_is_bounded(tmp_path):
    watcher = FeedWatcher(tmp_path, lambda targets: None, max_feeds=2)
    watcher.add("https://a.example/feed", "1 hour")
    watcher.add("https://b.example/feed", "1 hour")
    watcher.add("https://a.example/feed", "1 day")  # the same feed again: its interval changes
    assert [f["every"] for f in watcher.feeds()] == [EVERY["1 day"], EVERY["1 hour"]]
    with pytest.raises(InputError, match="stop watching one first"):
        watcher.add("https://c.example/feed", "1 hour")


def test_a_round_that_cannot_be_queued_is_tried_on_the_next_look(tmp_path):
    calls = []

    class Done:
        state, report, error = "done", {"added": 1, "items": {}}, None

        def wait(self, timeout=None):
            return True

    def submit(targets):
        calls.append(targets)
        if len(calls) == 1:
            raise NewsragError("8 ingests are already waiting: try again in a few minutes.")
        return Done()

    watcher = FeedWatcher(tmp_path, submit, clock=Clock())
    watcher.add("https://a.example/feed", "1 hour")
    assert watcher.tick() == [] and "not read this time" in watcher.feeds()[0]["last_result"]
    assert watcher.tick() == ["https://a.example/feed"]
    watcher.tick()
    assert watcher.feeds()[0]["last_result"].startswith("added 1")


def test_the_thread_starts_the_first_round_at_once_and_stops(tmp_path):
    started = threading.Event()

    def submit(targets):
        started.set()
        raise NewsragError("closing")

    watcher = FeedWatcher(tmp_path, submit)
    watcher.start(poll=60)
    try:
        watcher.add("https://a.example/feed", "1 hour")  # wakes the thread: no minute-long wait
        assert started.wait(10)
    finally:
        watcher.stop(5)
    assert not watcher._thread.is_alive()


class _Job:
    state, report, error = "done", {"added": 1}, None

    def wait(self, timeout: float | None = None) -> bool:
        return True


def watchers_on_one_catalog(catalog, tmp_path, clock) -> tuple[FeedWatcher, FeedWatcher, list[str]]:
    """Two replicas' watchers (each its own home and running jobs) on one catalog, both submitting into `started`."""
    started: list[str] = []

    def submit(targets: list[str]) -> _Job:
        started.extend(targets)
        return _Job()

    return (FeedWatcher(tmp_path / "r1", submit, clock=clock, catalog=catalog),
            FeedWatcher(tmp_path / "r2", submit, clock=clock, catalog=catalog), started)


def check_replicas_share_the_list_and_start_each_round_once(catalog, tmp_path) -> None:
    clock = Clock()
    one, two, started = watchers_on_one_catalog(catalog, tmp_path, clock)
    one.add("https://a.example/feed.xml", "1 hour")
    assert [f["url"] for f in two.feeds()] == ["https://a.example/feed.xml"]  # added on one, shown on the other
    assert one.tick() == ["https://a.example/feed.xml"] and two.tick() == []  # claimed by one replica only
    one.tick()  # its round's outcome is recorded where every replica reads it
    assert two.feeds()[0]["last_result"].startswith("added 1")
    clock.now += EVERY["1 hour"]
    assert two.tick() == ["https://a.example/feed.xml"] and one.tick() == []
    assert started == ["https://a.example/feed.xml"] * 2
    assert two.remove("https://a.example/feed.xml") and one.feeds() == []


def test_replicas_on_one_catalog_share_the_list_and_start_each_round_once(tmp_path):
    from rag.index.sqlite_catalog import SqliteCatalog

    catalog = SqliteCatalog(tmp_path / "catalog")
    try:
        check_replicas_share_the_list_and_start_each_round_once(catalog, tmp_path)
    finally:
        catalog.close()


def test_a_list_kept_in_a_file_moves_into_the_catalog_once(tmp_path):
    from rag.index.sqlite_catalog import SqliteCatalog

    old = FeedWatcher(tmp_path, lambda targets: _Job())  # an earlier version: the list in HOME/watched_feeds.json
    old.add("https://a.example/feed.xml", "1 day")
    catalog = SqliteCatalog(tmp_path / "catalog")
    try:
        now = FeedWatcher(tmp_path, lambda targets: _Job(), catalog=catalog)
        assert [(f["url"], f["every"]) for f in now.feeds()] == [("https://a.example/feed.xml", EVERY["1 day"])]
        assert not (tmp_path / "watched_feeds.json").exists() and (tmp_path / "watched_feeds.json.moved").exists()
        assert catalog.document("watched_feeds") is not None
    finally:
        catalog.close()
