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

import math
import re
import sqlite3
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

__all__ = ["SCHEMA", "POSTINGS_BUDGET", "insert", "delete", "search", "rebuild"]

SCHEMA = "CREATE VIRTUAL TABLE IF NOT EXISTS keywords USING fts5(body, content='', tokenize='unicode61');"
ANALYZER = "snowball-en-1"

# English function words (the list bm25s uses): left out of the question, so they neither rank nor cost time.
_STOP = frozenset("""a an and are as at be but by for if in into is it no not of on or such that the their then there
these they this to was will with""".split())
_WORD = re.compile(r"\w\w+")  # runs of two or more word characters (\w is Unicode-aware)
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


# Past this many postings (summed over the question's words) only the rarest words, up to a quarter of it, are
# matched: below it FTS5 scoring them all is cheaper than the rescoring (docs/BENCHMARKS.md, issue 15).
POSTINGS_BUDGET = 80_000
_RARE_SHARE = 0.25
_POOL = 300  # passages the rare words bring to the full scoring
_K1, _B = 1.2, 0.75  # FTS5's bm25() constants


def search(db: sqlite3.Connection, query: str, k: int, *, sources: Sequence[str] | None = None,
           since_day: int | None = None, until_day: int | None = None, as_of_day: int | None = None,
           budget: int = POSTINGS_BUDGET) -> list[tuple[int, float]]:
    """The k best (passage rowid, BM25 score) for the query, best first; filters are applied inside the search.

    FTS5 scores every passage holding any question word, so common words ("new": 44k of 100k passages) cost
    seconds under load. When the words' postings exceed `budget`, only the rarest words up to a quarter of it
    are matched (at least one); the best `_POOL` of those passages are then scored by BM25 over all the
    question's words, as FTS5 would (its k1, b and IDF), from their text. A passage holding only common words
    is missed (such passages score least), so under a narrow filter fewer than k may come back."""
    words = [t for t in terms(query) if t.replace('"', "")][:_MAX_TERMS]
    if not words or k <= 0:
        return []
    df = _doc_counts(db, set(words))
    words = [w for w in words if df.get(w)]  # a word in no passage matches nothing and scores nothing
    if not words:
        return []
    distinct = sorted(set(words), key=lambda w: df[w])
    if sum(df[w] for w in distinct) <= budget:
        return _fts(db, words, k, sources, since_day, until_day, as_of_day)
    rare, total = [], 0
    for w in distinct:
        if rare and total + df[w] > budget * _RARE_SHARE:
            break
        rare.append(w)
        total += df[w]
    # Fewer than k can come back (a narrow date range holding few of the rare words' passages): widening to
    # commoner words under a filter costs seconds at 100k passages (FTS5 ranks every match before the filter).
    pool = _fts(db, [w for w in words if w in rare], max(k, _POOL), sources, since_day, until_day, as_of_day)
    return _rescore(db, words, df, [rid for rid, _ in pool])[:k]


def _doc_counts(db: sqlite3.Connection, words: set[str]) -> dict[str, int]:
    """How many passages hold each word (fts5vocab reads the index; a few ms for 100k passages)."""
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.keywords_vocab USING fts5vocab(main, keywords, row)")
    marks = ",".join("?" * len(words))
    return dict(db.execute(f"SELECT term, doc FROM temp.keywords_vocab WHERE term IN ({marks})", list(words)))


def _totals(db: sqlite3.Connection) -> tuple[int, float]:
    """(passages, mean passage length in words) from FTS5's own totals record (rowid 1 of its data table)."""
    row = db.execute("SELECT block FROM keywords_data WHERE id=1").fetchone()
    values, pos = [], 0
    blob = row[0] if row else b""
    while pos < len(blob) and len(values) < 2:
        value, pos = _varint(blob, pos)
        values.append(value)
    n, tokens = (values + [0, 0])[:2]
    return n, (tokens / n if n else 1.0)


def _varint(blob: bytes, pos: int) -> tuple[int, int]:
    """SQLite's variable-length integer: 7 bits a byte, high bit set while more follow; a ninth byte gives 8."""
    value = 0
    for i in range(9):
        byte = blob[pos + i]
        if i == 8:
            return (value << 8) | byte, pos + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos + i + 1
    return value, pos + 9  # pragma: no cover


def _rescore(db: sqlite3.Connection, words: list[str], df: dict[str, int],
             rids: list[int]) -> list[tuple[int, float]]:
    """BM25 over all the question's words (a word said twice counts twice) for these passages, best first."""
    if not rids:
        return []
    n, avgdl = _totals(db)
    idf = {w: max(math.log((n - d + 0.5) / (d + 0.5)), 1e-6) for w, d in df.items()}
    rows = db.execute(
        "SELECT p.rid, a.title, substr(a.text, p.start + 1, p.end - p.start) FROM passages p"
        f" JOIN articles a ON a.id=p.article_id AND a.gen=p.gen WHERE p.rid IN ({','.join('?' * len(rids))})",
        rids).fetchall()
    counts = [(rid, Counter(_WORD.findall(f"{title}\n{text}".lower()))) for rid, title, text in rows]
    stems = _stems_of(set().union(*(c.keys() for _, c in counts)))
    wanted = set(words)
    surface = {w for w, stem in stems.items() if stem in wanted and w not in _STOP}  # the forms that count
    scored = []
    for rid, count in counts:
        tf: Counter = Counter()
        for word in surface.intersection(count):
            tf[stems[word]] += count[word]
        length = sum(count.values()) - sum(count[w] for w in _STOP.intersection(count))
        norm = _K1 * (1 - _B + _B * length / avgdl)
        scored.append((rid, sum(idf[w] * tf[w] * (_K1 + 1) / (tf[w] + norm) for w in words if tf[w])))
    return sorted(scored, key=lambda r: (-r[1], r[0]))


_STEMS: dict[str, str] = {}  # surface word -> stem, for the rescoring (bounded: cleared when it grows past 200k)


def _stems_of(words: set[str]) -> dict[str, str]:
    """The stem of each word, stemming only the words not seen before (most of a passage's words recur)."""
    missing = [w for w in words if w not in _STEMS]
    if missing:
        if len(_STEMS) > 200_000:
            _STEMS.clear()
            missing = list(words)
        _STEMS.update(zip(missing, _stem()(missing)))
    return {w: _STEMS[w] for w in words}


def _fts(db: sqlite3.Connection, words: list[str], k: int, sources: Sequence[str] | None, since_day: int | None,
         until_day: int | None, as_of_day: int | None) -> list[tuple[int, float]]:
    """FTS5's own bm25() ranking of the passages holding any of these words, filters inside the query."""
    expr = " OR ".join(f'"{t}"' for t in words)
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
