"""The catalog in PostgreSQL (NEWSRAG_CATALOG_URL=postgresql://…), shared by processes on any number of machines.

It keeps what the SQLite catalog keeps, with the same generations, staging and one-transaction commit
(sqlite_catalog.py says how), so a reader on any machine sees the old version of an article or the new one,
whole. Writers take turns on a PostgreSQL advisory lock (`writer_lock`) instead of a lock file; a lock dies
with its connection, so a writer that lost it (PostgreSQL restarted under it) finds its staged rows gone or
counted wrong at `commit` and fails instead of committing part of a generation. Connections come from a pool
that checks each one before use, so after a PostgreSQL restart the next call reconnects by itself; while
PostgreSQL is away every call raises a StoreError saying so.
"""

from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from typing import Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import numpy as np

from rag.attribution.quote_index import IndexedQuote
from rag.core.errors import StoreError
from rag.core.schema import Passage, Quote
from rag.index import bands, keywords
from rag.index.pg import keywords as pg_keywords
from rag.index.pg import quotes as pg_quotes
from rag.index.pg.schema import migrate
from rag.index.sqlite_catalog import (
    CatalogReads,
    Staged,
    _passage,
    day_number,
    vector_id,
)

__all__ = ["PgCatalog"]

_COLS = ("id, title, source, url, published_at, author, credited_source, ingested_at, content_hash, origin, text,"
         " state, duplicate_of, passage_count, gen, updated_at, date_source")
_NEWEST_FIRST = " ORDER BY COALESCE(published_at,'') DESC, title"
OUTLET = "COALESCE(a.source, a.credited_source)"
_PASSAGE = ("SELECT p.id, p.article_id, p.idx, p.start, p.end, a.text, a.title, " + OUTLET + ", a.published_at,"
            " a.url, a.author FROM passages p JOIN articles a ON a.id=p.article_id AND a.gen=p.gen")
_WRITER_LOCK = 7_420_250  # pg_advisory_lock key of the one writer at a time
POOL_SIZE = 10  # connections per process at most (questions read on several threads at once)


