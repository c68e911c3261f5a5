"""The article catalog: one SQLite file under NEWSRAG_HOME that says which articles are stored and complete.

An article is written `pending` first, its vectors next, and only then marked `ready`; readers see ready
articles only, and `repair()` removes whatever a killed ingest left pending. The `version` counter moves on
every change, so the keyword index knows when to rebuild.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from .quote_index import IndexedQuote, surname_key
from .schema import Article, Passage, Quote
from .text import normalize, same_person

__all__ = ["Catalog", "ArticleRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, url TEXT, published_at TEXT, author TEXT,
  credited_source TEXT, ingested_at TEXT NOT NULL, content_hash TEXT NOT NULL, origin TEXT, text TEXT NOT NULL,
  state TEXT NOT NULL, duplicate_of TEXT, passage_count INTEGER NOT NULL DEFAULT 0, signature BLOB,
  updated_at TEXT, date_source TEXT
);
CREATE INDEX IF NOT EXISTS articles_hash ON articles(content_hash);
CREATE INDEX IF NOT EXISTS articles_url ON articles(url);
-- newest() and has_articles() run for every question: without it they scan every article's text (~40 ms at
-- 10k articles)
CREATE INDEX IF NOT EXISTS articles_ready_newest ON articles(published_at) WHERE state='ready';
CREATE TABLE IF NOT EXISTS passages (
  id TEXT PRIMARY KEY, article_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The quote index: who the article text credits with which span (offsets into articles.text); `norm` is the
-- span folded for matching a question's loose quoting, `surname` the speaker's lookup key (never stemmed).
CREATE TABLE IF NOT EXISTS quotes (
  article_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, speaker TEXT, surname TEXT,
  description TEXT, kind TEXT NOT NULL, cue_start INTEGER, cue_end INTEGER, via_pronoun INTEGER NOT NULL, norm TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quotes_article ON quotes(article_id);
CREATE INDEX IF NOT EXISTS quotes_surname ON quotes(surname);
"""
_QUOTE_COLS = ("SELECT q.article_id, q.start, q.end, q.speaker, q.description, q.kind, q.cue_start, q.cue_end,"
               " q.via_pronoun, a.text, a.title, a.source, a.published_at, a.url FROM quotes q JOIN articles a"
               " ON a.id=q.article_id WHERE a.state='ready' AND a.duplicate_of IS NULL")
# Columns added after the first release, in order: a store made before them gets them (NULL: not known;
# the next ingest of the same inputs fills them in, see ingest.pipeline._same).
_ADDED_COLUMNS = (("updated_at", "TEXT"), ("date_source", "TEXT"))
_COLUMNS = ("id, title, source, url, published_at, author, credited_source, ingested_at, content_hash, origin, text,"
            " state, duplicate_of, passage_count, signature, updated_at, date_source")
# A passage's outlet: the article's, or else the outlet it credits ("Source: TMZ" on a page of unknown outlet).
_OUTLET = "COALESCE(a.source, a.credited_source)"

# The order of article lists: newest first, undated last, then by title (articles() and listing() agree).
_NEWEST_FIRST = " ORDER BY COALESCE(published_at,'') DESC, title"

# Run for every question (tests check their query plans use indexes, not a scan of the articles' texts).
HAS_ARTICLES_SQL = "SELECT 1 FROM articles WHERE state='ready' LIMIT 1"
NEWEST_SQL = "SELECT MAX(published_at) FROM articles WHERE state='ready'"
PASSAGES_BY_ID_SQL = (  # CROSS JOIN pins passages (by primary key) as the outer loop: with an index on
    # articles(state, published_at), tried first, SQLite scanned every ready article instead (124 ms at 12k)
    "SELECT p.id, p.article_id, p.idx, p.start, p.end, a.text, a.title, " + _OUTLET + ", a.published_at, a.url,"
    " a.author FROM passages p CROSS JOIN articles a ON a.id=p.article_id WHERE p.id IN ({marks}) AND a.state='ready'")


@dataclass(frozen=True)
class ArticleRow:
    article: Article
    state: str
    duplicate_of: str | None
    passage_count: int


