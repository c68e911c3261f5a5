"""The quote index inside the catalog: who each live article credits with which span (rag.quote_index).

Quotes are rows of the article version they were found in (`gen`): staged with it, made live by the same commit,
deleted when it is retired or replaced, so a reader never sees quotes of a removed or half-written article.
`norm` is the span folded for matching a question's loose quoting, `surname` the speaker's lookup key.
A store written before this layout (quotes without `gen`, `surname` or `norm`) has its quotes table dropped when
opened; the next ingest fills it again from the stored texts (`unindexed`, `put`). The index is stamped with the
extractor's version (rag.quote_index.EXTRACTOR_VERSION): a store indexed by another version has the quotes of its
live articles derived again from their stored texts when it is opened.
"""

from __future__ import annotations

import sqlite3
from typing import Mapping, Sequence

from ..quote_index import EXTRACTOR_VERSION, IndexedQuote, index_quotes, surname_key
from ..schema import Passage, Quote
from ..text import normalize, same_person

__all__ = ["SCHEMA", "COLUMNS", "rows_of", "upgrade", "indexed", "mark_if_complete", "unindexed_where", "put", "by_speaker",
           "by_description", "by_text", "passage_at"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS quotes (
  article_id TEXT NOT NULL, gen INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
  speaker TEXT, surname TEXT, description TEXT, kind TEXT NOT NULL, cue_start INTEGER, cue_end INTEGER,
  via_pronoun INTEGER NOT NULL, norm TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quotes_article ON quotes(article_id, gen);
CREATE INDEX IF NOT EXISTS quotes_surname ON quotes(surname);
"""
COLUMNS = ("article_id", "gen", "start", "end", "text", "speaker", "surname", "description", "kind", "cue_start",
           "cue_end", "via_pronoun", "norm")
INSERT = f"INSERT INTO quotes ({', '.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})"
_FLAG = "quotes_indexed"
_SELECT = ("SELECT q.article_id, q.start, q.end, q.speaker, q.description, q.kind, q.cue_start, q.cue_end,"
           " q.via_pronoun, a.text, a.title, a.source, a.published_at, a.url FROM quotes q CROSS JOIN articles a"
           " ON a.id=q.article_id AND a.gen=q.gen WHERE a.state='ready' AND a.duplicate_of IS NULL")
_NEWEST = " ORDER BY COALESCE(a.published_at,'') DESC, q.article_id, q.start"


def rows_of(article_id: str, gen: int, quotes: Sequence[Quote]) -> list[tuple]:
    return [(article_id, gen, q.start, q.end, q.text, q.speaker, surname_key(q.speaker), q.description, q.kind,
             q.cue_start, q.cue_end, int(q.via_pronoun), normalize(q.text)) for q in quotes]


def upgrade(db: sqlite3.Connection) -> None:
    """Inside the opening transaction, before the schema: drop a quotes table of an older layout (rebuilt from
    the texts by the next ingest, which the missing flag tells to)."""
    cols = {r[1] for r in db.execute("PRAGMA table_info(quotes)")}
    has_meta = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if cols and not set(COLUMNS) <= cols:
        db.execute("DROP TABLE quotes")
        if has_meta:
            db.execute("DELETE FROM meta WHERE key=?", (_FLAG,))
        return
    stamp = db.execute("SELECT value FROM meta WHERE key=?", (_FLAG,)).fetchone() if cols and has_meta else None
    if stamp and stamp[0] != EXTRACTOR_VERSION:  # indexed by another extractor: derive the live quotes again
        live = db.execute("SELECT id, gen, text FROM articles WHERE state='ready' AND duplicate_of IS NULL").fetchall()
        db.execute("DELETE FROM quotes WHERE (article_id, gen) IN (SELECT id, gen FROM articles WHERE state='ready')")
        for article_id, gen, text in live:
            db.executemany(INSERT, rows_of(article_id, gen, index_quotes(article_id, text)))
        db.execute("UPDATE meta SET value=? WHERE key=?", (EXTRACTOR_VERSION, _FLAG))


def indexed(db: sqlite3.Connection) -> bool:
    """Whether the quote index covers the live articles (False for a store whose quotes were never derived)."""
    if not db.execute("SELECT 1 FROM articles WHERE state='ready' LIMIT 1").fetchone():
        return True
    return db.execute("SELECT 1 FROM meta WHERE key=? AND value=?", (_FLAG, EXTRACTOR_VERSION)).fetchone() is not None


def mark_if_complete(db: sqlite3.Connection, gen: int) -> None:
    """At a commit: the first generation of an empty store is fully indexed (its quotes were staged with it)."""
    db.execute("INSERT OR IGNORE INTO meta SELECT ?, ? WHERE NOT EXISTS"
               " (SELECT 1 FROM articles WHERE state='ready' AND gen<>?)", (_FLAG, EXTRACTOR_VERSION, gen))


# Live, distinct articles with no quote rows for their live version (an older store being filled in).
unindexed_where = ("state='ready' AND duplicate_of IS NULL AND NOT EXISTS"
                   " (SELECT 1 FROM quotes q WHERE q.article_id=articles.id AND q.gen=articles.gen)")


def put(db: sqlite3.Connection, quotes: Mapping[str, Sequence[Quote]]) -> None:
    """Replace the live versions' quotes of these articles, and mark the index complete (one transaction, the
    caller's)."""
    for article_id, qs in quotes.items():
        row = db.execute("SELECT gen FROM articles WHERE id=? AND state='ready'", (article_id,)).fetchone()
        if row is None:
            continue
        db.execute("DELETE FROM quotes WHERE article_id=? AND gen=?", (article_id, row[0]))
        db.executemany(INSERT, rows_of(article_id, row[0], qs))
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_FLAG, EXTRACTOR_VERSION))


