"""Feeds watched from the web page: each feed URL is ingested again on its own schedule while the server runs
(the web page's form of `newsrag watch`).

The list lives in HOME/watched_feeds.json (at most MAX_FEEDS), so it survives a restart. One background thread
looks every POLL_SECONDS for feeds that are due and hands each to the ingest queue (the same bounded queue as
uploads, so a watched feed never runs beside another ingest); a full queue means "try again on the next look",
not a lost round. Each feed keeps the outcome of its last round for the page to show.
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

from rag.core.errors import InputError, NewsragError

__all__ = ["FeedWatcher", "EVERY", "MAX_FEEDS", "POLL_SECONDS"]

EVERY = {"15 minutes": 900, "1 hour": 3600, "6 hours": 21600, "1 day": 86400}  # the page's choices
MAX_FEEDS = 50
POLL_SECONDS = 20.0
log = logging.getLogger("newsrag.web")


class FeedWatcher:
    """add / remove / feeds, and `tick()` (called by the thread, or by a test) to start the rounds that are
    due and record the ones that finished. `submit(targets)` returns a job with wait(), state, report, error
    (rag.jobs.queue.Job)."""

    def __init__(self, home: str | Path, submit: Callable[[list[str]], Any], *,
                 clock: Callable[[], float] = time.time, max_feeds: int = MAX_FEEDS) -> None:
        self.path = Path(home) / "watched_feeds.json"
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
        with self._lock:
            return [dict(f, running=f["url"] in self._running) for f in self._read()]

    def add(self, url: str | None, every: str | None) -> dict[str, Any]:
        """Watch a feed (or change its interval); its first round starts at once. InputError says what to fix."""
        from rag.frontends.web.data import parse_urls

        good, bad = parse_urls(url)
        if bad or len(good) != 1:
            raise InputError("Paste one feed URL (http or https) to watch." if not bad else
                             f"{bad[0]['origin']!r} is not a feed URL: paste an http(s) address.")
        if every not in EVERY:
            raise InputError(f"Choose how often to read it: {', '.join(EVERY)}.")
        with self._lock:
            feeds = self._read()
            found = next((f for f in feeds if f["url"] == good[0]), None)
            if found is None:
                if len(feeds) >= self.max_feeds:
                    raise InputError(f"{len(feeds)} feeds are watched already (the most is {self.max_feeds}): "
                                     "stop watching one first.")
                found = {"url": good[0], "last_run": None, "last_result": "waiting for its first round"}
                feeds.append(found)
            found["every"] = EVERY[every]
            self._write(feeds)
        self._wake.set()
        return dict(found)

    def remove(self, url: str | None) -> bool:
        with self._lock:
            feeds = self._read()
            kept = [f for f in feeds if f["url"] != (url or "").strip()]
            if len(kept) == len(feeds):
                return False
            self._write(kept)
            return True

    # -- the rounds ----------------------------------------------------------------------------------------
    def tick(self) -> list[str]:
        """Record the rounds that finished and start the ones that are due; the URLs started."""
        started: list[str] = []
        with self._lock:
            feeds = self._read()
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
                    f["last_run"] = now
                    started.append(f["url"])
                    changed = True
            for url in set(self._running) - {f["url"] for f in feeds}:  # stopped watching while it ran
                del self._running[url]
            if changed:
                self._write(feeds)
        return started

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

    # -- the file ------------------------------------------------------------------------------------------
    def _read(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("web: %s could not be read (%s); no feeds are watched until one is added", self.path, exc)
            return []
        feeds = data.get("feeds") if isinstance(data, dict) else None
        return [f for f in feeds or [] if isinstance(f, dict) and isinstance(f.get("url"), str)
                and isinstance(f.get("every"), (int, float))][:self.max_feeds]

    def _write(self, feeds: list[dict[str, Any]]) -> None:
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
