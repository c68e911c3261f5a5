"""The catalog: one SQLite file under NEWSRAG_HOME with every article version, its passages, quotes and keywords.

Each write makes a new *generation* of the articles it touches. Rows of a generation are written `pending`
beside the live version; `commit()` retires the old version and makes the new one `ready` in one transaction,
which is also the one that moves the keyword index, so a reader sees the old version or the new one, whole.
What a retired or abandoned version had in the vector store is listed in `trash` in that same transaction and
deleted from the vector store afterwards; until then the vectors are invisible, because readers resolve every
vector id through `passages` of a live article.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np

from rag.attribution.quote_index import IndexedQuote
from rag.core.schema import Article, Passage, Quote
from rag.index import bands, keywords, quote_store
from rag.index.migrate import migrate

__all__ = ["SqliteCatalog", "CatalogReads", "ArticleRow", "Staged", "day_number", "vector_id"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
  id TEXT NOT NULL, gen INTEGER NOT NULL, title TEXT NOT NULL, source TEXT, url TEXT, published_at TEXT,
  author TEXT, credited_source TEXT, ingested_at TEXT NOT NULL, content_hash TEXT NOT NULL, origin TEXT,
  text TEXT NOT NULL, state TEXT NOT NULL, duplicate_of TEXT, passage_count INTEGER NOT NULL DEFAULT 0,
  signature BLOB, day INTEGER NOT NULL DEFAULT -1, updated_at TEXT, date_source TEXT, PRIMARY KEY (id, gen)
);
CREATE UNIQUE INDEX IF NOT EXISTS articles_live ON articles(id) WHERE state='ready';
CREATE INDEX IF NOT EXISTS articles_hash ON articles(content_hash);
CREATE INDEX IF NOT EXISTS articles_url ON articles(url);
CREATE INDEX IF NOT EXISTS articles_duplicate ON articles(duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX IF NOT EXISTS articles_pending ON articles(gen) WHERE state='pending';
-- newest() and has_articles() run for every question: without it they scan every article's text
CREATE INDEX IF NOT EXISTS articles_ready_newest ON articles(published_at) WHERE state='ready';
-- the outlets a question may name (rag/answer/refusal.py): without it every such question read every article (1.4 s at 1M)
CREATE INDEX IF NOT EXISTS articles_ready_source ON articles(source) WHERE state='ready';
CREATE TABLE IF NOT EXISTS passages (
  rid INTEGER PRIMARY KEY, vid TEXT NOT NULL UNIQUE, id TEXT NOT NULL, article_id TEXT NOT NULL,
  gen INTEGER NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id, gen);
CREATE INDEX IF NOT EXISTS passages_id ON passages(id);
-- commit() reads a generation's passages: without it each commit scans every passage (seconds at 1M)
CREATE INDEX IF NOT EXISTS passages_gen ON passages(gen);
CREATE TABLE IF NOT EXISTS trash (vid TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- each web user's earlier chats (rag/frontends/web/conversations.py): one JSON document per hashed login name
CREATE TABLE IF NOT EXISTS conversations (user_key TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at REAL NOT NULL);
-- what every replica shares besides coverage, one JSON document a name (the web page's watched feeds)
CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at REAL NOT NULL);
""" + quote_store.SCHEMA + keywords.SCHEMA + bands.SCHEMA

_NEWEST_FIRST = " ORDER BY COALESCE(published_at,'') DESC, title"  # articles() and listing() agree
_COLS = ("id, title, source, url, published_at, author, credited_source, ingested_at, content_hash, origin, text,"
         " state, duplicate_of, passage_count, gen, updated_at, date_source")
# A passage's outlet: the article's, or else the outlet it credits ("Source: TMZ" on a page of unknown outlet).
OUTLET = "COALESCE(a.source, a.credited_source)"

# Run for every question (tests check their query plans use indexes, not a scan of the articles' texts).
HAS_ARTICLES_SQL = "SELECT 1 FROM articles WHERE state='ready' LIMIT 1"
NEWEST_SQL = "SELECT MAX(published_at) FROM articles WHERE state='ready'"
PASSAGES_BY_ID_SQL = (  # passages (by their index) as the outer loop, then the live article by primary key
    "SELECT p.id, p.article_id, p.idx, p.start, p.end, a.text, a.title, " + OUTLET + ", a.published_at, a.url,"
    " a.author FROM passages p CROSS JOIN articles a ON a.id=p.article_id AND a.gen=p.gen"
    " WHERE p.id IN ({marks}) AND a.state='ready'")
