"""Where a keyword search's time goes on a store: the word counts (df), FTS5's ranking of the rare words'
passages, the rescoring of the best of them over every word, and the whole search; p50/p95 in ms over the
benchmark's questions (query_bench's list), each stage timed inside `rag.index.keywords.search`. Reads through
the catalog; nothing is written once it is open.

    python benchmarks/keyword_stages.py --home /tmp/i15s/grow [--questions 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_bench import _pct, _questions, emit  # noqa: E402

from rag.index import keywords as K  # noqa: E402
from rag.index.sqlite_catalog import SqliteCatalog  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    catalog = SqliteCatalog(args.home)
    qs = _questions(args.questions + 1)[1:]
    times: dict[str, list[float]] = {}

    def timed(name, f):
        def g(*a, **kw):
            t = time.perf_counter()
            out = f(*a, **kw)
            times.setdefault(name, []).append(time.perf_counter() - t)
            return out
        return g

    for name, attr in (("df", "_doc_counts"), ("fts", "_fts"), ("rescore", "_rescore")):
        setattr(K, attr, timed(name, getattr(K, attr)))  # search() calls them through the module
    for q in qs[:5]:  # warm the page cache
        catalog.keyword_search(q, 50)
    times.clear()
    for q in qs:
        t = time.perf_counter()
        catalog.keyword_search(q, 50)
        times.setdefault("search", []).append(time.perf_counter() - t)
    out = {"home": str(args.home), "questions": len(qs), "ms": {k: _pct(v) for k, v in times.items()}}
    emit(out, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
