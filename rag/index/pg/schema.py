"""The PostgreSQL catalog's schema, as numbered steps applied in place and recorded in `schema_version`.

A catalog is brought up to the newest step when any process opens it; concurrent openers take turns on an
advisory lock, so each step runs once. Steps are never edited once released: a change is a new step. Besides
the steps, a catalog indexed by another keyword recipe (keywords.ANALYZER) or band recipe (bands.RECIPE) is
indexed again when opened, as the SQLite catalog does.
"""

from __future__ import annotations

__all__ = ["STEPS", "LATEST", "migrate"]

_LOCK = 7_420_251  # pg_advisory_xact_lock key: one migration at a time

# (version, statements). The columns mirror the SQLite catalog's (sqlite_catalog._SCHEMA); `seq` orders articles
# the way SQLite's rowid does (the quote refresh walks it), "end" is quoted (a reserved word here).
STEPS: list[tuple[int, str]] = [
    (1, """
CREATE TABLE articles (
  id TEXT NOT NULL, gen BIGINT NOT NULL, title TEXT NOT NULL, source TEXT, url TEXT, published_at TEXT,
  author TEXT, credited_source TEXT, ingested_at TEXT NOT NULL, content_hash TEXT NOT NULL, origin TEXT,
  text TEXT NOT NULL, state TEXT NOT NULL, duplicate_of TEXT, passage_count INTEGER NOT NULL DEFAULT 0,
  signature BYTEA, day INTEGER NOT NULL DEFAULT -1, updated_at TEXT, date_source TEXT, seq BIGSERIAL NOT NULL,
  PRIMARY KEY (id, gen));
CREATE UNIQUE INDEX articles_live ON articles(id) WHERE state='ready';
CREATE INDEX articles_hash ON articles(content_hash);
CREATE INDEX articles_url ON articles(url);
CREATE INDEX articles_duplicate ON articles(duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX articles_pending ON articles(gen) WHERE state='pending';
CREATE INDEX articles_ready_newest ON articles(published_at) WHERE state='ready';
CREATE INDEX articles_ready_source ON articles(source) WHERE state='ready';
CREATE INDEX articles_seq ON articles(seq);
CREATE TABLE passages (
  rid BIGSERIAL PRIMARY KEY, vid TEXT NOT NULL UNIQUE, id TEXT NOT NULL, article_id TEXT NOT NULL,
  gen BIGINT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX passages_article ON passages(article_id, gen);
CREATE INDEX passages_id ON passages(id);
CREATE INDEX passages_gen ON passages(gen);
CREATE TABLE trash (vid TEXT PRIMARY KEY);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('version', '0');
CREATE SEQUENCE generations;
CREATE TABLE quotes (
  article_id TEXT NOT NULL, gen BIGINT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
  speaker TEXT, surname TEXT, description TEXT, kind TEXT NOT NULL, cue_start INTEGER, cue_end INTEGER,
  via_pronoun INTEGER NOT NULL, norm TEXT NOT NULL);
CREATE INDEX quotes_article ON quotes(article_id, gen);
CREATE INDEX quotes_surname ON quotes(surname);
CREATE TABLE signature_bands (band INTEGER NOT NULL, key BIGINT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (band, key, id));
-- the keyword index: one row per live passage of a distinct article, its analysed words as a tsvector (GIN),
-- its length in words, and the outlet and day the filters need (no join at search time)
CREATE TABLE keywords (rid BIGINT PRIMARY KEY, tsv TSVECTOR NOT NULL, len INTEGER NOT NULL, outlet TEXT,
  day INTEGER NOT NULL) WITH (toast_tuple_target = 8160);
-- kept in the row, uncompressed while the row fits a page: a search reads thousands of them (TOAST fetches and
-- decompression made a 100k-passage search ~1.5x slower)
ALTER TABLE keywords ALTER COLUMN tsv SET STORAGE MAIN;
CREATE INDEX keywords_tsv ON keywords USING GIN (tsv);
CREATE INDEX keywords_outlet ON keywords(outlet);
CREATE INDEX keywords_day ON keywords(day);
CREATE TABLE keyword_df (term TEXT PRIMARY KEY, doc INTEGER NOT NULL);
CREATE TABLE keyword_totals (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), docs BIGINT NOT NULL,
  tokens BIGINT NOT NULL);
INSERT INTO keyword_totals VALUES (TRUE, 0, 0);
"""),
    # what replicas on several machines must share: the ingest jobs and the web login throttle (`host`: a job
    # naming files of one machine, an upload or a CLI path, is taken only by workers on that machine)
    (2, """
CREATE TABLE jobs (
  id BIGSERIAL PRIMARY KEY, targets JSONB NOT NULL, state TEXT NOT NULL DEFAULT 'waiting',
  worker TEXT, lease_until TIMESTAMPTZ, attempts INTEGER NOT NULL DEFAULT 0, done_inputs INTEGER NOT NULL DEFAULT 0,
  label TEXT NOT NULL DEFAULT '', report JSONB, error TEXT, created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at TIMESTAMPTZ, host TEXT);
CREATE INDEX jobs_open ON jobs(id) WHERE state IN ('waiting', 'running');
CREATE TABLE login_failures (name TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until DOUBLE PRECISION NOT NULL,
  last_at DOUBLE PRECISION NOT NULL);
CREATE TABLE login_flood (at DOUBLE PRECISION NOT NULL);
CREATE INDEX login_flood_at ON login_flood(at);
CREATE TABLE login_pause (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), until DOUBLE PRECISION NOT NULL);
"""),
    # each web user's earlier chats, so that every replica shows a user the same list
    (3, """
CREATE TABLE conversations (user_key TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL);
"""),
    # what every replica shares besides coverage, one JSON document a name (the web page's watched feeds)
    (4, """
CREATE TABLE documents (name TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL);
"""),
]
LATEST = STEPS[-1][0]


def migrate(conn, steps: list[tuple[int, str]] | None = None) -> list[int]:
    """Apply the steps this catalog lacks, each recorded in `schema_version`, all in one transaction (a failed
    step leaves the catalog as it was); returns the versions applied (empty when current). `conn` is an
    autocommit psycopg connection."""
    applied = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                     " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        have = {r[0] for r in conn.execute("SELECT version FROM schema_version")}
        newer = [v for v in have if v > LATEST]
        if newer:
            from rag.core.errors import StoreError

            raise StoreError(f"The catalog was written by a newer newsrag (schema version {max(newer)}, this one "
                             f"knows up to {LATEST}): upgrade newsrag on this machine.")
        for version, sql in steps or STEPS:
            if version in have:
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
            applied.append(version)
    return applied


def _statements(sql: str) -> list[str]:
    """`;`-separated statements, comment lines dropped (no statement here holds a `;` in a string)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
