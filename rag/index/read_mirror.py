"""A serving replica's read copy of a shared (PostgreSQL) catalog, so it answers while PostgreSQL is away.

`newsrag serve`, `slack` and `mcp` on a PostgreSQL catalog keep a SQLite catalog under NEWSRAG_HOME/read-mirror in
step with it: a thread reads the catalog's version every second and, when it moved, copies the articles whose
live generation changed (their rows, passages and quotes, read in one snapshot) and drops those removed, in one
SQLite transaction, which also moves the mirror's own keyword index (FTS5, the same analysis and scores as
PostgreSQL's). Vector ids are copied as they are, so the Chroma server's vectors resolve through the mirror too.

`MirroredCatalog` stands where the catalog stood: reads go to PostgreSQL; when a read fails because PostgreSQL is
not answering, that read and the next ones for `RETRY_AFTER` seconds are served from the mirror (a question
answered from what the replica last saw, not an error), until the sync thread reaches PostgreSQL again. Writes
(ingest, removal, jobs, the login throttle, earlier chats) still go to PostgreSQL only and fail with its clear
error: nothing is written that other replicas would not see. The mirror never owns vectors: what it retires is
not deleted from the Chroma server.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from rag.core.errors import StoreError
from rag.index import bands, keywords, quote_store
from rag.index.index import _READS as INDEX_READS
from rag.index.sqlite_catalog import SqliteCatalog, day_number

__all__ = ["MirroredCatalog", "ReadMirror", "READS"]

log = logging.getLogger("newsrag.index")

SYNC_SECONDS = 1.0  # how often the sync thread reads PostgreSQL's version
RETRY_AFTER = 5.0  # after a failed read, questions go straight to the mirror this long (the sync thread probes)
_BATCH = 500  # articles copied per SQLite transaction
_VERSION_KEY = "mirrored_version"

# The catalog reads a question, a listing or a chat page makes; each falls back to the mirror.
# The Index's reads under their own names, and the ones the Index itself makes of its catalog, less what other
# processes share besides coverage (below).
READS = (frozenset(INDEX_READS) | {"data_version", "signatures_of", "live_vids", "vids_of", "sources",
                                   "keyword_search", "trash_count"}) - {"conversations_get", "document"}
# Not a web user's earlier chats nor the watched feeds: a list saved after a read of the copy (which holds none)
# would replace the one PostgreSQL holds. While it is away neither is shown nor saved (answers still are).


class ReadMirror(SqliteCatalog):
    """A SQLite catalog holding what another catalog holds live, under the other's generations and vector ids."""

    def mirrored_version(self) -> int | None:
        """The primary's version this copy reflects; None before the first whole copy."""
        row = self._one("SELECT value FROM meta WHERE key=?", (_VERSION_KEY,))
        return int(row[0]) if row else None

    def version(self) -> int:
        """The primary's version this copy reflects (so a reader comparing versions sees the same numbers)."""
        return self.mirrored_version() or 0

    def data_version(self) -> int:
        return self.version()

    def live_generations(self) -> dict[str, int]:
        return dict(self._all("SELECT id, gen FROM articles WHERE state='ready'"))

    def apply(self, arts: Sequence[tuple], passages: Sequence[tuple], quotes: Sequence[tuple], gone: Sequence[str],
              *, quotes_current: bool, version: int | None) -> None:
        """In one transaction: drop `gone` and every article in `arts`, then add `arts` as they are (rows in the
        SQLite catalog's column order, state made live here, signature last) with their passages and quotes;
        `version`, when given, marks the copy whole at the primary's version."""
        with self._tx():
            for article_id in {*gone, *(a[0] for a in arts)}:
                self._retire(article_id, None)
            cols = ("id, title, source, url, published_at, author, credited_source, ingested_at, content_hash,"
                    " origin, text, state, duplicate_of, passage_count, gen, updated_at, date_source, signature, day")
            self._db.executemany(
                f"INSERT INTO articles ({cols}) VALUES ({','.join('?' * 19)})",
                [(*a[:11], "pending", *a[12:17], None if a[17] is None else bytes(a[17]), day_number(a[4]))
                 for a in arts])
            self._db.executemany("INSERT INTO passages (vid, id, article_id, gen, idx, start, end)"
                                 " VALUES (?,?,?,?,?,?,?)", [tuple(p) for p in passages])
            self._db.executemany(quote_store.INSERT, [tuple(q) for q in quotes])
            bands.insert_where(self._db, "a.state='pending'", ())
            keywords.insert(self._db, self._bodies("a.state='pending'", ()))
            self._db.execute("UPDATE articles SET state='ready' WHERE state='pending'")
            self._db.execute("DELETE FROM trash")  # the vectors belong to the primary's writers, not to this copy
            quote_store.stamp(self._db, quotes_current)
            if version is not None:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_VERSION_KEY, str(version)))
            self._bump()


