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
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

__all__ = ["SCHEMA", "POSTINGS_BUDGET", "insert", "delete", "search", "rebuild", "fill_side_tables"]

SCHEMA = """CREATE VIRTUAL TABLE IF NOT EXISTS keywords USING fts5(body, content='', tokenize='unicode61');
CREATE TABLE IF NOT EXISTS keyword_terms (rid INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keyword_df (term TEXT PRIMARY KEY, doc INTEGER NOT NULL) WITHOUT ROWID;
"""
# 3: an underscore splits words and diacritics are dropped, as FTS5's unicode61 does ("ap_sport" is two words,
# "Gaudí" is "gaudi"), so FTS5 merges no two of the words it is given and counts none differently
ANALYZER = "snowball-en-3"
# `keyword_terms` keeps each indexed passage's analysed words (what FTS5 was given: a delete hands them back, the
# rescoring counts them) and `keyword_df` how many indexed passages hold each word. Both are written in the
# transactions that write the FTS5 rows. fts5vocab counts a word's passages by walking its whole posting list:
# 3-5 ms a word at 1M passages, most of the search (docs/BENCHMARKS.md, session 6).
SIDE_TABLES = "terms-df-1"

# English function words (the list bm25s uses): left out of the question, so they neither rank nor cost time.
_STOP = frozenset("""a an and are as at be but by for if in into is it no not of on or such that the their then there
these they this to was will with""".split())
# runs of two or more letters or digits (Unicode-aware): the words FTS5's unicode61 tokenizer sees again one for
# one, so its token totals and lengths (BM25's) are the ones PostgreSQL's keyword index counts. With \w, an
# underscore joined words ("michaela_ramm") that FTS5 split in two, and scores differed in the 6th digit.
_WORD = re.compile(r"[^\W_]{2,}")
_MAX_TERMS = 32  # a pasted paragraph as a question: the first 32 distinct words are plenty to rank by


@lru_cache(maxsize=1)
def _stem():
    try:
        import Stemmer

        return Stemmer.Stemmer("english").stemWords
    except ImportError:  # PyStemmer is a dependency; without it words are matched whole
        return lambda ws: ws


def _fold(word: str) -> str:
    """Lower case without diacritics ("Gaudí" -> "gaudi"): FTS5's unicode61 folds them when it indexes, so two
    spellings would be one word to it and two to PostgreSQL and to the word counts here."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """The analysed words of a text, in order, repeats kept."""
    words = (w for m in _WORD.findall(text) for w in _WORD.findall(_fold(m)))
    return _stem()([w for w in words if w not in _STOP])


def body(title: str, text: str) -> str:
    """What is indexed for a passage: its article's title and its text, analysed."""
    return " ".join(terms(f"{title}\n{text}"))


