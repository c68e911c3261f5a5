"""The keyword index (SQLite FTS5) alone at up to 1,000,000 passages: growing it article by article, building it
from nothing, and searching it.

    python benchmarks/keyword_bench.py --store STORE --sizes 100000 1000000 [--work DIR] [--json OUT]

STORE is an ingested NEWSRAG_HOME; only its catalog is copied. The catalog is grown with synthetic articles
(the same recipe as query_bench.py: real articles with sentences shuffled and one word in ten replaced, random
dates over 91 days) written through the catalog's staged swap exactly as ingest does, keyword rows included,
but WITHOUT vectors: embedding or even inserting a million vectors into Chroma is out of reach on this machine,
so the dense half is not measured here. At each size it reports: the growth rate (passages/s, keywords
included), adding one article (stage + commit), the keyword search's p50/p95 over 200 real questions without and
with a date range, and, in a fresh process, building the keyword index from nothing (seconds, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from query_bench import _pct, _questions, _variant, rebuild_keywords  # noqa: E402


def _catalog(home: Path):
    from rag.index.sqlite_catalog import SqliteCatalog

    return SqliteCatalog(home)


def grow(home: Path, target: int, seed: int = 0) -> dict:
    from ingest.chunking import chunk_article
    from rag.core.settings import Settings
    from rag.index import Staged

    settings = Settings(home=home)
    catalog = _catalog(home)
    count = catalog.stats()["passages"]
    originals = [r.article for r in catalog.articles(include_duplicates=False) if not r.article.id.startswith("kw")]
    rng = random.Random(seed + count)
    vocab = [w for a in originals[:200] for w in a.text.split() if w.isalpha() and len(w) > 3]
    round_no = 1 + count // max(1, len(originals))
    started, added, batch = time.perf_counter(), 0, []
    while count < target:
        for a in originals:
            if count >= target:
                break
            art = _variant(a, "kw", round_no, vocab, rng, "kw/")
            ps = chunk_article(art, min_words=settings.chunk_min_words, max_words=settings.chunk_max_words,
                               overlap=settings.chunk_overlap_sentences)
            batch.append(Staged(art, ps))
            count += len(ps)
            added += len(ps)
            if sum(len(s.passages) for s in batch) >= 2000:
                catalog.commit(catalog.stage(batch))
                catalog.clear_trash(catalog.trash())
                batch = []
        round_no += 1
    if batch:
        catalog.commit(catalog.stage(batch))
    seconds = time.perf_counter() - started
    return {"passages": catalog.stats()["passages"], "synthetic_added": added, "seconds": round(seconds, 1),
            "passages_per_s": round(added / seconds, 1) if seconds else None}


def search(home: Path, n: int = 200) -> dict:
    from rag.index import day_number

    catalog = _catalog(home)
    questions = _questions(n + 1)
    catalog.keyword_search(questions[0], 50)
    plain, dated = [], []
    since, until = day_number("2023-10-01"), day_number("2023-10-31")
    for q in questions[1:]:
        t = time.perf_counter()
        catalog.keyword_search(q, 50)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        catalog.keyword_search(q, 25, since_day=since, until_day=until)
        dated.append(time.perf_counter() - t)
    # adding one article, keywords included (stage + commit), and removing it again
    src = catalog.articles(include_duplicates=False, limit=1)[0].article
    from ingest.chunking import chunk_article
    from rag.index import Staged

    art = replace(src, id="kw-one", url="https://synthetic.example/kw-one", content_hash="kw-one")
    t = time.perf_counter()
    catalog.commit(catalog.stage([Staged(art, chunk_article(art))]))
    add = time.perf_counter() - t
    t = time.perf_counter()
    catalog.remove(["kw-one"])
    remove = time.perf_counter() - t
    catalog.clear_trash(catalog.trash())
    return {"keyword_ms": _pct(plain), "keyword_dated_ms": _pct(dated), "add_one_article_s": round(add, 3),
            "remove_one_article_s": round(remove, 3),
            "catalog_mib": round((home / "catalog.sqlite").stat().st_size / 2**20, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}


def rebuild(home: Path) -> dict:
    """query_bench's keyword rebuild, reported under this benchmark's keys."""
    r = rebuild_keywords(home)
    return {"passages": r["passages"], "seconds": round(r["keyword_index_seconds"], 1),
            "peak_rss_mib": r["peak_rss_mib"]}


def _in_process(mode: str, home: Path) -> dict:
    run = subprocess.run([sys.executable, __file__, f"--{mode}", str(home)], capture_output=True, text=True,
                         check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", type=Path)
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--work", type=Path, default=Path("/tmp/newsrag-keyword-bench"))
    p.add_argument("--json", type=Path)
    p.add_argument("--search", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--rebuild", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.search or args.rebuild:
        print(json.dumps(search(args.search) if args.search else rebuild(args.rebuild)))
        return 0
    if not args.work.exists():
        args.work.mkdir(parents=True)
        for f in args.store.glob("catalog.sqlite*"):  # with its WAL, if one is left
            shutil.copy(f, args.work / f.name)
    results = []
    for size in sorted(args.sizes):
        grown = grow(args.work, size)
        searched = _in_process("search", args.work)
        built = _in_process("rebuild", args.work)
        row = {"target": size, "grow": grown, "search": searched, "rebuild_from_nothing": built}
        print(json.dumps(row), flush=True)
        results.append(row)
        if args.json:
            args.json.write_text(json.dumps({"benchmark": "keyword (FTS5), no vectors", "synthetic": True,
                                             "sizes": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
