"""The Index: the one object that touches the catalog (SQLite), the vectors (Chroma) and the keyword index.

Ingest hands it finished records (`write`: articles, passages, vectors, quotes, duplicates); the retriever asks it
to search (`dense`, `keyword`); the front ends ask it for listings. Writes are staged: a new version is written
beside the live one and made live in one catalog transaction once its vectors are in, so a process killed at any
moment leaves the old version or the new one answerable. Writers are serialised by a lock file in NEWSRAG_HOME;
readers call `refresh()` (one cheap SQLite read per question) and reload the vectors when another process wrote.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np

from rag.core.schema import Passage
from rag.core.settings import Settings
from rag.index.base import CatalogBackend, VectorBackend
from rag.index.catalogs import open_catalog
from rag.index.sqlite_catalog import ArticleRow, Staged, vector_id

__all__ = ["Index"]

_READS = ("version", "get", "find", "articles", "article_ids", "passage_ids", "listing", "mentions_all", "duplicates_of", "has_articles", "newest",
          "signatures", "near_candidates", "passages", "iter_passages", "passages_by_id", "stats", "quotes", "quotes_indexed",
          "quotes_remaining", "quotes_by_speaker", "quotes_by_description", "find_quote_text", "passage_at",
          "conversations_get", "document")


class Index:
    def __init__(self, settings: Settings, *, catalog: CatalogBackend | None = None,
                 vectors: VectorBackend | None = None) -> None:
        self.settings = settings
        self.catalog = catalog or open_catalog(settings)
        self._seen = self.catalog.version()  # the catalog version this process's vectors reflect (read first)
        self._data_version = self.catalog.data_version()
        if vectors is None:
            from rag.index.vectors import ChromaVectors

            vectors = ChromaVectors(settings)
        self.vectors = vectors
        if hasattr(self.catalog, "job_queue") and not getattr(vectors, "shared", True):
            logging.getLogger("newsrag.index").warning(
                "The catalog is shared (NEWSRAG_CATALOG_URL) but the vectors are embedded in NEWSRAG_HOME: processes "
                "on other machines will not find this machine's vectors. Set NEWSRAG_CHROMA_HOST (docs/DEPLOY.md).")
        self._refresh_lock = threading.Lock()
        self._sources: tuple[int, list[str]] | None = None
        # one writer at a time: a lock file in NEWSRAG_HOME, or the catalog's own lock when it is shared by machines
        self._writer = self.catalog.writer_lock() if hasattr(self.catalog, "writer_lock") else \
            _WriterLock(settings.home / "write.lock")

    def __getattr__(self, name: str) -> Any:  # the catalog's reads, under their old names
        if name in _READS:
            return getattr(self.catalog, name)
        raise AttributeError(f"'Index' object has no attribute {name!r}")

    # -- reading ---------------------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Catch up with what other processes committed; True when the vectors were reloaded. Costs one SQLite
        pragma when nothing changed."""
        dv = self.catalog.data_version()
        if dv == self._data_version:
            return False
        with self._refresh_lock:
            self._data_version = dv
            version = self.catalog.version()
            if version == self._seen:
                return False
            if not self.vectors.shared:
                self.vectors.reopen()
            self._seen = version
            return True

    def dense(self, vector: np.ndarray, k: int, where: dict | None = None) -> list:
        """The k nearest live passages (DenseHit, passage_id the public id), filters applied inside Chroma."""
        self.refresh()
        # retired vectors a large main index still holds (see _empty_trash) may take places: ask for that many more
        n = k + min(k, self.catalog.trash_count())
        try:
            hits = self.vectors.query(vector, n, where)
        except Exception:  # noqa: BLE001 - the store moved under this query (another process): reload, ask again
            self.vectors.reopen()
            hits = self.vectors.query(vector, n, where)
        live = self.catalog.live_vids([h.vid for h in hits])
        return [h for h in hits if h.vid in live][:k]

    def sources(self) -> list[str]:
        """The outlets of the live articles, read again only after a write (every question naming one asks)."""
        version = self.catalog.version()
        cached = self._sources
        if cached is None or cached[0] != version:
            cached = self._sources = (version, self.catalog.sources())
        return cached[1]

    def keyword(self, query: str, k: int, *, sources: Sequence[str] | None = None, since_day: int | None = None,
                until_day: int | None = None, as_of_day: int | None = None) -> list[tuple[str, float]]:
        """(passage id, BM25 score) of the k best live passages, filters applied inside the search (as_of_day:
        leave out passages dated after it; undated ones stay)."""
        return self.catalog.keyword_search(query, k, sources=sources, since_day=since_day, until_day=until_day,
                                           as_of_day=as_of_day, budget=self.settings.keyword_postings)

    def passage_vectors(self, passage_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of live passages, by passage id."""
        vids = self.catalog.vids_of(passage_ids)
        got = self.vectors.vectors(list(vids.values()))
        return {pid: got[vid] for pid, vid in vids.items() if vid in got}

    def warm(self) -> None:
        self.vectors.warm()

    def keep_read_mirror(self) -> bool:
        """A serving process of a shared catalog: keep a local read copy of it and answer from that copy while the
        catalog is away (rag/index/read_mirror.py). True when one is kept; a catalog of one machine needs none."""
        if not (self.settings.read_mirror and hasattr(self.catalog, "live_generations")):
            return False
        from rag.index.read_mirror import MirroredCatalog

        if not isinstance(self.catalog, MirroredCatalog):
            self.catalog = MirroredCatalog(self.catalog, self.settings.home)
        return True

    # -- what processes on several machines share (a shared catalog only) -----------------------------------
    def job_queue(self):
        """The ingest jobs every process of a shared catalog takes from (rag/jobs/worker.py); None for a catalog of
        one machine, whose ingests run in the process that asked."""
        make = getattr(self.catalog, "job_queue", None)
        return make() if make else None

    def conversations_put(self, user_key: str, data: str) -> None:
        """Store one web user's earlier chats (not coverage: no writer lock, no new version)."""
        self.catalog.conversations_put(user_key, data)

    def document_update(self, name: str, change):
        """Change a shared document (the web page's watched feeds) in one catalog transaction (not coverage)."""
        return self.catalog.document_update(name, change)

    def login_store(self):
        """The web login throttle's counts shared by every replica; None: each process counts its own."""
        make = getattr(self.catalog, "login_store", None)
        return make() if make else None

    # -- writing ---------------------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock (re-entrant in this process): one writer per NEWSRAG_HOME at a time."""
        with self._writer as first:
            if first:
                self.refresh()  # a writer whose vectors are stale would write into an old copy of the index
            yield

    def repair(self) -> list[str]:
        """Drop what a killed writer left staged and delete vectors of retired versions; returns the ids of
        the articles that were left staged."""
        with self.writing():
            ids = self.catalog.pending_ids()
            self._empty_trash(self.catalog.discard_pending())
            return ids

    def write(self, items: Sequence[Staged], vectors: np.ndarray | None = None, embed=None) -> int:
        """Store new versions of articles (and duplicates) in three steps: stage them beside the live versions,
        put their vectors in (given, or `embed(passages)`), make them live at once. Returns the generation."""
        with self.writing():
            gen = self.catalog.stage(items)
            self._pause("staged")
            passages = [p for s in items for p in s.passages]
            if passages:
                if vectors is None:
                    vectors = embed(passages)
                self._pause("embedded")
                self.vectors.upsert([vector_id(p.id, gen) for p in passages], passages, vectors, gen)
            self._pause("vectors")
            trash = self.catalog.commit(gen)
            self._own_write()
            self._pause("committed")
            self._empty_trash(trash)
            return gen

    def put_quotes(self, quotes) -> None:
        """Replace live articles' quotes (article id -> quotes) and stamp the index current (quote_store.put)."""
        with self.writing():
            self.catalog.put_quotes(quotes)

    def refresh_quotes(self, limit: int = 200) -> int:
        """One batch of the quote refresh (rag/index/quote_store.refresh) under the writer lock; 0 when current."""
        with self.writing():
            return self.catalog.refresh_quotes(limit)

    def remove(self, article_ids: Sequence[str]) -> None:
        """Remove articles, every version, with their duplicates: one catalog step, then their vectors."""
        with self.writing():
            trash = self.catalog.remove(article_ids)
            self._own_write()
            self._pause("removed")
            self._empty_trash(trash)

    def rebuild_keywords(self) -> int:
        with self.writing():
            return self.catalog.rebuild_keywords()

    def _own_write(self) -> None:
        # Writers hold the lock, so one step past what this process had seen means nobody else wrote between:
        # this process's vectors are current. Otherwise the next refresh() reloads them.
        version = self.catalog.version()
        if version == self._seen + 1:
            self._seen = version
        self._data_version = -1

    def _empty_trash(self, vids: Sequence[str]) -> None:
        """Delete retired vectors; those a large embedded main index keeps until its next compaction stay in the
        trash (never returned: only live vectors are). A full fresh index is moved into the main one here."""
        if vids:
            left = set(self.vectors.delete(vids))
            self.catalog.clear_trash([v for v in vids if v not in left])
        if self.vectors.due():
            trash = self.catalog.trash()
            self.vectors.compact(trash)
            self.catalog.clear_trash(trash)

    def _pause(self, stage: str) -> None:
        """Tests only (NEWSRAG_TEST_PAUSE_AT=stage): stop here, leaving a marker file, so a test can kill us."""
        if self.settings.test_pause_at == stage:
            self.settings.home.mkdir(parents=True, exist_ok=True)  # a shared catalog writes nothing there
            (self.settings.home / f"paused-at-{stage}").write_text(str(os.getpid()))
            time.sleep(600)

    def close(self) -> None:
        self.catalog.close()


class _WriterLock:
    """An exclusive lock file, re-entrant within the process (threads of one process take turns)."""

    def __init__(self, path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._file = None

    def __enter__(self) -> bool:
        self._thread_lock.acquire()
        first = self._depth == 0
        if first:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "w")
            fcntl.flock(self._file, fcntl.LOCK_EX)
        self._depth += 1
        return first

    def __exit__(self, *exc) -> bool:
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
        self._thread_lock.release()
        return False


__all__ += ["ArticleRow", "Staged", "Passage"]