def by_speaker(db: sqlite3.Connection, name: str) -> list[IndexedQuote]:
    """Quotes whose speaker could be `name` ("Harris" finds "Kamala Harris"), newest first."""
    key = surname_key(name)
    if not key:
        return []
    rows = db.execute(_SELECT + " AND q.surname=?" + _NEWEST, (key,)).fetchall()
    return [q for q in map(_quote, rows) if same_person(q.quote.speaker, name)]


def by_description(db: sqlite3.Connection, words: Sequence[str]) -> list[IndexedQuote]:
    """Quotes whose speaker's description holds every one of `words` ("transport", "minister"), newest first."""
    return _holding_all(db, "LOWER(q.description)", [w.lower() for w in words])


def by_text(db: sqlite3.Connection, words: Sequence[str]) -> list[IndexedQuote]:
    """Quotes whose folded text holds every one of `words` (lower case); the caller ranks them."""
    return _holding_all(db, "q.norm", words)


def _holding_all(db: sqlite3.Connection, column: str, words: Sequence[str]) -> list[IndexedQuote]:
    """Live quotes whose `column` (an SQL expression of ours, never user text) contains every word, newest first."""
    if not words:
        return []
    clause = " AND ".join(f"{column} LIKE ?" for _ in words)
    rows = db.execute(_SELECT + f" AND {clause}" + _NEWEST, [f"%{w}%" for w in words]).fetchall()
    return [_quote(r) for r in rows]


def passage_at(db: sqlite3.Connection, article_id: str, start: int, end: int) -> Passage | None:
    """The passage of the live article that holds text[start:end] (the first that overlaps it most)."""
    rows = db.execute(
        "SELECT p.id, p.article_id, p.idx, p.start, p.end, a.text, a.title, COALESCE(a.source, a.credited_source),"
        " a.published_at, a.url, a.author FROM passages p CROSS JOIN articles a ON a.id=p.article_id AND"
        " a.gen=p.gen WHERE p.article_id=? AND a.state='ready' AND p.start<? AND p.end>? ORDER BY p.idx",
        (article_id, end, start)).fetchall()
    if not rows:
        return None
    r = max(rows, key=lambda r: min(end, r[4]) - max(start, r[3]))
    return Passage(r[0], r[1], r[2], r[3], r[4], r[5][r[3]:r[4]], r[6], r[7], r[8], r[9], r[10])


def _quote(r: tuple) -> IndexedQuote:
    q = Quote(article_id=r[0], start=r[1], end=r[2], text=r[9][r[1]:r[2]], speaker=r[3], description=r[4], kind=r[5],
              cue_start=r[6], cue_end=r[7], via_pronoun=bool(r[8]))
    return IndexedQuote(q, title=r[10], source=r[11], published_at=r[12], url=r[13])