LIVE_VIDS_SQL = ("SELECT p.vid, p.id FROM passages p CROSS JOIN articles a ON a.id=p.article_id AND a.gen=p.gen"
                 " WHERE p.vid IN ({marks}) AND a.state='ready'")


@dataclass(frozen=True)
class ArticleRow:
    article: Article
    state: str
    duplicate_of: str | None
    passage_count: int
    gen: int = 0


@dataclass
class Staged:
    """One article version to write: its passages and quotes, or `duplicate_of` (then no passages)."""

    article: Article
    passages: Sequence[Passage] = ()
    signature: bytes | None = None
    duplicate_of: str | None = None
    quotes: Sequence[Quote] = field(default_factory=tuple)


def vector_id(passage_id: str, gen: int) -> str:
    """The vector store's id of a passage version (generation 0: stores written before generations)."""
    return passage_id if gen == 0 else f"{passage_id}@{gen}"


def day_number(iso: str | None) -> int:
    """Days since 1970-01-01 for date-range filters; -1 when the date is unknown."""
    if not iso:
        return -1
    try:
        return date.fromisoformat(iso[:10]).toordinal() - date(1970, 1, 1).toordinal()
    except ValueError:
        return -1


class CatalogReads:
    """The reads both catalogs (this one and rag/index/pg/catalog.py) answer with the same SQL; only the
    placeholder differs (`_P`: "?" for SQLite, "%s" for psycopg). A catalog gives `_one`, `_all` and
    `iter_passages`."""

    _P = "?"

    def get(self, article_id: str) -> ArticleRow | None:
        row = self._one(f"SELECT {_COLS} FROM articles WHERE id={self._P} AND state='ready'", (article_id,))
        return _row(row) if row else None

    def find(self, *, url: str | None = None, content_hash: str | None = None) -> ArticleRow | None:
        """A live article with this url or this content."""
        for col, value in (("url", url), ("content_hash", content_hash)):
            if value:
                row = self._one(f"SELECT {_COLS} FROM articles WHERE {col}={self._P} AND state='ready' LIMIT 1", (value,))
                if row:
                    return _row(row)
        return None

    def articles(self, *, include_duplicates: bool = True, limit: int | None = None) -> list[ArticleRow]:
        """Live articles with their text, newest first (the first `limit` only, when given)."""
        sql = f"SELECT {_COLS} FROM articles WHERE state='ready'"
        if not include_duplicates:
            sql += " AND duplicate_of IS NULL"
        sql += _NEWEST_FIRST
        return [_row(r) for r in self._all(sql + (f" LIMIT {self._P}" if limit else ""), (limit,) if limit else ())]

    def article_ids(self) -> list[str]:
        """The ids of every distinct live article, without reading their texts."""
        return [r[0] for r in self._all("SELECT id FROM articles WHERE state='ready' AND duplicate_of IS NULL")]

    def passage_ids(self, article_id: str) -> list[str]:
        """The passage ids of an article's live version, in text order."""
        return [r[0] for r in self._all(
            "SELECT p.id FROM passages p JOIN articles a ON a.id=p.article_id AND a.gen=p.gen WHERE a.id="
            f"{self._P}"
            " AND a.state='ready' ORDER BY p.idx", (article_id,))]

    def duplicates_of(self, article_id: str) -> list[ArticleRow]:
        return [_row(r) for r in self._all(
            f"SELECT {_COLS} FROM articles WHERE duplicate_of={self._P} AND state='ready'", (article_id,))]

    def passages(self) -> list[Passage]:
        """Every passage of every live, distinct article, text cut from the article at its offsets."""
        return [p for batch in self.iter_passages() for p in batch]

    def sources(self) -> list[str]:
        """The outlets of the live articles, sorted."""
        return [r[0] for r in self._all(
            "SELECT DISTINCT source FROM articles WHERE state='ready' AND source IS NOT NULL ORDER BY source")]

    def trash_count(self) -> int:
        return self._one("SELECT COUNT(*) FROM trash")[0]

    def trash(self) -> list[str]:
        return [r[0] for r in self._all("SELECT vid FROM trash")]

    def pending_ids(self) -> list[str]:
        return [r[0] for r in self._all("SELECT id FROM articles WHERE state='pending'")]

    def conversations_get(self, user_key: str) -> str | None:
        """One web user's earlier chats, as the JSON document `conversations_put` stored (None: none yet)."""
        row = self._one(f"SELECT data FROM conversations WHERE user_key={self._P}", (user_key,))
        return row[0] if row else None

    def document(self, name: str) -> str | None:
        """A shared document (JSON text) by name; None when there is none yet."""
        row = self._one(f"SELECT data FROM documents WHERE name={self._P}", (name,))
        return row[0] if row else None