class Catalog:
    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "catalog.sqlite"
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        have = {r[1] for r in self._db.execute("PRAGMA table_info(articles)")}
        for name, kind in _ADDED_COLUMNS:
            if name not in have:
                self._db.execute(f"ALTER TABLE articles ADD COLUMN {name} {kind}")

    # -- reading ---------------------------------------------------------------------------------------------
    def version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        return int(row[0]) if row else 0

    def get(self, article_id: str) -> ArticleRow | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM articles WHERE id=?", (article_id,)).fetchone()
        return _row(self._db, row) if row else None

    def find(self, *, url: str | None = None, content_hash: str | None = None) -> ArticleRow | None:
        """A ready article with this url or this content."""
        for col, value in (("url", url), ("content_hash", content_hash)):
            if value:
                row = self._db.execute(
                    f"SELECT {_COLUMNS} FROM articles WHERE {col}=? AND state='ready' LIMIT 1", (value,)
                ).fetchone()
                if row:
                    return _row(self._db, row)
        return None

    def articles(self, *, include_duplicates: bool = True, limit: int | None = None) -> list[ArticleRow]:
        """Ready articles with their text, newest first (the first `limit` only, when given)."""
        sql = f"SELECT {_COLUMNS} FROM articles WHERE state='ready'"
        if not include_duplicates:
            sql += " AND duplicate_of IS NULL"
        sql += _NEWEST_FIRST
        rows = self._db.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ()).fetchall()
        return [_row(self._db, r) for r in rows]

    def listing(self) -> list[dict[str, str]]:
        """title, source, published_at, url and origin (the file or feed it came from) of every distinct ready
        article, newest first, without texts (the web's coverage table: ~10x faster than articles() at 10k)."""
        rows = self._db.execute(
            "SELECT title, COALESCE(source, credited_source), published_at, url, origin FROM articles"
            " WHERE state='ready' AND duplicate_of IS NULL"
            + _NEWEST_FIRST).fetchall()
        return [{"title": r[0], "source": r[1] or "", "published_at": r[2] or "", "url": r[3] or "",
                 "origin": r[4] or ""} for r in rows]

    def mentions_all(self, *words: str) -> bool:
        """Whether some distinct ready article's text contains every word (ASCII case-insensitive)."""
        if not words:
            return False
        clause = " AND ".join("text LIKE ?" for _ in words)
        return self._db.execute(
            f"SELECT 1 FROM articles WHERE state='ready' AND duplicate_of IS NULL AND {clause} LIMIT 1",
            [f"%{w}%" for w in words]).fetchone() is not None

    def duplicates_of(self, article_id: str) -> list[ArticleRow]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM articles WHERE duplicate_of=? AND state='ready'", (article_id,)
        ).fetchall()
        return [_row(self._db, r) for r in rows]

    def has_articles(self) -> bool:
        return self._db.execute(HAS_ARTICLES_SQL).fetchone() is not None

    def newest(self) -> str | None:
        """The newest publication date among stored articles (relative date words count back from it)."""
        row = self._db.execute(NEWEST_SQL).fetchone()
        return row[0] if row else None

    def pending_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM articles WHERE state='pending'")]

    def signatures(self) -> tuple[list[str], np.ndarray]:
        rows = self._db.execute(
            "SELECT id, signature FROM articles WHERE state='ready' AND duplicate_of IS NULL AND signature IS NOT NULL"
        ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.uint32)
        return [r[0] for r in rows], np.stack([np.frombuffer(r[1], dtype=np.uint32) for r in rows])

    def passages(self) -> list[Passage]:
        """Every passage of every ready, non-duplicate article, text cut from the article at its offsets."""
        rows = self._db.execute(
            "SELECT p.id, p.article_id, p.idx, p.start, p.end, a.text, a.title, " + _OUTLET + ", a.published_at,"
            " a.url, a.author FROM passages p JOIN articles a ON a.id=p.article_id"
            " WHERE a.state='ready' AND a.duplicate_of IS NULL ORDER BY p.article_id, p.idx"
        ).fetchall()
        return [Passage(r[0], r[1], r[2], r[3], r[4], r[5][r[3]:r[4]], r[6], r[7], r[8], r[9], r[10]) for r in rows]

    def passages_by_id(self, ids: Sequence[str]) -> dict[str, Passage]:
        out: dict[str, Passage] = {}
        for lo in range(0, len(ids), 500):
            chunk = list(ids[lo:lo + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(PASSAGES_BY_ID_SQL.format(marks=marks), chunk).fetchall()
            for r in rows:
                out[r[0]] = Passage(r[0], r[1], r[2], r[3], r[4], r[5][r[3]:r[4]], r[6], r[7], r[8], r[9], r[10])
        return out

    def stats(self) -> dict[str, object]:
        a = self._db.execute(
            "SELECT COUNT(*), MAX(published_at) FROM articles WHERE state='ready' AND duplicate_of IS NULL"
        ).fetchone()
        d = self._db.execute("SELECT COUNT(*) FROM articles WHERE state='ready' AND duplicate_of IS NOT NULL").fetchone()
        p = self._db.execute(
            "SELECT COUNT(*) FROM passages p JOIN articles a ON a.id=p.article_id WHERE a.state='ready'"
        ).fetchone()
        srcs = [r[0] for r in self._db.execute(
            "SELECT DISTINCT source FROM articles WHERE state='ready' AND source IS NOT NULL ORDER BY source")]
        return {"articles": a[0], "duplicates": d[0], "passages": p[0], "newest": a[1], "sources": srcs}

    # -- writing ---------------------------------------------------------------------------------------------
    def begin(self, items: Iterable[tuple[Article, Sequence[Passage], bytes | None]]) -> None:
        """Write articles as pending with their passage offsets, in one transaction."""
        with self._lock, self._tx():
            for art, passages, sig in items:
                self._put(art, "pending", None, len(passages), sig)
                self._db.execute("DELETE FROM passages WHERE article_id=?", (art.id,))
                self._db.executemany(
                    "INSERT INTO passages VALUES (?,?,?,?,?)",
                    [(p.id, p.article_id, p.index, p.start, p.end) for p in passages],
                )

    def mark_ready(self, ids: Sequence[str], quotes: Mapping[str, Sequence[Quote]] | None = None) -> None:
        """Make the articles readable, with their quotes (replacing any older ones) in the same transaction."""
        with self._lock, self._tx():
            for article_id, qs in (quotes or {}).items():
                self._put_quotes(article_id, qs)
            self._db.executemany("UPDATE articles SET state='ready' WHERE id=?", [(i,) for i in ids])
            if quotes is not None:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('quotes_indexed','1')")
            self._bump()

    # -- the quote index (a small set of methods, so another store can take them over) ----------------------
    def add_quotes(self, article_id: str, quotes: Sequence[Quote]) -> None:
        """Replace an article's quotes."""
        with self._lock, self._tx():
            self._put_quotes(article_id, quotes)

    def quotes_indexed(self) -> bool:
        """Whether the quote index covers the stored articles (False for a store made before it existed)."""
        if not self.has_articles():
            return True
        row = self._db.execute("SELECT value FROM meta WHERE key='quotes_indexed'").fetchone()
        return bool(row)

    def unindexed_articles(self) -> list[ArticleRow]:
        """Ready, distinct articles without a row in the quote index (for filling in an older store)."""
        rows = self._db.execute(
            "SELECT * FROM articles a WHERE state='ready' AND duplicate_of IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM quotes q WHERE q.article_id=a.id)").fetchall()
        return [_row(self._db, r) for r in rows]

    def mark_quotes_indexed(self) -> None:
        with self._lock, self._tx():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('quotes_indexed','1')")

    def quotes_by_speaker(self, name: str) -> list[IndexedQuote]:
        """Quotes whose speaker could be `name` ("Harris" finds "Kamala Harris"), newest first."""
        key = surname_key(name)
        if not key:
            return []
        rows = self._db.execute(_QUOTE_COLS + " AND q.surname=?" + _QUOTES_NEWEST, (key,)).fetchall()
        return [q for q in map(_quote, rows) if same_person(q.quote.speaker, name)]

    def quotes_by_description(self, words: Sequence[str]) -> list[IndexedQuote]:
        """Quotes whose speaker's description holds every one of `words` ("transport", "minister"), newest first."""
        if not words:
            return []
        clause = " AND ".join("LOWER(q.description) LIKE ?" for _ in words)
        rows = self._db.execute(_QUOTE_COLS + f" AND {clause}" + _QUOTES_NEWEST,
                                [f"%{w.lower()}%" for w in words]).fetchall()
        return [_quote(r) for r in rows]

    def find_quote_text(self, words: Sequence[str]) -> list[IndexedQuote]:
        """Quotes whose folded text holds every one of `words` (lower case); the caller ranks them."""
        if not words:
            return []
        clause = " AND ".join("q.norm LIKE ?" for _ in words)
        rows = self._db.execute(_QUOTE_COLS + f" AND {clause}" + _QUOTES_NEWEST,
                                [f"%{w}%" for w in words]).fetchall()
        return [_quote(r) for r in rows]

    def passage_at(self, article_id: str, start: int, end: int) -> Passage | None:
        """The passage of a ready article that holds text[start:end] (the first that overlaps it most)."""
        rows = self._db.execute(
            "SELECT p.id, p.article_id, p.idx, p.start, p.end, a.text, a.title, a.source, a.published_at, a.url,"
            " a.author FROM passages p JOIN articles a ON a.id=p.article_id WHERE p.article_id=? AND"
            " a.state='ready' AND p.start<? AND p.end>? ORDER BY p.idx", (article_id, end, start)).fetchall()
        if not rows:
            return None
        r = max(rows, key=lambda r: min(end, r[4]) - max(start, r[3]))
        return Passage(r[0], r[1], r[2], r[3], r[4], r[5][r[3]:r[4]], r[6], r[7], r[8], r[9], r[10])

    def _put_quotes(self, article_id: str, quotes: Sequence[Quote]) -> None:
        self._db.execute("DELETE FROM quotes WHERE article_id=?", (article_id,))
        self._db.executemany("INSERT INTO quotes VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
            (article_id, q.start, q.end, q.speaker, surname_key(q.speaker), q.description, q.kind, q.cue_start,
             q.cue_end, int(q.via_pronoun), normalize(q.text)) for q in quotes])

    def add_duplicate(self, article: Article, of_id: str) -> None:
        with self._lock, self._tx():
            self._put(article, "ready", of_id, 0, None)
            self._db.execute("DELETE FROM passages WHERE article_id=?", (article.id,))
            self._db.execute("DELETE FROM quotes WHERE article_id=?", (article.id,))
            self._bump()

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock, self._tx():
            for i in ids:
                self._db.execute("DELETE FROM passages WHERE article_id=?", (i,))
                self._db.execute("DELETE FROM quotes WHERE article_id=?", (i,))
                self._db.execute("DELETE FROM articles WHERE id=?", (i,))
            self._bump()

    def _put(self, a: Article, state: str, dup: str | None, n: int, sig: bytes | None) -> None:
        self._db.execute(
            f"INSERT OR REPLACE INTO articles ({_COLUMNS}) VALUES ({','.join('?' * 17)})",
            (a.id, a.title, a.source, a.url, a.published_at, a.author, a.credited_source, a.ingested_at,
             a.content_hash, a.origin, a.text, state, dup, n, sig, a.updated_at, a.date_source),
        )

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('version','1') ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER)+1"
        )

    def _tx(self):
        db = self._db

        class _Tx:
            def __enter__(self_inner):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, exc_type, exc, tb):
                db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    def close(self) -> None:
        self._db.close()


_QUOTES_NEWEST = " ORDER BY COALESCE(a.published_at,'') DESC, q.article_id, q.start"


def _quote(r: tuple) -> IndexedQuote:
    q = Quote(article_id=r[0], start=r[1], end=r[2], text=r[9][r[1]:r[2]], speaker=r[3], description=r[4], kind=r[5],
              cue_start=r[6], cue_end=r[7], via_pronoun=bool(r[8]))
    return IndexedQuote(q, title=r[10], source=r[11], published_at=r[12], url=r[13])


def _row(db: sqlite3.Connection, r: tuple) -> ArticleRow:
    art = Article(id=r[0], title=r[1], source=r[2], url=r[3], published_at=r[4], author=r[5], credited_source=r[6],
                  ingested_at=r[7], content_hash=r[8], origin=r[9] or "", text=r[10], updated_at=r[15],
                  date_source=r[16])
    return ArticleRow(art, r[11], r[12], r[13])
