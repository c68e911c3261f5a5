"""Opening a catalog: create the schema, and bring a store written before generations up to it (once)."""

from __future__ import annotations

import sqlite3

from rag.index import bands, keywords, quote_store

__all__ = ["migrate"]

_ADDED_COLUMNS = ("updated_at", "date_source")  # TEXT columns added to articles after the first release

_OLD_COLUMNS = ("id, title, source, url, published_at, author, credited_source, ingested_at, content_hash, origin,"
                " text, state, duplicate_of, passage_count, signature")


def migrate(db: sqlite3.Connection, schema: str) -> None:
    """Create what is missing. A catalog from before generations (no `gen` column) is copied into the new tables
    as generation 0, whose vector ids are the passage ids it already used; then its keyword index is built."""
    db.execute("BEGIN IMMEDIATE")
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(articles)")]
        quote_store.upgrade(db)  # quotes of an older layout: dropped, derived again by the next ingest
        old = bool(cols) and "gen" not in cols
        if cols and not old:  # a catalog with generations, from before columns were added
            for name in _ADDED_COLUMNS:
                if name not in cols:
                    db.execute(f"ALTER TABLE articles ADD COLUMN {name} TEXT")
        if old:
            db.execute("CREATE TABLE IF NOT EXISTS passages (id TEXT PRIMARY KEY, article_id TEXT NOT NULL,"
                       " idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL)")
            db.execute("ALTER TABLE articles RENAME TO articles_v1")
            db.execute("ALTER TABLE passages RENAME TO passages_v1")
            for name in ("articles_hash", "articles_url", "articles_ready_newest", "passages_article"):
                db.execute(f"DROP INDEX IF EXISTS {name}")
        _script(db, schema)
        if old:
            copied = _OLD_COLUMNS + "".join(f", {c}" for c in _ADDED_COLUMNS if c in cols)
            db.execute(f"INSERT INTO articles ({copied}, gen, day) SELECT {copied}, 0,"
                       " COALESCE(CAST(julianday(substr(published_at, 1, 10)) - 2440587.5 AS INTEGER), -1)"
                       " FROM articles_v1 WHERE state='ready'")
            db.execute("INSERT INTO passages (vid, id, article_id, gen, idx, start, end) SELECT p.id, p.id,"
                       " p.article_id, 0, p.idx, p.start, p.end FROM passages_v1 p JOIN articles_v1 a ON"
                       " a.id=p.article_id WHERE a.state='ready'")
            db.execute("INSERT OR IGNORE INTO trash SELECT p.id FROM passages_v1 p JOIN articles_v1 a ON"
                       " a.id=p.article_id WHERE a.state<>'ready'")  # what a killed old ingest left pending
            db.execute("DROP TABLE articles_v1")
            db.execute("DROP TABLE passages_v1")
        built = db.execute("SELECT value FROM meta WHERE key='keywords'").fetchone()
        if not built or built[0] != keywords.ANALYZER:  # new, migrated, or indexed by another recipe
            if built:
                db.execute("DROP TABLE keywords")
                _script(db, keywords.SCHEMA)
            keywords.rebuild(db)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('keywords', ?)", (keywords.ANALYZER,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('keyword_side', ?)", (keywords.SIDE_TABLES,))
        side = db.execute("SELECT value FROM meta WHERE key='keyword_side'").fetchone()
        if not side or side[0] != keywords.SIDE_TABLES:  # indexed before the word and passage-count tables
            keywords.fill_side_tables(db)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('keyword_side', ?)", (keywords.SIDE_TABLES,))
        banded = db.execute("SELECT value FROM meta WHERE key='bands'").fetchone()
        if not banded or banded[0] != bands.RECIPE:  # a catalog from before the band table (or another recipe)
            bands.rebuild(db)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('bands', ?)", (bands.RECIPE,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run `;`-separated statements inside the caller's transaction (executescript would commit it)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)
