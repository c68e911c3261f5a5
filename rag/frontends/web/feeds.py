"""Feeds watched from the web page: each feed URL is ingested again on its own schedule while the server runs
(the web page's form of `newsrag watch`).

The list (at most MAX_FEEDS) lives in the catalog as one shared document, so it survives a restart and every
replica of a shared catalog shows and keeps the same list; a list kept in HOME/watched_feeds.json by an earlier
version moves there once. One background thread per replica looks every POLL_SECONDS for feeds that are due and
hands each to the ingest queue (the same bounded queue as uploads: a job in a shared catalog). A round is claimed
in the same catalog transaction that reads the list, so of several replicas only one starts it. A full queue
means "try again on the next look", not a lost round. Each feed keeps the outcome of its last round for the page
to show (written by the replica that started it). Without a catalog (tests) the list is the file itself.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from rag.core.errors import InputError, NewsragError, StoreError

__all__ = ["FeedWatcher", "EVERY", "MAX_FEEDS", "POLL_SECONDS", "DOCUMENT"]

EVERY = {"15 minutes": 900, "1 hour": 3600, "6 hours": 21600, "1 day": 86400}  # the page's choices
MAX_FEEDS = 50
POLL_SECONDS = 20.0
DOCUMENT = "watched_feeds"  # the catalog document holding the list
log = logging.getLogger("newsrag.web")


class FeedWatcher:
    """add / remove / feeds, and `tick()` (called by the thread, or by a test) to start the rounds that are
    due and record the ones that finished. `submit(targets)` returns a job with wait(), state, report, error
    (rag.jobs.queue.Job)."""

    def __init__(self, home: str | Path, submit: Callable[[list[str]], Any], *, catalog: Any = None,
                 clock: Callable[[], float] = time.time, max_feeds: int = MAX_FEEDS) -> None:
        self.path = Path(home) / "watched_feeds.json"
        self.catalog = catalog  # an Index (document / document_update), or None: the file is the list
        self._submit = submit
        self._clock = clock
        self.max_feeds = max_feeds
        self._lock = threading.Lock()
        self._running: dict[str, Any] = {}  # url -> its job in the ingest queue
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the list ------------------------------------------------------------------------------------------
    def feeds(self) -> list[dict[str, Any]]:
        """The watched feeds: url, every (seconds), last_run (epoch seconds or None), last_result, running."""
        try:
            feeds = self._feeds()
        except StoreError as exc:  # a shared catalog that is away: no list now, nothing lost
            log.warning("web: the watched feeds cannot be read now (%s)", exc)
            return []
        with self._lock:
            return [dict(f, running=f["url"] in self._running) for f in feeds]

    def add(self, url: str | None, every: str | None) -> dict[str, Any]:
        """Watch a feed (or change its interval); its first round starts at once. InputError says what to fix."""
        from rag.frontends.web.data import parse_urls

        good, bad = parse_urls(url)
        if bad or len(good) != 1:
            raise InputError("Paste one feed URL (http or https) to watch." if not bad else
                             f"{bad[0]['origin']!r} is not a feed URL: paste an http(s) address.")
        if every not in EVERY:
            raise InputError(f"Choose how often to read it: {', '.join(EVERY)}.")

        def change(feeds: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
            found = next((f for f in feeds if f["url"] == good[0]), None)
            if found is None:
                if len(feeds) >= self.max_feeds:
                    raise InputError(f"{len(feeds)} feeds are watched already (the most is {self.max_feeds}): "
                                     "stop watching one first.")
                found = {"url": good[0], "last_run": None, "last_result": "waiting for its first round"}
                feeds.append(found)
            found["every"] = EVERY[every]
            return feeds, found

        found = self._change(change)
        self._wake.set()
        return dict(found)

    def remove(self, url: str | None) -> bool:
        def change(feeds: list[dict[str, Any]]) -> tuple[list[dict[str, Any]] | None, bool]:
            kept = [f for f in feeds if f["url"] != (url or "").strip()]
            return (kept, True) if len(kept) < len(feeds) else (None, False)

        return self._change(change)

    # -- the rounds ----------------------------------------------------------------------------------------
    def tick(self) -> list[str]:
        """Record the rounds that finished and start the ones that are due; the URLs started."""
        def change(feeds: list[dict[str, Any]]) -> tuple[list[dict[str, Any]] | None, list[str]]:
            started: list[str] = []
            now = self._clock()
            changed = False
            for f in feeds:
                job = self._running.get(f["url"])
                if job is not None and job.wait(0):
                    del self._running[f["url"]]
                    f["last_result"] = _outcome(job)
                    changed = True
                if f["url"] in self._running:
                    continue
                if f.get("last_run") is None or now - float(f["last_run"]) >= float(f["every"]):
                    try:
                        self._running[f["url"]] = self._submit([f["url"]])
                    except NewsragError as exc:  # the queue is full or closing: try again on the next look
                        f["last_result"] = f"not read this time: {exc}"
                        changed = True
                        continue
                    f["last_run"] = now  # claimed: another replica reading the list after this sees it ran
                    started.append(f["url"])
                    changed = True
            for url in set(self._running) - {f["url"] for f in feeds}:  # stopped watching while it ran
                del self._running[url]
            return (feeds if changed else None), started

        return self._change(change)

    def start(self, poll: float = POLL_SECONDS) -> None:
        if self._thread is not None:
            return

        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - the watcher must outlive one bad round
                    log.exception("web: watching feeds failed this round")
                self._wake.wait(poll)
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="newsrag-feeds", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- where the list is kept ---------------------------------------------------------------------------
    def _feeds(self) -> list[dict[str, Any]]:
        if self.catalog is None:
            with self._lock:
                return self._read_file()
        text = self.catalog.document(DOCUMENT)
        if text is None and self.path.exists():
            return self._change(lambda feeds: (None, feeds))  # moves the file's list in first
        return self._parse(text, "the catalog")

    def _change(self, change: Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]] | None, Any]]) -> Any:
        """Read the list, `change(feeds) -> (new list or None to keep it, result)`, write it: one catalog
        transaction (or, without a catalog, under this process's lock); returns the result."""
        with self._lock:
            if self.catalog is None:
                feeds, result = change(self._read_file())
                if feeds is not None:
                    self._write_file(feeds)
                return result
            moved: list[bool] = []

            def on_text(text: str | None) -> tuple[str | None, Any]:
                legacy = text is None and self.path.exists()
                feeds = self._read_file() if legacy else self._parse(text, "the catalog")
                new, result = change(feeds)
                if legacy:
                    moved.append(True)
                    new = feeds if new is None else new
                return (None if new is None else json.dumps({"version": 1, "feeds": new}, ensure_ascii=False),
                        result)

            result = self.catalog.document_update(DOCUMENT, on_text)
            if moved:  # kept in a file by an earlier version: now in the catalog, the file set aside
                self.path.replace(self.path.with_suffix(".json.moved"))
            return result

    def _parse(self, text: str | None, where: str) -> list[dict[str, Any]]:
        if text is None:
            return []
        try:
            data = json.loads(text)
        except ValueError as exc:
            log.warning("web: the watched feeds in %s could not be read (%s); no feeds are watched until one is "
                        "added", where, exc)
            return []
        feeds = data.get("feeds") if isinstance(data, dict) else None
        return [f for f in feeds or [] if isinstance(f, dict) and isinstance(f.get("url"), str)
                and isinstance(f.get("every"), (int, float))][:self.max_feeds]

    def _read_file(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("web: %s could not be read (%s); no feeds are watched until one is added", self.path, exc)
            return []
        return self._parse(text, str(self.path))

    def _write_file(self, feeds: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".feeds-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": 1, "feeds": feeds}, f, ensure_ascii=False)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _outcome(job: Any) -> str:
    """One line for a finished round: its counts, or why it failed."""
    if job.state != "done" or not job.report:
        return f"failed: {job.error or 'the round did not finish'}"
    r = job.report
    line = ", ".join(f"{k} {int(r.get(k, 0))}" for k in ("added", "updated", "unchanged", "duplicates", "failed"))
    failed = (r.get("items") or {}).get("failed") or []
    return line + (f" ({failed[0].get('reason')})" if failed else "")
