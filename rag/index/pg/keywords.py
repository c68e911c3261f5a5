"""Keyword search on PostgreSQL's own full-text search, with the semantics of the FTS5 search (keywords.py).

Words are analysed in Python by the same recipe (`keywords.terms`: lower case, function words dropped, Snowball
stems), and each passage's words are stored as a `tsvector` written lexeme by lexeme (a literal, so PostgreSQL's
parser and dictionaries change nothing), matched through a GIN index with a `tsquery` of the question's words.
Ranking is FTS5's BM25 (k1 1.2, b 0.75, IDF log((N - n + 0.5)/(n + 0.5)) floored at 1e-6, a word said twice
counting twice), computed in SQL: a word's count in a passage is the number of its positions in the tsvector
(the question's words picked out with `setweight` + `ts_filter`, then `unnest`). The passage counts per word
(`keyword_df`) and the totals (`keyword_totals`) are kept in the transactions that add and remove rows, as the
FTS5 side tables are.
Past the postings budget only the rarest words are matched and the best `POOL` passages scored over every word,
as keywords.search does. Limits of tsvector: a word over 2,000 bytes is not indexed, and a word is counted at
most 256 times in a passage (passages are a few hundred words).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable, Sequence

from rag.index.keywords import (
    _B,
    _K1,
    _MAX_TERMS,
    _POOL,
    POSTINGS_BUDGET,
    body,
    day_clauses,
    rare_words,
    terms,
)

__all__ = ["tsvector", "insert", "delete", "search", "rebuild"]

_MAX_LEXEME = 2000  # bytes; PostgreSQL refuses longer lexemes
_MAX_POS = 16383  # tsvector positions stop here


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(text: str) -> tuple[str, int]:
    """(tsvector literal, length in words) of an analysed body (words joined by single spaces)."""
    words = text.split()
    positions: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(words, 1):
        if len(w.encode()) <= _MAX_LEXEME:
            positions[w].append(min(i, _MAX_POS))
    return " ".join(f"{_lexeme(w)}:{','.join(map(str, ps[:256]))}" for w, ps in positions.items()), len(words)


def insert(conn, rows: Iterable[tuple[int, str, str, str | None, int]]) -> int:
    """Index (passage rid, title, text, outlet, day) rows in the caller's transaction; returns how many."""
    prepared, df, tokens = [], Counter(), 0
    for rid, title, text, outlet, day in rows:
        analysed = body(title, text)
        literal, length = tsvector(analysed)
        prepared.append((rid, literal, length, outlet, day))
        df.update(set(analysed.split()))
        tokens += length
    if not prepared:
        return 0
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO keywords (rid, tsv, len, outlet, day) VALUES (%s, %s::tsvector, %s, %s, %s)",
                        prepared)
        cur.execute("INSERT INTO keyword_df (term, doc) SELECT * FROM unnest(%s::text[], %s::int[])"
                    " ON CONFLICT (term) DO UPDATE SET doc = keyword_df.doc + excluded.doc",
                    (list(df), list(df.values())))
    conn.execute("UPDATE keyword_totals SET docs = docs + %s, tokens = tokens + %s", (len(prepared), tokens))
    return len(prepared)


def delete(conn, rids: Sequence[int]) -> None:
    """Remove passages from the index, their words' passage counts and the totals lowered (caller's transaction)."""
    if not rids:
        return
    rows = conn.execute("DELETE FROM keywords WHERE rid = ANY(%s) RETURNING tsvector_to_array(tsv), len",
                        (list(rids),)).fetchall()
    if not rows:
        return
    df: Counter = Counter()
    for words, _ in rows:
        df.update(words)
    conn.execute("UPDATE keyword_df d SET doc = d.doc - c.n FROM unnest(%s::text[], %s::int[]) AS c(term, n)"
                 " WHERE d.term = c.term", (list(df), list(df.values())))
    conn.execute("DELETE FROM keyword_df WHERE term = ANY(%s) AND doc <= 0", (list(df),))
    conn.execute("UPDATE keyword_totals SET docs = docs - %s, tokens = tokens - %s",
                 (len(rows), sum(r[1] for r in rows)))


