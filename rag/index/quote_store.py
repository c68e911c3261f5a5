"""The quote index inside the catalog: who each live article credits with which span (rag.attribution.quote_index).

Quotes are rows of the article version they were found in (`gen`): staged with it, made live by the same commit,
deleted when it is retired or replaced, so a reader never sees quotes of a removed or half-written article.
`norm` is the span folded for matching a question's loose quoting, `surname` the speaker's lookup key.
A store written before this layout (quotes without `gen`, `surname` or `norm`) has its quotes table dropped when
opened. The index is stamped with the extractor's version (rag.attribution.quote_index.EXTRACTOR_VERSION): in a store indexed
by another version (or never), `refresh` derives the live articles' quotes again from their stored texts, a batch
per transaction, resuming where it stopped; the old quotes answer meanwhile. Ingest runs it for a few seconds
each time and the web server in the background until done (ingest/pipeline.py, rag/attribution/refresh.py).
"""

from __future__ import annotations

import sqlite3
from typing import Mapping, Sequence

from rag.attribution.quote_index import (
    EXTRACTOR_VERSION,
    IndexedQuote,
    index_quotes,
    surname_key,
)
from rag.core.schema import Passage, Quote
from rag.nlp.text import normalize, same_person

__all__ = ["SCHEMA", "COLUMNS", "rows_of", "stamp", "upgrade", "refresh", "remaining", "indexed", "mark_if_complete", "put", "by_speaker",
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
    the texts by `refresh`, which the missing flag tells to). Nothing is derived here: opening a store stays
    cheap however large it is, and a store stamped by another extractor keeps answering from its old quotes until
    `refresh` has replaced them."""
    cols = {r[1] for r in db.execute("PRAGMA table_info(quotes)")}
    has_meta = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if cols and not set(COLUMNS) <= cols:
        db.execute("DROP TABLE quotes")
        if has_meta:
            db.execute("DELETE FROM meta WHERE key IN (?, ?)", (_FLAG, _CURSOR))


_CURSOR = "quotes_cursor"  # "<extractor version>:<last articles rowid done>" while a refresh is part way


def refresh(db: sqlite3.Connection, limit: int) -> int:
    """Derive the quotes of the next `limit` live articles again with this extractor (one transaction, the
    caller's), past where the last call stopped; returns how many were done, 0 once the index is current (then
    stamped with this version). Articles written meanwhile already carry this extractor's quotes."""
    if indexed(db):
        return 0
    after = _done_up_to(db)
    rows = db.execute("SELECT rowid, id, gen, text FROM articles WHERE rowid > ? AND state='ready' AND"
                      " duplicate_of IS NULL ORDER BY rowid LIMIT ?", (after, limit)).fetchall()
    if not rows:
        _stamp(db)
        return 0
    for _, article_id, gen, text in rows:
        _replace(db, article_id, gen, index_quotes(article_id, text))
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_CURSOR, f"{EXTRACTOR_VERSION}:{rows[-1][0]}"))
    return len(rows)


def _done_up_to(db: sqlite3.Connection) -> int:
    """The articles rowid a refresh by this extractor has reached (-1: not begun)."""
    row = db.execute("SELECT value FROM meta WHERE key=?", (_CURSOR,)).fetchone()
    version, _, last = (row[0] if row else "").partition(":")
    return int(last) if version == EXTRACTOR_VERSION and last.isdigit() else -1


def _replace(db: sqlite3.Connection, article_id: str, gen: int, quotes: Sequence[Quote]) -> None:
    """An article version's quotes, replaced."""
    db.execute("DELETE FROM quotes WHERE article_id=? AND gen=?", (article_id, gen))
    db.executemany(INSERT, rows_of(article_id, gen, quotes))


def _stamp(db: sqlite3.Connection) -> None:
    """Mark the index derived by this extractor, any refresh finished."""
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_FLAG, EXTRACTOR_VERSION))
    db.execute("DELETE FROM meta WHERE key=?", (_CURSOR,))


def stamp(db: sqlite3.Connection, current: bool) -> None:
    """Mark the index current (as `_stamp`), or not (a copy of a catalog whose refresh is under way)."""
    if current:
        _stamp(db)
    else:
        db.execute("DELETE FROM meta WHERE key=?", (_FLAG,))


def remaining(db: sqlite3.Connection) -> int:
    """Live articles a refresh has still to reach (0 when the index is current)."""
    if indexed(db):
        return 0
    after = _done_up_to(db)
    return db.execute("SELECT COUNT(*) FROM articles WHERE rowid > ? AND state='ready' AND duplicate_of IS NULL",
                      (after,)).fetchone()[0]


def indexed(db: sqlite3.Connection) -> bool:
    """Whether the quote index covers the live articles (False for a store whose quotes were never derived)."""
    if not db.execute("SELECT 1 FROM articles WHERE state='ready' LIMIT 1").fetchone():
        return True
    return db.execute("SELECT 1 FROM meta WHERE key=? AND value=?", (_FLAG, EXTRACTOR_VERSION)).fetchone() is not None


def mark_if_complete(db: sqlite3.Connection, gen: int) -> None:
    """At a commit: the first generation of an empty store is fully indexed (its quotes were staged with it)."""
    db.execute("INSERT OR IGNORE INTO meta SELECT ?, ? WHERE NOT EXISTS"
               " (SELECT 1 FROM articles WHERE state='ready' AND gen<>?)", (_FLAG, EXTRACTOR_VERSION, gen))


def put(db: sqlite3.Connection, quotes: Mapping[str, Sequence[Quote]]) -> None:
    """Replace the live versions' quotes of these articles and stamp the index current (one transaction, the
    caller's): for a caller that knows the other articles carry no quotes (the scale benchmark's synthetic ones)."""
    for article_id, qs in quotes.items():
        row = db.execute("SELECT gen FROM articles WHERE id=? AND state='ready'", (article_id,)).fetchone()
        if row is not None:
            _replace(db, article_id, row[0], qs)
    _stamp(db)


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
