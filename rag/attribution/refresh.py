"""The web server's background quote refresh: a store whose quotes an older extractor derived (or none) is brought
up to this one in batches while the server answers, from the old quotes meanwhile.

Each batch takes the writer lock on its own (ingest/pipeline.py `Ingestor.index_quotes`), so uploads, `newsrag
ingest` and `watch` interleave with it; it stops at the next batch when the server shuts down.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

__all__ = ["QuoteRefresher"]

log = logging.getLogger("newsrag.quotes")


class QuoteRefresher:
    def __init__(self, ingestor: Callable[[], object], *, batch: int = 200, pause: float = 0.05) -> None:
        self._ingestor = ingestor  # a factory: the Ingestor is made on the thread, when there is work
        self._batch, self._pause = batch, pause
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = 0

    def start(self, index) -> bool:
        """Start refreshing when the index is not current; False when there is nothing to do."""
        if index.quotes_indexed():
            return False
        log.info("quotes: %d stored articles to derive again with this extractor, in the background",
                 index.quotes_remaining())
        self._thread = threading.Thread(target=self._run, name="newsrag-quote-refresh", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        try:
            ingestor = self._ingestor()
            while not self._stop.is_set():
                n = ingestor.index_quotes(seconds=1.0, batch=self._batch, stop=self._stop.is_set)
                if not n:
                    break
                self.done += n
                self._stop.wait(self._pause)  # a gap for other writers waiting on the lock
            if not self._stop.is_set():
                log.info("quotes: the index is current (%d articles derived again)", self.done)
        except Exception:  # the server keeps answering from the quotes it has; the next ingest continues
            log.exception("quotes: the background refresh stopped")

    def stop(self, timeout: float = 30.0) -> bool:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
