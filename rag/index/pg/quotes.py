"""The quote index in the PostgreSQL catalog: quote_store.py's rules (rows of the article version they were found
in, a refresh by a newer extractor in batches, resuming where it stopped) in PostgreSQL's SQL. `seq` orders the
articles as SQLite's rowid does."""

from __future__ import annotations

from typing import Mapping, Sequence

from rag.attribution.quote_index import (
    EXTRACTOR_VERSION,
    IndexedQuote,
    index_quotes,
    surname_key,
)
from rag.core.schema import Passage, Quote
from rag.index.quote_store import COLUMNS, _quote, rows_of
from rag.nlp.text import same_person

__all__ = ["INSERT", "refresh", "remaining", "indexed", "mark_if_complete", "put", "by_speaker", "by_description",
           "by_text", "passage_at", "of_article"]

_QUOTED = ", ".join('"end"' if c == "end" else c for c in COLUMNS)
INSERT = f"INSERT INTO quotes ({_QUOTED}) VALUES ({','.join(['%s'] * len(COLUMNS))})"
_FLAG, _CURSOR = "quotes_indexed", "quotes_cursor"
_SELECT = ("SELECT q.article_id, q.start, q.end, q.speaker, q.description, q.kind, q.cue_start, q.cue_end,"
           " q.via_pronoun, a.text, a.title, a.source, a.published_at, a.url FROM quotes q JOIN articles a"
           " ON a.id=q.article_id AND a.gen=q.gen WHERE a.state='ready' AND a.duplicate_of IS NULL")
_NEWEST = " ORDER BY COALESCE(a.published_at,'') DESC, q.article_id, q.start"


def of_article(conn, article_id: str) -> list[Quote]:
    rows = conn.execute("SELECT q.article_id, q.start, q.end, q.text, q.speaker, q.description, q.kind, q.cue_start,"
                        " q.cue_end, q.via_pronoun FROM quotes q JOIN articles a ON a.id=q.article_id AND a.gen=q.gen"
                        " WHERE q.article_id=%s AND a.state='ready' ORDER BY q.start", (article_id,)).fetchall()
    return [Quote(*r[:9], via_pronoun=bool(r[9])) for r in rows]


def _meta(conn, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key=%s", (key,)).fetchone()
    return row[0] if row else None


def _set(conn, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value=excluded.value", (key, value))


def indexed(conn) -> bool:
    if not conn.execute("SELECT 1 FROM articles WHERE state='ready' LIMIT 1").fetchone():
        return True
    return _meta(conn, _FLAG) == EXTRACTOR_VERSION


def _done_up_to(conn) -> int:
    version, _, last = (_meta(conn, _CURSOR) or "").partition(":")
    return int(last) if version == EXTRACTOR_VERSION and last.isdigit() else -1


def _stamp(conn) -> None:
    _set(conn, _FLAG, EXTRACTOR_VERSION)
    conn.execute("DELETE FROM meta WHERE key=%s", (_CURSOR,))


def _replace(conn, article_id: str, gen: int, quotes: Sequence[Quote]) -> None:
    conn.execute("DELETE FROM quotes WHERE article_id=%s AND gen=%s", (article_id, gen))
    with conn.cursor() as cur:
        cur.executemany(INSERT, rows_of(article_id, gen, quotes))


def refresh(conn, limit: int) -> int:
    """quote_store.refresh: the next `limit` live articles' quotes derived again (caller's transaction)."""
    if indexed(conn):
        return 0
    rows = conn.execute("SELECT seq, id, gen, text FROM articles WHERE seq > %s AND state='ready' AND"
                        " duplicate_of IS NULL ORDER BY seq LIMIT %s", (_done_up_to(conn), limit)).fetchall()
    if not rows:
        _stamp(conn)
        return 0
    for _, article_id, gen, text in rows:
        _replace(conn, article_id, gen, index_quotes(article_id, text))
    _set(conn, _CURSOR, f"{EXTRACTOR_VERSION}:{rows[-1][0]}")
    return len(rows)


def remaining(conn) -> int:
    if indexed(conn):
        return 0
    return conn.execute("SELECT COUNT(*) FROM articles WHERE seq > %s AND state='ready' AND duplicate_of IS NULL",
                        (_done_up_to(conn),)).fetchone()[0]


def mark_if_complete(conn, gen: int) -> None:
    """At a commit: the first generation of an empty store is fully indexed (its quotes were staged with it)."""
    conn.execute("INSERT INTO meta SELECT %s, %s WHERE NOT EXISTS (SELECT 1 FROM articles WHERE state='ready'"
                 " AND gen<>%s) ON CONFLICT (key) DO NOTHING", (_FLAG, EXTRACTOR_VERSION, gen))


def put(conn, quotes: Mapping[str, Sequence[Quote]]) -> None:
    for article_id, qs in quotes.items():
        row = conn.execute("SELECT gen FROM articles WHERE id=%s AND state='ready'", (article_id,)).fetchone()
        if row is not None:
            _replace(conn, article_id, row[0], qs)
    _stamp(conn)


def by_speaker(conn, name: str) -> list[IndexedQuote]:
    key = surname_key(name)
    if not key:
        return []
    rows = conn.execute(_SELECT + " AND q.surname=%s" + _NEWEST, (key,)).fetchall()
    return [q for q in map(_quote, rows) if same_person(q.quote.speaker, name)]


def by_description(conn, words: Sequence[str]) -> list[IndexedQuote]:
    return _holding_all(conn, "LOWER(q.description)", [w.lower() for w in words])


def by_text(conn, words: Sequence[str]) -> list[IndexedQuote]:
    return _holding_all(conn, "q.norm", words)


def _holding_all(conn, column: str, words: Sequence[str]) -> list[IndexedQuote]:
    """Live quotes whose `column` (an SQL expression of ours, never user text) contains every word, newest first."""
    if not words:
        return []
    clause = " AND ".join(f"strpos(lower({column}), %s) > 0" for _ in words)  # SQLite's LIKE ignores case too
    return [_quote(r) for r in conn.execute(_SELECT + f" AND {clause}" + _NEWEST,
                                            [w.lower() for w in words]).fetchall()]


def passage_at(conn, article_id: str, start: int, end: int) -> Passage | None:
    rows = conn.execute(
        "SELECT p.id, p.article_id, p.idx, p.start, p.end, a.text, a.title, COALESCE(a.source, a.credited_source),"
        " a.published_at, a.url, a.author FROM passages p JOIN articles a ON a.id=p.article_id AND"
        " a.gen=p.gen WHERE p.article_id=%s AND a.state='ready' AND p.start<%s AND p.end>%s ORDER BY p.idx",
        (article_id, end, start)).fetchall()
    if not rows:
        return None
    r = max(rows, key=lambda r: min(end, r[4]) - max(start, r[3]))
    return Passage(r[0], r[1], r[2], r[3], r[4], r[5][r[3]:r[4]], r[6], r[7], r[8], r[9], r[10])