def insert(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index (rowid, body) pairs; the rowid is the passage's row id in the catalog."""
    rows = list(rows)
    db.executemany("INSERT INTO keywords(rowid, body) VALUES (?, ?)", rows)
    _remember(db, rows)


def _remember(db: sqlite3.Connection, rows: Sequence[tuple[int, str]]) -> None:
    """The side tables' part of indexing (rowid, body) pairs: the words kept, the passage counts raised."""
    db.executemany("INSERT INTO keyword_terms(rid, body) VALUES (?, ?)", rows)
    _count(db, rows, +1)


def delete(db: sqlite3.Connection, rids: Iterable[int]) -> None:
    """Remove passages from the index by rowid; FTS5 is handed the words it indexed (a contentless table's rule),
    read back from `keyword_terms`."""
    rids = list(rids)
    rows: list[tuple[int, str]] = []
    for i in range(0, len(rids), 500):
        part = rids[i:i + 500]
        rows += db.execute(f"SELECT rid, body FROM keyword_terms WHERE rid IN ({','.join('?' * len(part))})",
                           part).fetchall()
    db.executemany("INSERT INTO keywords(keywords, rowid, body) VALUES ('delete', ?, ?)", rows)
    db.executemany("DELETE FROM keyword_terms WHERE rid=?", [(r[0],) for r in rows])
    _count(db, rows, -1)


def _count(db: sqlite3.Connection, rows: Sequence[tuple[int, str]], sign: int) -> None:
    """Add (sign +1) or take away (-1) these passages from each of their words' passage counts."""
    df: Counter = Counter()
    for _, text in rows:
        df.update(set(text.split()))
    if sign > 0:
        db.executemany("INSERT INTO keyword_df(term, doc) VALUES (?, ?) ON CONFLICT(term) DO UPDATE"
                       " SET doc=doc+excluded.doc", df.items())
    else:
        db.executemany("UPDATE keyword_df SET doc=doc-? WHERE term=?", [(n, t) for t, n in df.items()])
        db.executemany("DELETE FROM keyword_df WHERE term=? AND doc<=0", [(t,) for t in df])


def fill_side_tables(db: sqlite3.Connection, batch: int = 5000) -> int:
    """Fill `keyword_terms` and `keyword_df` for a store indexed before them (once, when it is opened): every
    indexed passage analysed again, as it was indexed; returns how many."""
    return _index_live(db, batch, lambda rows: _remember(db, rows))


def day_clauses(since_day: int | None, until_day: int | None, as_of_day: int | None, *, column: str,
                p: str) -> tuple[list[str], list[int]]:
    """SQL conditions (placeholder `p`) for a date window on a day-number column, with their values: an undated
    passage (day -1) is kept by `as_of` and left out by `since`/`until`. Both catalogs filter alike."""
    clauses, args = [], []
    if since_day is not None:
        clauses.append(f"{column} >= {p}")
        args.append(since_day)
    if until_day is not None:
        clauses.append(f"{column} BETWEEN 0 AND {p}")
        args.append(until_day)
    if as_of_day is not None:  # published after as_of: left out; undated (day -1) stays
        clauses.append(f"{column} <= {p}")
        args.append(as_of_day)
    return clauses, args


def rare_words(words: Sequence[str], df: dict[str, int], budget: int) -> list[str] | None:
    """None when all the words' postings fit the budget (match them all); else the rarest words, whose postings
    fit a share of it (their best passages are then rescored over every word). Both catalogs prune alike."""
    distinct = sorted(set(words), key=lambda w: (df[w], w))  # ties by the word: the same in every process
    if sum(df[w] for w in distinct) <= budget:
        return None
    rare, total = [], 0
    for w in distinct:
        if rare and total + df[w] > budget * _RARE_SHARE:
            break
        rare.append(w)
        total += df[w]
    return rare


def _index_live(db: sqlite3.Connection, batch: int, write) -> int:
    """Empty the side tables, then hand `write` every live passage's (rowid, body), `batch` at a time (memory stays
    bounded by the batch); returns the count."""
    db.execute("DELETE FROM keyword_terms")
    db.execute("DELETE FROM keyword_df")
    n, last = 0, -1
    while True:
        rows = _live_bodies(db, last, batch)
        if not rows:
            return n
        write(rows)
        n += len(rows)
        last = rows[-1][0]


def _live_bodies(db: sqlite3.Connection, after: int, batch: int) -> list[tuple[int, str]]:
    """(rowid, body) of the next `batch` indexed passages past rowid `after`: live versions of distinct articles."""
    rows = db.execute(
        "SELECT p.rid, a.title, substr(a.text, p.start + 1, p.end - p.start) FROM passages p"
        " JOIN articles a ON a.id=p.article_id AND a.gen=p.gen WHERE a.state='ready' AND a.duplicate_of IS NULL"
        " AND p.rid > ? ORDER BY p.rid LIMIT ?", (after, batch)).fetchall()
    return [(r[0], body(r[1], r[2])) for r in rows]


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
    rare = rare_words(words, df, budget)
    if rare is None:
        return _fts(db, words, k, sources, since_day, until_day, as_of_day)
    # Fewer than k can come back (a narrow date range holding few of the rare words' passages): widening to
    # commoner words under a filter costs seconds at 100k passages (FTS5 ranks every match before the filter).
    pool = _fts(db, [w for w in words if w in rare], max(k, _POOL), sources, since_day, until_day, as_of_day)
    return _rescore(db, words, df, [rid for rid, _ in pool])[:k]


def _doc_counts(db: sqlite3.Connection, words: set[str]) -> dict[str, int]:
    """How many indexed passages hold each word (`keyword_df`: one key lookup a word)."""
    marks = ",".join("?" * len(words))
    return dict(db.execute(f"SELECT term, doc FROM keyword_df WHERE term IN ({marks})", list(words)))


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
    """BM25 over all the question's words (a word said twice counts twice) for these passages, best first, from
    the words each was indexed with (`keyword_terms`): FTS5's k1, b, IDF and length, so its scores."""
    if not rids:
        return []
    n, avgdl = _totals(db)
    idf = {w: max(math.log((n - d + 0.5) / (d + 0.5)), 1e-6) for w, d in df.items()}
    rows = db.execute(f"SELECT rid, body FROM keyword_terms WHERE rid IN ({','.join('?' * len(rids))})",
                      rids).fetchall()
    scored = []
    asked = [(w, f" {w} ", f" {w} {w} ") for w in dict.fromkeys(words)]
    for rid, text in rows:
        # The body is its words joined by single spaces, so " w " occurs once per time the word does, except
        # that str.count misses the second of two side by side: then the words are counted one by one.
        padded = f" {text} "
        tf = {}
        for w, marked, twice in asked:
            n = padded.count(marked)
            tf[w] = text.split().count(w) if n and twice in padded else n
        length = text.count(" ") + 1 if text else 0
        norm = _K1 * (1 - _B + _B * length / avgdl)
        scored.append((rid, sum(idf[w] * tf[w] * (_K1 + 1) / (tf[w] + norm) for w in words if tf[w])))
    return sorted(scored, key=lambda r: (-r[1], r[0]))


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
    more, values = day_clauses(since_day, until_day, as_of_day, column="a.day", p="?")
    clauses += more
    args += values
    sql = ("SELECT k.rowid, -bm25(keywords) FROM keywords k CROSS JOIN passages p ON p.rid=k.rowid"
           " CROSS JOIN articles a ON a.id=p.article_id AND a.gen=p.gen"
           f" WHERE keywords MATCH ? AND a.state='ready' AND {' AND '.join(clauses)} ORDER BY rank LIMIT ?")
    rows = db.execute(sql, [*args, k]).fetchall()
    return [(r[0], float(r[1])) for r in rows]


def rebuild(db: sqlite3.Connection, batch: int = 2000) -> int:
    """Index every live passage from nothing, in batches (memory stays bounded by the batch); returns the count."""
    db.execute("INSERT INTO keywords(keywords) VALUES ('delete-all')")  # how a contentless table is emptied
    return _index_live(db, batch, lambda rows: insert(db, rows))