class MirroredCatalog:
    """A shared catalog with a local read copy: reads fall back to the copy while the primary is away."""

    def __init__(self, primary: Any, home: Path, *, sync_seconds: float = SYNC_SECONDS,
                 retry_after: float = RETRY_AFTER, start: bool = True) -> None:
        self.primary = primary
        self.mirror = ReadMirror(Path(home) / "read-mirror")
        self.sync_seconds, self.retry_after = sync_seconds, retry_after
        self._away_until = 0.0
        self._warned = False
        self._sync_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if start:
            self._thread = threading.Thread(target=self._run, name="newsrag-read-mirror", daemon=True)
            self._thread.start()

    # -- reads: the primary, else the copy -------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        found = getattr(self.primary, name)
        if name not in READS:
            return found  # writes, jobs, the login throttle, the writer lock: the primary's, errors and all

        def read(*args: Any, **kwargs: Any) -> Any:
            if time.monotonic() < self._away_until and self.ready():
                return getattr(self.mirror, name)(*args, **kwargs)
            try:
                return found(*args, **kwargs)
            except StoreError:
                if not self.ready():
                    raise  # nothing copied yet: the primary's clear error
                self._away_until = time.monotonic() + self.retry_after
                if not self._warned:
                    self._warned = True
                    log.warning("The shared catalog is not answering: answering from this replica's read copy "
                                "(as of catalog version %s) until it is back. Writes wait for it.",
                                self.mirror.mirrored_version())
                return getattr(self.mirror, name)(*args, **kwargs)

        return read

    def answering_from_copy(self) -> bool:
        """Whether reads are being served from the read copy now (the primary did not answer lately)."""
        return time.monotonic() < self._away_until and self.ready()

    def ready(self) -> bool:
        return self.mirror.mirrored_version() is not None

    # -- keeping the copy in step ----------------------------------------------------------------------------
    def sync(self) -> int:
        """Bring the copy up to the primary's current version; returns the articles copied or dropped. Raises
        StoreError when the primary is away."""
        with self._sync_lock:
            version = self.primary.version()
            if version == self.mirror.mirrored_version():
                return 0
            theirs, mine = self.primary.live_generations(), self.mirror.live_generations()
            gone = [i for i in mine if i not in theirs]
            changed = [i for i, gen in theirs.items() if mine.get(i) != gen]
            current = self.primary.quotes_indexed()
            batches = [changed[lo:lo + _BATCH] for lo in range(0, len(changed), _BATCH)] or [[]]
            for n, batch in enumerate(batches):
                arts, passages, quotes, _ = self.primary.export(batch) if batch else ([], [], [], version)
                last = n == len(batches) - 1
                # the copy is marked at the version read before the diff: a change since then moves the primary's
                # version past it, so the next round looks again
                self.mirror.apply(arts, passages, quotes, gone if n == 0 else (), quotes_current=current,
                                  version=version if last else None)
            return len(changed) + len(gone)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                copied = self.sync()
                if self._away_until and copied >= 0:
                    if self._warned:
                        log.warning("The shared catalog answers again: reads go to it.")
                    self._away_until, self._warned = 0.0, False
            except StoreError as exc:
                self._away_until = time.monotonic() + self.retry_after
                log.debug("read mirror: %s", exc)
            except Exception:  # noqa: BLE001 - the copy must not stop a replica; the next round tries again
                log.exception("read mirror: a sync round failed")
            self._stop.wait(self.sync_seconds)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.mirror.close()
        self.primary.close()