class SqliteCatalog(CatalogReads):
    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "catalog.sqlite"
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            migrate(self._db, _SCHEMA)
        # Keyword searches read on connections of their own, one per thread (WAL lets readers run side by side):
        # on the shared one a search held the lock its whole length and the dense search's lookups waited on it.
        self._readers = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []

    # -- reading ---------------------------------------------------------------------------------------------
    def version(self) -> int:
        """Moves on every committed change, in any process."""
        row = self._db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        return int(row[0]) if row else 0

    def data_version(self) -> int:
        """SQLite's cheap per-connection counter: changes when another connection commits."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def listing(self) -> list[dict[str, str]]:
        """title, source, published_at, url, origin (the file or feed it came from) and id of every distinct live
        article, newest first, without texts."""
        rows = self._all("SELECT title, COALESCE(source, credited_source), published_at, url, origin, id FROM articles"
                         " WHERE state='ready' AND duplicate_of IS NULL" + _NEWEST_FIRST)
        return [{"title": r[0], "source": r[1] or "", "published_at": r[2] or "", "url": r[3] or "",
                 "origin": r[4] or "", "id": r[5]} for r in rows]

    def mentions_all(self, *words: str) -> bool:
        """Whether some distinct live article's text contains every word (ASCII case-insensitive)."""
        if not words:
            return False
        clause = " AND ".join("text LIKE ?" for _ in words)
        return self._one(f"SELECT 1 FROM articles WHERE state='ready' AND duplicate_of IS NULL AND {clause} LIMIT 1",
                         [f"%{w}%" for w in words]) is not None

    def has_articles(self) -> bool:
        return self._one(HAS_ARTICLES_SQL) is not None

    def newest(self) -> str | None:
        """The newest publication date among stored articles (relative date words count back from it)."""
        row = self._one(NEWEST_SQL)
        return row[0] if row else None

    def near_candidates(self, signature: np.ndarray) -> tuple[list[str], np.ndarray]:
        """(ids, signatures) of the live, distinct articles sharing a MinHash band with this signature."""
        with self._lock:
            return bands.candidates(self._db, signature)

    def signatures(self) -> tuple[list[str], np.ndarray]:
        rows = self._all("SELECT id, signature FROM articles WHERE state='ready' AND duplicate_of IS NULL"
                         " AND signature IS NOT NULL")
        if not rows:
            return [], np.zeros((0, 0), dtype=np.uint32)
        return [r[0] for r in rows], np.stack([np.frombuffer(r[1], dtype=np.uint32) for r in rows])

    def signatures_of(self, ids: Sequence[str]) -> dict[str, bytes]:
        """The MinHash signatures of these live articles (those that have one)."""
        out: dict[str, bytes] = {}
        for lo in range(0, len(ids), 500):
            chunk = list(ids[lo:lo + 500])
            out.update((r[0], bytes(r[1])) for r in self._all(
                f"SELECT id, signature FROM articles WHERE id IN ({','.join('?' * len(chunk))}) AND state='ready'"
                " AND signature IS NOT NULL", chunk))
        return out

    def iter_passages(self, batch: int = 2000) -> Iterator[list[Passage]]:
        """The same, in batches of live passages ordered by article and index (bounded memory)."""
        last = ("", -1)
        while True:
            rows = self._all(
                "SELECT p.id, p.article_id, p.idx, p.start, p.end, a.text, a.title, " + OUTLET + ", a.published_at,"
                " a.url, a.author FROM passages p JOIN articles a ON a.id=p.article_id AND a.gen=p.gen"
                " WHERE a.state='ready' AND a.duplicate_of IS NULL AND (p.article_id, p.idx) > (?, ?)"
                " ORDER BY p.article_id, p.idx LIMIT ?", (*last, batch))
            if not rows:
                return
            yield [_passage(r) for r in rows]
            last = (rows[-1][1], rows[-1][2])

    def passages_by_id(self, ids: Sequence[str]) -> dict[str, Passage]:
        out: dict[str, Passage] = {}
        for lo in range(0, len(ids), 500):
            chunk = list(ids[lo:lo + 500])
            for r in self._all(PASSAGES_BY_ID_SQL.format(marks=",".join("?" * len(chunk))), chunk):
                out[r[0]] = _passage(r)
        return out

    def live_vids(self, vids: Sequence[str]) -> dict[str, str]:
        """vector id -> passage id, for the vector ids that belong to a live article version."""
        if not vids:
            return {}
        return dict(self._all(LIVE_VIDS_SQL.format(marks=",".join("?" * len(vids))), list(vids)))

    def vids_of(self, passage_ids: Sequence[str]) -> dict[str, str]:
        """passage id -> vector id of its live version."""
        if not passage_ids:
            return {}
        rows = self._all("SELECT p.id, p.vid FROM passages p CROSS JOIN articles a ON a.id=p.article_id AND"
                         f" a.gen=p.gen WHERE p.id IN ({','.join('?' * len(passage_ids))}) AND a.state='ready'",
                         list(passage_ids))
        return dict(rows)

    def quotes(self, article_id: str) -> list[Quote]:
        """The quotes stored with the live version of an article, in text order."""
        rows = self._all("SELECT q.article_id, q.start, q.end, q.text, q.speaker, q.description, q.kind, q.cue_start,"
                         " q.cue_end, q.via_pronoun FROM quotes q JOIN articles a ON a.id=q.article_id AND"
                         " a.gen=q.gen WHERE q.article_id=? AND a.state='ready' ORDER BY q.start", (article_id,))
        return [Quote(*r[:9], via_pronoun=bool(r[9])) for r in rows]

    # the quote index (rag/index/quote_store.py): who-said-what reads, and filling in an older store
    def quotes_indexed(self) -> bool:
        with self._lock:
            return quote_store.indexed(self._db)

    def quotes_remaining(self) -> int:
        """Live articles whose quotes a refresh has still to derive with this extractor (0: current)."""
        with self._lock:
            return quote_store.remaining(self._db)

    def quotes_by_speaker(self, name: str) -> list[IndexedQuote]:
        with self._lock:
            return quote_store.by_speaker(self._db, name)

    def quotes_by_description(self, words: Sequence[str]) -> list[IndexedQuote]:
        with self._lock:
            return quote_store.by_description(self._db, words)

    def find_quote_text(self, words: Sequence[str]) -> list[IndexedQuote]:
        with self._lock:
            return quote_store.by_text(self._db, words)

    def passage_at(self, article_id: str, start: int, end: int) -> Passage | None:
        with self._lock:
            return quote_store.passage_at(self._db, article_id, start, end)

    def stats(self) -> dict[str, object]:
        a = self._one("SELECT COUNT(*), MAX(published_at), COALESCE(SUM(passage_count), 0) FROM articles"
                      " WHERE state='ready' AND duplicate_of IS NULL")
        d = self._one("SELECT COUNT(*) FROM articles WHERE state='ready' AND duplicate_of IS NOT NULL")
        srcs = [r[0] for r in self._all(
            "SELECT DISTINCT source FROM articles WHERE state='ready' AND source IS NOT NULL ORDER BY source")]
        return {"articles": a[0], "duplicates": d[0], "passages": a[2], "newest": a[1], "sources": srcs}

    def keyword_search(self, query: str, k: int, **filters) -> list[tuple[str, float]]:
        """(passage id, bm25 score) of the k best live passages for the query."""
        db = self._reader()
        hits = keywords.search(db, query, k, **filters)
        rids = [rid for rid, _ in hits]  # keyword row id -> passage id
        ids = dict(db.execute(f"SELECT rid, id FROM passages WHERE rid IN ({','.join('?' * len(rids))})",
                              rids).fetchall()) if rids else {}
        return [(ids[rid], score) for rid, score in hits if rid in ids]

    def _reader(self) -> sqlite3.Connection:
        db = getattr(self._readers, "db", None)
        if db is None:
            db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA query_only=ON")
            self._readers.db = db
            with self._lock:
                self._reader_conns.append(db)
        return db

    # -- writing (callers hold the index's writer lock) ------------------------------------------------------
    def stage(self, items: Sequence[Staged]) -> int:
        """Write new versions as `pending` beside the live ones, in one transaction; returns their generation."""
        with self._tx():
            gen = self._next_gen()
            for s in items:
                a = s.article
                self._db.execute(
                    f"INSERT INTO articles ({_COLS}, signature, day) VALUES ({','.join('?' * 19)})",
                    (a.id, a.title, a.source, a.url, a.published_at, a.author, a.credited_source, a.ingested_at,
                     a.content_hash, a.origin, a.text, "pending", s.duplicate_of, len(s.passages), gen,
                     a.updated_at, a.date_source, s.signature, day_number(a.published_at)))
                self._db.executemany("INSERT INTO passages (vid, id, article_id, gen, idx, start, end)"
                                     " VALUES (?,?,?,?,?,?,?)",
                                     [(vector_id(p.id, gen), p.id, a.id, gen, p.index, p.start, p.end)
                                      for p in s.passages])
                self._db.executemany(quote_store.INSERT, quote_store.rows_of(a.id, gen, s.quotes))
        return gen

    def commit(self, gen: int) -> list[str]:
        """Make generation `gen` live in one transaction: each article's old version is retired (its vector ids
        go to trash), its keywords swapped. Returns the trash (vector ids to delete from the vector store)."""
        with self._tx():
            ids = [r[0] for r in self._db.execute("SELECT id FROM articles WHERE gen=? AND state='pending'", (gen,))]
            for article_id in ids:
                self._retire(article_id, "ready")
            bands.insert_where(self._db, "a.gen=? AND a.state='pending'", (gen,))
            self._db.execute("UPDATE articles SET state='ready' WHERE gen=? AND state='pending'", (gen,))
            keywords.insert(self._db, self._bodies("p.gen=?", (gen,)))
            quote_store.mark_if_complete(self._db, gen)
            self._bump()
        return self.trash()

    def remove(self, article_ids: Sequence[str]) -> list[str]:
        """Remove articles (every version) and their duplicates in one transaction; returns the trash."""
        with self._tx():
            for article_id in article_ids:
                dups = [r[0] for r in self._db.execute(
                    "SELECT id FROM articles WHERE duplicate_of=? AND state='ready'", (article_id,))]
                for i in [article_id, *dups]:
                    self._retire(i, None)
            self._bump()
        return self.trash()

    def discard_pending(self) -> list[str]:
        """Drop what a killed writer left staged (never visible); returns the trash. Writers are serialised by the
        index's lock, so whatever is pending while the lock is held belongs to no running writer."""
        with self._tx():
            self._trash_where("p.gen IN (SELECT gen FROM articles WHERE state='pending')", ())
            for table in ("passages", "quotes"):
                self._db.execute(f"DELETE FROM {table} WHERE (article_id, gen) IN"
                                 " (SELECT id, gen FROM articles WHERE state='pending')")
            self._db.execute("DELETE FROM articles WHERE state='pending'")
        return self.trash()

    def put_quotes(self, quotes: Mapping[str, Sequence[Quote]]) -> None:
        """Replace these live articles' quotes and stamp the index current (quote_store.put)."""
        with self._tx():
            quote_store.put(self._db, quotes)

    def refresh_quotes(self, limit: int) -> int:
        """Derive the next `limit` live articles' quotes with this extractor, in one transaction; 0 when current."""
        with self._tx():
            return quote_store.refresh(self._db, limit)

    def clear_trash(self, vids: Sequence[str]) -> None:
        with self._tx():
            self._db.executemany("DELETE FROM trash WHERE vid=?", [(v,) for v in vids])

    def rebuild_keywords(self) -> int:
        """Index every live passage's keywords from nothing (a damaged or migrated keyword table)."""
        with self._tx():
            return keywords.rebuild(self._db)

    # -- steps -----------------------------------------------------------------------------------------------
    def _retire(self, article_id: str, keep_state: str | None) -> None:
        """Delete an article's live version (and, with keep_state None, every version)."""
        where = "a.id=? AND a.state='ready'" if keep_state else "a.id=?"
        versions = self._db.execute(f"SELECT gen, state, signature, duplicate_of FROM articles a WHERE {where}",
                                    (article_id,)).fetchall()
        for gen, state, sig, duplicate_of in versions:
            if state == "ready":  # only a live version is in the keyword index (deleting others would damage it)
                keywords.delete(self._db, [r[0] for r in self._db.execute(
                    "SELECT rid FROM passages WHERE article_id=? AND gen=?", (article_id, gen))])
                if duplicate_of is None:
                    bands.delete(self._db, article_id, sig)
            self._trash_where("p.article_id=? AND p.gen=?", (article_id, gen))
            for table in ("passages", "quotes"):
                self._db.execute(f"DELETE FROM {table} WHERE article_id=? AND gen=?", (article_id, gen))
            self._db.execute("DELETE FROM articles WHERE id=? AND gen=?", (article_id, gen))

    def _bodies(self, where: str, args: tuple) -> list[tuple[int, str]]:
        rows = self._db.execute(
            "SELECT p.rid, a.title, substr(a.text, p.start + 1, p.end - p.start) FROM passages p JOIN articles a"
            f" ON a.id=p.article_id AND a.gen=p.gen WHERE {where} AND a.duplicate_of IS NULL", args).fetchall()
        return [(r[0], keywords.body(r[1], r[2])) for r in rows]

    def _trash_where(self, where: str, args: tuple) -> None:
        self._db.execute(f"INSERT OR IGNORE INTO trash SELECT p.vid FROM passages p WHERE {where}", args)

    def _next_gen(self) -> int:
        self._db.execute("INSERT INTO meta VALUES ('gen','1') ON CONFLICT(key) DO UPDATE"
                         " SET value=CAST(value AS INTEGER)+1")
        return int(self._db.execute("SELECT value FROM meta WHERE key='gen'").fetchone()[0])

    def _bump(self) -> None:
        self._db.execute("INSERT INTO meta VALUES ('version','1') ON CONFLICT(key) DO UPDATE"
                         " SET value=CAST(value AS INTEGER)+1")

    def document_update(self, name: str, change):
        """Read, change and write a shared document in one transaction (no other writer between):
        `change(text or None) -> (new text or None to leave it, result)`; returns the result."""
        with self._tx():
            row = self._db.execute("SELECT data FROM documents WHERE name=?", (name,)).fetchone()
            text, result = change(row[0] if row else None)
            if text is not None:
                self._db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", (name, text, time.time()))
        return result

    def conversations_put(self, user_key: str, data: str) -> None:
        with self._tx():
            self._db.execute("INSERT OR REPLACE INTO conversations VALUES (?, ?, ?)", (user_key, data, time.time()))

    def _one(self, sql: str, args: Sequence = ()) -> tuple | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _tx(self):
        db, lock = self._db, self._lock

        class _Tx:
            def __enter__(self_inner):
                lock.acquire()
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, exc_type, exc, tb):
                try:
                    db.execute("ROLLBACK" if exc_type else "COMMIT")
                finally:
                    lock.release()
                return False

        return _Tx()

    def close(self) -> None:
        with self._lock:
            for db in self._reader_conns:
                db.close()
            self._reader_conns.clear()
        self._readers = threading.local()
        self._db.close()


def _row(r: tuple) -> ArticleRow:
    art = Article(id=r[0], title=r[1], source=r[2], url=r[3], published_at=r[4], author=r[5], credited_source=r[6],
                  ingested_at=r[7], content_hash=r[8], origin=r[9] or "", text=r[10], updated_at=r[15],
                  date_source=r[16])
    return ArticleRow(art, r[11], r[12], r[13], r[14])


def _passage(r: tuple) -> Passage:
    return Passage(r[0], r[1], r[2], r[3], r[4], r[5][r[3]:r[4]], r[6], r[7], r[8], r[9], r[10])
