"""How much the keyword search's pruning of common words changes its ranking, on a real store: for each question,
the exhaustive FTS5 BM25 ranking (every question word matched) against the pruned one the Index uses, at a few
budgets. Reports, per budget: the share of the exhaustive top 10 found in the pruned top 50 (what the fusion
sees); the same by story (a synthetic variant "syn3-<id>" counts as story <id>: in a grown store each story has
a hundred near-identical variants whose order among themselves is noise); the pruned top 10's summed BM25 over
the exhaustive top 10's (both are full BM25 over every word); top-1 agreement; latency p50/p95. Reads the catalog
only (nothing is written once it is open).

    python benchmarks/keyword_pruning.py --home /tmp/i15s/grow --questions 60 --json out.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_bench import _pct, _questions, emit  # noqa: E402

from rag.index import keywords  # noqa: E402
from rag.index.sqlite_catalog import SqliteCatalog  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--budgets", default="80000,40000,20000")
    ap.add_argument("--pool", type=int, help="passages the rare words bring to the rescoring (keywords._POOL)")
    ap.add_argument("--rare-share", type=float, help="share of the budget the rare words may use (keywords._RARE_SHARE)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    if args.pool:
        keywords._POOL = args.pool
    if args.rare_share:
        keywords._RARE_SHARE = args.rare_share
    catalog = SqliteCatalog(args.home)
    qs = _questions(args.questions + 1)[1:]
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
           "exhaustive_ms": _pct(t_exact), "budgets": {}}
    for budget in (int(b) for b in args.budgets.split(",")):
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
        n = max(1, len(recall))
        out["budgets"][budget] = {"exhaustive_top10_in_top50": round(sum(recall) / n, 3),
                                  "exhaustive_top10_stories_in_top50": round(sum(stories) / n, 3),
                                  "top10_bm25_share": round(sum(ratio) / n, 4),
                                  "top1_same": round(sum(top1) / n, 3), "ms": _pct(times)}
    emit(out, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