def where_is(url: str) -> str:
    """host:port/database of a catalog URL, without the user or password (for messages and logs)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"


class PgCatalog(CatalogReads):
    _P = "%s"

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE, connect_timeout: float = 5.0) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url, self.where = url, where_is(url)
        self._errors = (psycopg.OperationalError, psycopg.InterfaceError)
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False, timeout=connect_timeout,
                                    kwargs={"autocommit": True, "connect_timeout": max(1, int(connect_timeout))},
                                    check=ConnectionPool.check_connection, name="newsrag-catalog")
        self._staged: dict[int, int] = {}  # generation -> articles staged by this process (checked at commit)
        # closed when this catalog is dropped or the process exits, without waiting long on a server that is away
        weakref.finalize(self, self._pool.close, 1.0)
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            with self._conn() as conn:
                migrate(conn)
                self._upgrade_recipes(conn)
        except StoreError:
            self._pool.close()
            raise
        except Exception as exc:  # noqa: BLE001 - the pool's timeout or the driver's errors: one message
            self._pool.close()
            raise StoreError(f"Could not open the catalog at {self.where}: {exc}. Check NEWSRAG_CATALOG_URL and that "
                             "PostgreSQL is running and reachable from this machine.") from exc

    # -- connections -----------------------------------------------------------------------------------------
    @contextmanager
    def _conn(self):
        try:
            with self._pool.connection() as conn:
                yield conn
        except self._errors as exc:
            raise self._down(exc) from exc
        except Exception as exc:
            from psycopg_pool import PoolTimeout

            if isinstance(exc, PoolTimeout):
                raise self._down(exc) from exc
            raise

    def _down(self, exc: Exception) -> StoreError:
        return StoreError(f"The catalog at {self.where} is not answering ({type(exc).__name__}: "
                          f"{str(exc).strip()[:200]}). Check that PostgreSQL is running; this process reconnects "
                          "by itself once it is back, so try again in a moment.")

    @contextmanager
    def _tx(self):
        with self._conn() as conn, conn.transaction():
            yield conn

    def conversations_put(self, user_key: str, data: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO conversations VALUES (%s, %s, extract(epoch from now())) ON CONFLICT (user_key)"
                         " DO UPDATE SET data=excluded.data, updated_at=excluded.updated_at", (user_key, data))

    def document_update(self, name: str, change):
        """sqlite_catalog.document_update: the document's row locked (an advisory lock on its name, so that two
        replicas creating it at once take turns too) from the read to the write."""
        with self._tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("documents:" + name,))
            row = conn.execute("SELECT data FROM documents WHERE name=%s", (name,)).fetchone()
            text, result = change(row[0] if row else None)
            if text is not None:
                conn.execute("INSERT INTO documents VALUES (%s, %s, extract(epoch from now())) ON CONFLICT (name)"
                             " DO UPDATE SET data=excluded.data, updated_at=excluded.updated_at", (name, text))
        return result

    def _one(self, sql: str, args: Sequence = ()) -> tuple | None:
        with self._conn() as conn:
            return conn.execute(sql, args).fetchone()

    def _all(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self._conn() as conn:
            return conn.execute(sql, args).fetchall()

    def writer_lock(self) -> "_AdvisoryLock":
        return _AdvisoryLock(self.url, self.where)

    def job_queue(self):
        from rag.index.pg.jobs import JobQueue

        return JobQueue(self)

    def login_store(self):
        from rag.index.pg.throttle import PgLoginStore

        return PgLoginStore(self)

    def _upgrade_recipes(self, conn) -> None:
        """Index again what another keyword or band recipe indexed (as sqlite migrate does)."""
        with conn.transaction():
            conn.execute("LOCK TABLE meta IN EXCLUSIVE MODE")
            meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('keywords', 'bands')").fetchall())
            if meta.get("keywords") != keywords.ANALYZER:
                pg_keywords.rebuild(conn, self._bodies_batches(conn))
                self._set(conn, "keywords", keywords.ANALYZER)
            if meta.get("bands") != bands.RECIPE:
                conn.execute("DELETE FROM signature_bands")
                self._band(conn, "a.state='ready'", ())
                self._set(conn, "bands", bands.RECIPE)

    # -- reading ---------------------------------------------------------------------------------------------
    def version(self) -> int:
        row = self._one("SELECT value FROM meta WHERE key='version'")
        return int(row[0]) if row else 0

    def data_version(self) -> int:
        """The committed version: one key lookup (PostgreSQL has no per-connection change counter to read)."""
        return self.version()

    def listing(self) -> list[dict[str, str]]:
        rows = self._all("SELECT title, COALESCE(source, credited_source), published_at, url, origin FROM articles"
                         " WHERE state='ready' AND duplicate_of IS NULL" + _NEWEST_FIRST)
        return [{"title": r[0], "source": r[1] or "", "published_at": r[2] or "", "url": r[3] or "",
                 "origin": r[4] or ""} for r in rows]

    def mentions_all(self, *words: str) -> bool:
        if not words:
            return False
        clause = " AND ".join("strpos(lower(text), %s) > 0" for _ in words)
        return self._one(f"SELECT 1 FROM articles WHERE state='ready' AND duplicate_of IS NULL AND {clause} LIMIT 1",
                         [w.lower() for w in words]) is not None

    def has_articles(self) -> bool:
        return self._one("SELECT 1 FROM articles WHERE state='ready' LIMIT 1") is not None

    def newest(self) -> str | None:
        row = self._one("SELECT MAX(published_at) FROM articles WHERE state='ready'")
        return row[0] if row else None

    def near_candidates(self, signature: np.ndarray) -> tuple[list[str], np.ndarray]:
        pairs = bands.keys(signature)
        rows = self._all(
            "SELECT a.id, a.signature FROM articles a WHERE a.id IN (SELECT b.id FROM signature_bands b JOIN"
            " unnest(%s::int[], %s::bigint[]) AS k(band, key) ON b.band=k.band AND b.key=k.key)"
            " AND a.state='ready' AND a.duplicate_of IS NULL AND a.signature IS NOT NULL ORDER BY a.id",
            ([p[0] for p in pairs], [p[1] for p in pairs]))
        if not rows:
            return [], np.zeros((0, signature.size), dtype=np.uint32)
        return [r[0] for r in rows], np.stack([np.frombuffer(bytes(r[1]), dtype=np.uint32) for r in rows])

    def signatures(self) -> tuple[list[str], np.ndarray]:
        rows = self._all("SELECT id, signature FROM articles WHERE state='ready' AND duplicate_of IS NULL"
                         " AND signature IS NOT NULL")
        if not rows:
            return [], np.zeros((0, 0), dtype=np.uint32)
        return [r[0] for r in rows], np.stack([np.frombuffer(bytes(r[1]), dtype=np.uint32) for r in rows])

    def signatures_of(self, ids: Sequence[str]) -> dict[str, bytes]:
        return {r[0]: bytes(r[1]) for r in self._all("SELECT id, signature FROM articles WHERE id = ANY(%s) AND"
                                                    " state='ready' AND signature IS NOT NULL", (list(ids),))}

    def iter_passages(self, batch: int = 2000) -> Iterator[list[Passage]]:
        last = ("", -1)
        while True:
            rows = self._all(_PASSAGE + " WHERE a.state='ready' AND a.duplicate_of IS NULL AND (p.article_id, p.idx)"
                             " > (%s, %s) ORDER BY p.article_id, p.idx LIMIT %s", (*last, batch))
            if not rows:
                return
            yield [_passage(r) for r in rows]
            last = (rows[-1][1], rows[-1][2])

    def passages_by_id(self, ids: Sequence[str]) -> dict[str, Passage]:
        if not ids:
            return {}
        rows = self._all(_PASSAGE + " WHERE p.id = ANY(%s) AND a.state='ready'", (list(ids),))
        return {r[0]: _passage(r) for r in rows}

    def live_vids(self, vids: Sequence[str]) -> dict[str, str]:
        if not vids:
            return {}
        return dict(self._all("SELECT p.vid, p.id FROM passages p JOIN articles a ON a.id=p.article_id AND"
                              " a.gen=p.gen WHERE p.vid = ANY(%s) AND a.state='ready'", (list(vids),)))

    def vids_of(self, passage_ids: Sequence[str]) -> dict[str, str]:
        if not passage_ids:
            return {}
        return dict(self._all("SELECT p.id, p.vid FROM passages p JOIN articles a ON a.id=p.article_id AND"
                              " a.gen=p.gen WHERE p.id = ANY(%s) AND a.state='ready'", (list(passage_ids),)))

    def quotes(self, article_id: str) -> list[Quote]:
        with self._conn() as conn:
            return pg_quotes.of_article(conn, article_id)

    def quotes_indexed(self) -> bool:
        with self._conn() as conn:
            return pg_quotes.indexed(conn)

    def quotes_remaining(self) -> int:
        with self._conn() as conn:
            return pg_quotes.remaining(conn)

    def quotes_by_speaker(self, name: str) -> list[IndexedQuote]:
        with self._conn() as conn:
            return pg_quotes.by_speaker(conn, name)

    def quotes_by_description(self, words: Sequence[str]) -> list[IndexedQuote]:
        with self._conn() as conn:
            return pg_quotes.by_description(conn, words)

    def find_quote_text(self, words: Sequence[str]) -> list[IndexedQuote]:
        with self._conn() as conn:
            return pg_quotes.by_text(conn, words)

    def passage_at(self, article_id: str, start: int, end: int) -> Passage | None:
        with self._conn() as conn:
            return pg_quotes.passage_at(conn, article_id, start, end)

    def stats(self) -> dict[str, object]:
        a = self._one("SELECT COUNT(*), MAX(published_at), COALESCE(SUM(passage_count), 0) FROM articles"
                      " WHERE state='ready' AND duplicate_of IS NULL")
        d = self._one("SELECT COUNT(*) FROM articles WHERE state='ready' AND duplicate_of IS NOT NULL")
        return {"articles": a[0], "duplicates": d[0], "passages": int(a[2]), "newest": a[1], "sources": self.sources()}

    # -- what a replica's read mirror copies (rag/index/read_mirror.py) ---------------------------------------
    def live_generations(self) -> dict[str, int]:
        """article id -> the generation of its live version."""
        return dict(self._all("SELECT id, gen FROM articles WHERE state='ready'"))

    def export(self, article_ids: Sequence[str]) -> tuple[list[tuple], list[tuple], list[tuple], int]:
        """The live versions of these articles as rows, read in one snapshot: articles (the SQLite catalog's
        columns, then signature), their passages (vid, id, article_id, gen, idx, start, end) and quotes
        (quote_store.COLUMNS), and the catalog version they belong to."""
        from rag.index.quote_store import COLUMNS

        ids = list(article_ids)
        live = "a.id = ANY(%s) AND a.state='ready'"
        with self._conn() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            version = int(conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0])
            arts = conn.execute(f"SELECT {_COLS}, signature FROM articles a WHERE {live}", (ids,)).fetchall()
            ps = conn.execute('SELECT p.vid, p.id, p.article_id, p.gen, p.idx, p.start, p."end" FROM passages p'
                              f" JOIN articles a ON a.id=p.article_id AND a.gen=p.gen WHERE {live} ORDER BY p.rid",
                              (ids,)).fetchall()
            cols = ", ".join(f'q."{c}"' for c in COLUMNS)
            qs = conn.execute(f"SELECT {cols} FROM quotes q JOIN articles a ON a.id=q.article_id AND a.gen=q.gen"
                              f" WHERE {live}", (ids,)).fetchall()
        return arts, ps, qs, version

    def keyword_search(self, query: str, k: int, **filters) -> list[tuple[str, float]]:
        with self._conn() as conn:
            hits = pg_keywords.search(conn, query, k, **filters)
            if not hits:
                return []
            ids = dict(conn.execute("SELECT rid, id FROM passages WHERE rid = ANY(%s)",
                                    ([rid for rid, _ in hits],)).fetchall())
        return [(ids[rid], score) for rid, score in hits if rid in ids]

    # -- writing (callers hold writer_lock) ------------------------------------------------------------------
    def stage(self, items: Sequence[Staged]) -> int:
        with self._tx() as conn, conn.cursor() as cur:
            gen = conn.execute("SELECT nextval('generations')").fetchone()[0]
            for s in items:
                a = s.article
                cur.execute(
                    f"INSERT INTO articles ({_COLS}, signature, day) VALUES ({','.join(['%s'] * 19)})",
                    (a.id, a.title, a.source, a.url, a.published_at, a.author, a.credited_source, a.ingested_at,
                     a.content_hash, a.origin, a.text, "pending", s.duplicate_of, len(s.passages), gen,
                     a.updated_at, a.date_source, s.signature, day_number(a.published_at)))
                cur.executemany('INSERT INTO passages (vid, id, article_id, gen, idx, start, "end")'
                                " VALUES (%s,%s,%s,%s,%s,%s,%s)",
                                [(vector_id(p.id, gen), p.id, a.id, gen, p.index, p.start, p.end)
                                 for p in s.passages])
                cur.executemany(pg_quotes.INSERT, pg_quotes.rows_of(a.id, gen, s.quotes))
        self._staged[gen] = len(items)
        return gen

    def commit(self, gen: int) -> list[str]:
        """Make generation `gen` live in one transaction (sqlite_catalog.commit), after checking that every
        article this process staged in it is still there: a writer whose lock died with PostgreSQL may have had
        its staged rows discarded by the next writer, and must fail rather than commit part of them."""
        with self._tx() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM articles WHERE gen=%s AND state='pending' FOR UPDATE",
                                              (gen,)).fetchall()]
            expected = self._staged.pop(gen, None)
            if expected is not None and len(ids) != expected:
                raise StoreError(f"This write lost its staged articles ({len(ids)} of {expected} left): another "
                                 "writer took over while the catalog was unreachable. Nothing of it was made live; "
                                 "ingest again (stored copies are recognised).")
            for article_id in ids:
                self._retire(conn, article_id, keep_live_only=True)
            self._band(conn, "a.gen=%s AND a.state='pending'", (gen,))
            conn.execute("UPDATE articles SET state='ready' WHERE gen=%s AND state='pending'", (gen,))
            pg_keywords.insert(conn, self._bodies(conn, "p.gen=%s", (gen,)))
            pg_quotes.mark_if_complete(conn, gen)
            self._bump(conn)
            return [r[0] for r in conn.execute("SELECT vid FROM trash").fetchall()]

    def remove(self, article_ids: Sequence[str]) -> list[str]:
        with self._tx() as conn:
            for article_id in article_ids:
                dups = [r[0] for r in conn.execute(
                    "SELECT id FROM articles WHERE duplicate_of=%s AND state='ready'", (article_id,)).fetchall()]
                for i in [article_id, *dups]:
                    self._retire(conn, i, keep_live_only=False)
            self._bump(conn)
            return [r[0] for r in conn.execute("SELECT vid FROM trash").fetchall()]

    def discard_pending(self) -> list[str]:
        """Drop what a killed writer left staged; callers hold writer_lock, so nothing pending is anyone's."""
        with self._tx() as conn:
            conn.execute("INSERT INTO trash SELECT p.vid FROM passages p JOIN articles a ON a.id=p.article_id AND"
                         " a.gen=p.gen WHERE a.state='pending' ON CONFLICT DO NOTHING")
            for table in ("passages", "quotes"):
                conn.execute(f"DELETE FROM {table} t USING articles a WHERE a.id=t.article_id AND a.gen=t.gen"
                             " AND a.state='pending'")
            conn.execute("DELETE FROM articles WHERE state='pending'")
            return [r[0] for r in conn.execute("SELECT vid FROM trash").fetchall()]

    def put_quotes(self, quotes: Mapping[str, Sequence[Quote]]) -> None:
        with self._tx() as conn:
            pg_quotes.put(conn, quotes)

    def refresh_quotes(self, limit: int) -> int:
        with self._tx() as conn:
            return pg_quotes.refresh(conn, limit)

    def clear_trash(self, vids: Sequence[str]) -> None:
        if vids:
            with self._tx() as conn:
                conn.execute("DELETE FROM trash WHERE vid = ANY(%s)", (list(vids),))

    def rebuild_keywords(self) -> int:
        with self._tx() as conn:
            return pg_keywords.rebuild(conn, self._bodies_batches(conn))

    # -- steps -----------------------------------------------------------------------------------------------
    def _retire(self, conn, article_id: str, *, keep_live_only: bool) -> None:
        where = "id=%s AND state='ready'" if keep_live_only else "id=%s"
        versions = conn.execute(f"SELECT gen, state, signature, duplicate_of FROM articles WHERE {where}",
                                (article_id,)).fetchall()
        for gen, state, sig, duplicate_of in versions:
            if state == "ready":
                pg_keywords.delete(conn, [r[0] for r in conn.execute(
                    "SELECT rid FROM passages WHERE article_id=%s AND gen=%s", (article_id, gen)).fetchall()])
                if duplicate_of is None and sig is not None:
                    pairs = bands.keys(bytes(sig))
                    conn.execute("DELETE FROM signature_bands b USING unnest(%s::int[], %s::bigint[]) AS k(band, key)"
                                 " WHERE b.band=k.band AND b.key=k.key AND b.id=%s",
                                 ([p[0] for p in pairs], [p[1] for p in pairs], article_id))
            conn.execute("INSERT INTO trash SELECT vid FROM passages WHERE article_id=%s AND gen=%s"
                         " ON CONFLICT DO NOTHING", (article_id, gen))
            for table in ("passages", "quotes"):
                conn.execute(f"DELETE FROM {table} WHERE article_id=%s AND gen=%s", (article_id, gen))
            conn.execute("DELETE FROM articles WHERE id=%s AND gen=%s", (article_id, gen))

    def _band(self, conn, where: str, args: tuple) -> None:
        rows = conn.execute(f"SELECT a.id, a.signature FROM articles a WHERE {where} AND a.duplicate_of IS NULL"
                            " AND a.signature IS NOT NULL", args).fetchall()
        triples = [(band, key, article_id) for article_id, sig in rows for band, key in bands.keys(bytes(sig))]
        if triples:
            conn.execute("INSERT INTO signature_bands SELECT * FROM unnest(%s::int[], %s::bigint[], %s::text[])"
                         " ON CONFLICT DO NOTHING", tuple(map(list, zip(*triples))))

    def _bodies(self, conn, where: str, args: tuple, tail: str = "") -> list[tuple]:
        """(rid, title, text, outlet, day) of the passages of distinct articles matching `where`."""
        return conn.execute(
            f"SELECT p.rid, a.title, substr(a.text, p.start + 1, p.end - p.start), {OUTLET}, a.day FROM passages p"
            f" JOIN articles a ON a.id=p.article_id AND a.gen=p.gen WHERE {where} AND a.duplicate_of IS NULL{tail}",
            args).fetchall()

    def _bodies_batches(self, conn, batch: int = 2000) -> Iterator[list[tuple]]:
        last = -1
        while True:
            rows = self._bodies(conn, "a.state='ready' AND p.rid > %s", (last, batch), " ORDER BY p.rid LIMIT %s")
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    @staticmethod
    def _set(conn, key: str, value: str) -> None:
        conn.execute("INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                     (key, value))

    @staticmethod
    def _bump(conn) -> None:
        conn.execute("UPDATE meta SET value=(value::bigint + 1)::text WHERE key='version'")

    def close(self) -> None:
        self._pool.close()


class _AdvisoryLock:
    """The one-writer-at-a-time lock across machines: pg_advisory_lock on a connection of its own, held while
    the outermost `with` lasts, re-entrant within the process (threads take turns)."""

    def __init__(self, url: str, where: str) -> None:
        self.url, self.where = url, where
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._conn = None

    def __enter__(self) -> bool:
        self._thread_lock.acquire()
        first = self._depth == 0
        if first:
            import psycopg

            try:
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                self._conn.execute("SELECT pg_advisory_lock(%s)", (_WRITER_LOCK,))
            except psycopg.Error as exc:
                self._thread_lock.release()
                if self._conn is not None:
                    self._conn.close()
                raise StoreError(f"Could not take the writer lock in the catalog at {self.where} ({exc}): check "
                                 "that PostgreSQL is running, then write again.") from exc
        self._depth += 1
        return first

    def __exit__(self, *exc) -> bool:
        self._depth -= 1
        if self._depth == 0:
            try:
                self._conn.close()  # ends the session, which releases the lock
            finally:
                self._conn = None
                self._thread_lock.release()
        else:
            self._thread_lock.release()
        return False