def rebuild(conn, bodies) -> int:
    """Index from nothing: every row of `bodies` (an iterable of insert()'s rows); returns the count."""
    conn.execute("DELETE FROM keywords")
    conn.execute("DELETE FROM keyword_df")
    conn.execute("UPDATE keyword_totals SET docs = 0, tokens = 0")
    return sum(insert(conn, batch) for batch in bodies)


def search(conn, query: str, k: int, *, sources: Sequence[str] | None = None, since_day: int | None = None,
           until_day: int | None = None, as_of_day: int | None = None,
           budget: int = POSTINGS_BUDGET) -> list[tuple[int, float]]:
    """The k best (passage rid, BM25 score), best first, filters inside the query (keywords.search's rules)."""
    words = [t for t in terms(query)][:_MAX_TERMS]
    if not words or k <= 0:
        return []
    df = dict(conn.execute("SELECT term, doc FROM keyword_df WHERE term = ANY(%s)", (list(set(words)),)).fetchall())
    words = [w for w in words if df.get(w)]
    if not words:
        return []
    n, tokens = conn.execute("SELECT docs, tokens FROM keyword_totals").fetchone()
    avgdl = tokens / n if n else 1.0
    idf = {w: max(math.log((n - d + 0.5) / (d + 0.5)), 1e-6) for w, d in df.items()}
    filters = _filters(sources, since_day, until_day, as_of_day)
    rare = rare_words(words, df, budget)
    if rare is None:
        return _ranked(conn, words, words, idf, avgdl, k, filters)
    pool = _ranked(conn, rare, [w for w in words if w in rare], idf, avgdl, max(k, _POOL), filters)
    if not pool:
        return []
    return _ranked(conn, words, words, idf, avgdl, k, ("rid = ANY(%s)", [[rid for rid, _ in pool]]))


def _filters(sources, since_day, until_day, as_of_day) -> tuple[str, list]:
    clauses, args = [], []
    if sources:
        clauses.append("outlet = ANY(%s)")
        args.append(list(sources))
    more, values = day_clauses(since_day, until_day, as_of_day, column="day", p="%s")
    clauses += more
    args += values
    return " AND ".join(clauses), args


def _ranked(conn, match: list[str], scored: list[str], idf: dict[str, float], avgdl: float, k: int,
            filters: tuple[str, list]) -> list[tuple[int, float]]:
    """Passages holding any word of `match` and passing the filters (or, for a rescoring, those the filter
    names by rid), scored by BM25 over `scored`: idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgdl))
    summed over the words, a word said twice counting twice (as FTS5's phrases do).

    Each passage's tsvector is read once: `setweight` marks the question's words and `ts_filter` keeps only
    them, so `unnest` yields a few (word, positions) rows whose position counts are the words' counts."""
    counts = Counter(scored)
    where, fargs = filters
    if not where.startswith("rid = ANY"):
        where = "tsv @@ %s::tsquery" + (f" AND {where}" if where else "")
        fargs = [" | ".join(_lexeme(w) for w in dict.fromkeys(match)), *fargs]
    sql = ("SELECT s.rid, SUM(q.w * array_length(u.positions, 1) / (array_length(u.positions, 1) + s.norm)) AS score"
           f" FROM (SELECT rid, {_K1} * (1 - {_B} + {_B} * len / %s::float8) AS norm,"
           f" ts_filter(setweight(tsv, 'A', %s::text[]), '{{a}}') AS asked FROM keywords WHERE {where} OFFSET 0) s"
           " CROSS JOIN LATERAL unnest(s.asked) u JOIN unnest(%s::text[], %s::float8[]) AS q(term, w)"
           " ON q.term = u.lexeme GROUP BY s.rid ORDER BY score DESC, s.rid LIMIT %s")
    terms_ = list(counts)
    weights = [times * idf[w] * (_K1 + 1) for w, times in counts.items()]
    params = [avgdl, terms_, *fargs, terms_, weights, k]
    return [(r[0], float(r[1])) for r in conn.execute(sql, params).fetchall()]
