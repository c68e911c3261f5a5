"""The keyword search (SQLite FTS5) on a grown store: where its time goes, and what its pruning of common words
changes in its ranking. Reads the catalog only; nothing is written once it is open.

    python benchmarks/keyword_bench.py stages  --home HOME [--questions 200] [--json benchmarks/results/keyword_stages_1m.json]
    python benchmarks/keyword_bench.py pruning --home HOME [--questions 60] [--budgets 80000,40000,20000] [--pool 300]
                                               [--rare-share 0.25] [--json benchmarks/results/keyword_pruning_1m_budgets.json]

HOME is a store grown by `query_bench.py --grow` (SYNTHETIC beyond its real passages). The questions are
`common.questions`: realtimeqa's, then MultiHop-RAG's.

`stages`: p50/p95 in ms of the word counts (df), FTS5's ranking of the rare words' passages, the rescoring of
the best of them over every word, and the whole search, each stage timed inside `rag.index.keywords.search`.

`pruning`: for each question, the exhaustive FTS5 BM25 ranking (every question word matched) against the pruned
one the Index uses, at each budget (postings). Reported per budget: the share of the exhaustive top 10 found in
the pruned top 50 (what the fusion sees); the same by story (a synthetic variant "syn3-<id>" counts as story
<id>: in a grown store each story has a hundred near-identical variants whose order among themselves is noise);
the pruned top 10's summed BM25 over the exhaustive top 10's (both full BM25 over every word); top-1 agreement;
latency p50/p95.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, pct, questions  # noqa: E402


def stages(home: Path, n: int) -> dict:
    from rag.index import keywords as K
    from rag.index.sqlite_catalog import SqliteCatalog

    catalog = SqliteCatalog(home)
    qs = questions(n + 1)[1:]
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
    return {"home": str(home), "questions": len(qs), "ms": {k: pct(v) for k, v in times.items()}}


def pruning(home: Path, n: int, budgets: list[int], pool: int | None = None, rare_share: float | None = None) -> dict:
    from rag.index import keywords
    from rag.index.sqlite_catalog import SqliteCatalog

    if pool:
        keywords._POOL = pool
    if rare_share:
        keywords._RARE_SHARE = rare_share
    catalog = SqliteCatalog(home)
    qs = questions(n + 1)[1:]
    exact, t_exact = [], []
    for q in qs:
        t = time.perf_counter()
        exact.append(catalog.keyword_search(q, 50, budget=10**12))
        t_exact.append(time.perf_counter() - t)

    def story(passage_id: str) -> str:
        aid = passage_id.rsplit(":", 1)[0]
        return aid.split("-", 1)[1] if aid.startswith("syn") and "-" in aid else aid

    out = {"passages": catalog.stats()["passages"], "questions": len(qs),
           "pool": keywords._POOL, "rare_share": keywords._RARE_SHARE,
           "exhaustive_ms": pct(t_exact), "budgets": {}}
    for budget in budgets:
        recall, stories, ratio, top1, times = [], [], [], [], []
        for q, want_scored in zip(qs, exact):
            t = time.perf_counter()
            got_scored = catalog.keyword_search(q, 50, budget=budget)
            times.append(time.perf_counter() - t)
            want, got = [r for r, _ in want_scored], [r for r, _ in got_scored]
            if want:
                recall.append(len(set(want[:10]) & set(got)) / len(want[:10]))
                wanted = {story(r) for r in want[:10]}
                stories.append(len(wanted & {story(r) for r in got}) / len(wanted))
                ratio.append(sum(sc for _, sc in got_scored[:10]) / sum(sc for _, sc in want_scored[:10]))
                top1.append(bool(got) and got[0] == want[0])
        k = max(1, len(recall))
        out["budgets"][budget] = {"exhaustive_top10_in_top50": round(sum(recall) / k, 3),
                                  "exhaustive_top10_stories_in_top50": round(sum(stories) / k, 3),
                                  "top10_bm25_share": round(sum(ratio) / k, 4),
                                  "top1_same": round(sum(top1) / k, 3), "ms": pct(times)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    st = sub.add_parser("stages", help="where a keyword search's time goes")
    st.add_argument("--home", type=Path, required=True)
    st.add_argument("--questions", type=int, default=200)
    st.add_argument("--json")
    pr = sub.add_parser("pruning", help="what pruning common words changes in the ranking")
    pr.add_argument("--home", type=Path, required=True)
    pr.add_argument("--questions", type=int, default=60)
    pr.add_argument("--budgets", default="80000,40000,20000")
    pr.add_argument("--pool", type=int, help="passages the rare words bring to the rescoring (keywords._POOL)")
    pr.add_argument("--rare-share", type=float, help="share of the budget the rare words may use (keywords._RARE_SHARE)")
    pr.add_argument("--json")
    args = ap.parse_args(argv)
    if args.what == "stages":
        emit(stages(args.home, args.questions), args.json)
    else:
        emit(pruning(args.home, args.questions, [int(b) for b in args.budgets.split(",")], args.pool,
                     args.rare_share), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
