"""The keyword index: SQLite FTS5 beside the catalog, ranked by its bm25(), grown and shrunk one article at a time.

Rows are written in the same transaction that makes an article version live and deleted in the one that retires
it, so the keyword index never holds a staged or a retired passage and never needs a rebuild. The table is
contentless (the passage text already lives in the catalog): deleting a row hands FTS5 the text it indexed.

Words are analysed here, not by FTS5's porter tokenizer: lower-cased words of two or more characters, English
function words dropped, Snowball-stemmed (PyStemmer), as the bm25s index before it did; on realtimeqa porter
lost 3 of 61 questions from the top 5 (docs/BENCHMARKS.md). `ANALYZER` names this recipe: a catalog indexed by
another recipe is re-indexed when opened, since deleting a row needs exactly the words it was indexed with.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Iterable, Sequence

__all__ = ["SCHEMA", "insert", "delete", "match_expression", "search", "rebuild"]

SCHEMA = "CREATE VIRTUAL TABLE IF NOT EXISTS keywords USING fts5(body, content='', tokenize='unicode61');"
ANALYZER = "snowball-en-1"

# English function words (the list bm25s uses): left out of the question, so they neither rank nor cost time.
_STOP = frozenset("""a an and are as at be but by for if in into is it no not of on or such that the their then there
these they this to was will with""".split())
_WORD = re.compile(r"(?u)\b\w\w+\b")
_MAX_TERMS = 32  # a pasted paragraph as a question: the first 32 distinct words are plenty to rank by


@lru_cache(maxsize=1)
def _stem():
    try:
        import Stemmer

        return Stemmer.Stemmer("english").stemWords
    except ImportError:  # PyStemmer is a dependency; without it words are matched whole
        return lambda ws: ws


def terms(text: str) -> list[str]:
    """The analysed words of a text, in order, repeats kept."""
    return _stem()([w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP])


def body(title: str, text: str) -> str:
    """What is indexed for a passage: its article's title and its text, analysed."""
    return " ".join(terms(f"{title}\n{text}"))


def insert(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index (rowid, body) pairs; the rowid is the passage's row id in the catalog."""
    db.executemany("INSERT INTO keywords(rowid, body) VALUES (?, ?)", rows)


def delete(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Remove (rowid, body) pairs; the body must be the text that was indexed (a contentless table's rule)."""
    db.executemany("INSERT INTO keywords(keywords, rowid, body) VALUES ('delete', ?, ?)", rows)


def match_expression(query: str) -> str | None:
    """The question's analysed words as an FTS5 OR query, each quoted (no operator syntax leaks in); a word said
    twice counts twice, as it did in bm25s."""
    words = [t for t in terms(query) if t.replace('"', "")][:_MAX_TERMS]
    return " OR ".join(f'"{t}"' for t in words) if words else None


def search(db: sqlite3.Connection, query: str, k: int, *, sources: Sequence[str] | None = None,
           since_day: int | None = None, until_day: int | None = None,
           as_of_day: int | None = None) -> list[tuple[int, float]]:
    """The k best (passage rowid, score) for the query, best first; filters are applied inside the search."""
    expr = match_expression(query)
    if expr is None or k <= 0:
        return []
    if not sources and since_day is None and until_day is None and as_of_day is None:
        rows = db.execute("SELECT rowid, -bm25(keywords) FROM keywords WHERE keywords MATCH ? ORDER BY rank LIMIT ?",
                          (expr, k)).fetchall()
        return [(r[0], float(r[1])) for r in rows]
    clauses, args = [], [expr]
    if sources:
        clauses.append(f"COALESCE(a.source, a.credited_source) IN ({','.join('?' * len(sources))})")
        args.extend(sources)
    if since_day is not None:
        clauses.append("a.day >= ?")
        args.append(since_day)
    if until_day is not None:
        clauses.append("a.day BETWEEN 0 AND ?")
        args.append(until_day)
    if as_of_day is not None:  # published after as_of: left out; undated (day -1) stays
        clauses.append("a.day <= ?")
        args.append(as_of_day)
    sql = ("SELECT k.rowid, -bm25(keywords) FROM keywords k CROSS JOIN passages p ON p.rid=k.rowid"
           " CROSS JOIN articles a ON a.id=p.article_id AND a.gen=p.gen"
           f" WHERE keywords MATCH ? AND a.state='ready' AND {' AND '.join(clauses)} ORDER BY rank LIMIT ?")
    rows = db.execute(sql, [*args, k]).fetchall()
    return [(r[0], float(r[1])) for r in rows]


def rebuild(db: sqlite3.Connection, batch: int = 2000) -> int:
    """Index every live passage from nothing, in batches (memory stays bounded by the batch); returns the count."""
    db.execute("INSERT INTO keywords(keywords) VALUES ('delete-all')")  # how a contentless table is emptied
    n = 0
    last = -1
    while True:
        rows = db.execute(
            "SELECT p.rid, a.title, substr(a.text, p.start + 1, p.end - p.start) FROM passages p"
            " JOIN articles a ON a.id=p.article_id AND a.gen=p.gen WHERE a.state='ready' AND p.rid > ?"
            " ORDER BY p.rid LIMIT ?", (last, batch)).fetchall()
        if not rows:
            return n
        insert(db, ((r[0], body(r[1], r[2])) for r in rows))
        n += len(rows)
        last = rows[-1][0]
