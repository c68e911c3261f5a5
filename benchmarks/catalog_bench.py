"""The PostgreSQL catalog beside the SQLite one: keyword search latency at a realistic size, and how long an
article committed by one process takes to reach other replicas.

    python benchmarks/catalog_bench.py keywords --url postgresql://… --passages 100000 [--work DIR] [--queries 200]
                                               [--budget 80000]
    python benchmarks/catalog_bench.py propagation --url postgresql://… --chroma HOST:PORT [--rounds 20]

`keywords`: SYNTHETIC passages. realtimeqa's 1,014 pages (../shared/eval) are copied with their sentences
shuffled, one word in ten replaced by another word of the corpus and a random date in Sep-Nov 2023 (query_bench's
recipe), chunked by newsrag's chunker and written through each catalog's staged write (keywords included,
no vectors) until each holds `--passages` passages: once into SQLite (FTS5) under --work, once into PostgreSQL
(tsvector + GIN) at --url (an empty database). Then the same real questions (realtimeqa's, then MultiHop-RAG's)
are searched in each, k 50 without a filter and k 25 within a one-month date range, after one untimed search;
p50/p95 in ms, one process, one thread, nothing else running on purpose.

`propagation`: one writer and two reader processes (the replicas), each with its own Index on the same catalog
and Chroma server. Each round the writer commits a new article (its vectors given, nothing embedded) and the
readers, polling every 10 ms, note when both searches (keyword and dense) find it. Reported: the time from the
writer's write() returning to the later reader seeing it (negative: seen before write() had returned, which also
deletes retired vectors after the commit), p50/p95/max over the rounds.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import pct, questions, variant  # noqa: E402

ARTICLES = ROOT.parent / "shared" / "eval" / "realtimeqa" / "articles.jsonl"


def _originals():
    from rag.core.schema import Article

    out = []
    for line in ARTICLES.open(encoding="utf-8"):
        r = json.loads(line)
        out.append(Article(id=r["id"], title=r["title"], text=r["body"], source=r.get("source"), url=r.get("url"),
                           published_at=None, author=None, credited_source=None,
                           ingested_at="2023-12-01T00:00:00+00:00", content_hash=r["id"], origin="synthetic"))
    return out


def grow(catalog, target: int, seed: int = 0) -> dict:
    """Write synthetic articles into `catalog` until it holds `target` passages; returns the rate."""
    from ingest.chunking import chunk_article
    from rag.index import Staged

    originals = _originals()
    rng = random.Random(seed)
    vocab = [w for a in originals[:200] for w in a.text.split() if w.isalpha() and len(w) > 3]
    count, round_no, batch, started = 0, 1, [], time.perf_counter()
    while count < target:
        for a in originals:
            if count >= target:
                break
            art = variant(a, "syn", round_no, vocab, rng)
            ps = chunk_article(art)
            if not ps:
                continue
            batch.append(Staged(art, ps))
            count += len(ps)
            if sum(len(s.passages) for s in batch) >= 2000:
                catalog.commit(catalog.stage(batch))
                batch = []
        round_no += 1
    if batch:
        catalog.commit(catalog.stage(batch))
    catalog.clear_trash(catalog.trash())
    seconds = time.perf_counter() - started
    return {"passages": catalog.stats()["passages"], "seconds": round(seconds, 1),
            "passages_per_s": round(count / seconds, 1)}


def search(catalog, n: int, budget: int) -> dict:
    from rag.index import day_number

    qs = questions(n + 1)
    catalog.keyword_search(qs[0], 50, budget=budget)
    plain, dated = [], []
    since, until = day_number("2023-10-01"), day_number("2023-10-31")
    for q in qs[1:]:
        t = time.perf_counter()
        catalog.keyword_search(q, 50, budget=budget)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        catalog.keyword_search(q, 25, since_day=since, until_day=until, budget=budget)
        dated.append(time.perf_counter() - t)
    return {"keyword_ms": pct(plain), "keyword_dated_ms": pct(dated), "questions": len(plain)}


def keywords(args) -> dict:
    from rag.index.pg.catalog import PgCatalog
    from rag.index.sqlite_catalog import SqliteCatalog

    work = Path(args.work or tempfile.mkdtemp(prefix="newsrag-catalog-bench-"))
    out = {"benchmark": "keyword search, SQLite FTS5 beside PostgreSQL tsvector + GIN", "synthetic": True,
           "passages_target": args.passages, "postings_budget": args.budget}
    for name, make in (("sqlite_fts5", lambda: SqliteCatalog(work / "sqlite")),
                       ("postgresql", lambda: PgCatalog(args.url))):
        catalog = make()
        have = catalog.stats()["passages"]
        grown = grow(catalog, args.passages) if have < args.passages else {"passages": have, "reused": True}
        out[name] = {"grow": grown, "search": search(catalog, args.queries, args.budget)}
        catalog.close()
        print(json.dumps({name: out[name]}), flush=True)
    return out


# -- propagation ----------------------------------------------------------------------------------------------
_READER = """
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from rag.index import Index
from rag.core.settings import Settings
s = Settings(home=sys.argv[2], catalog_url=sys.argv[3], chroma_host=sys.argv[4], chroma_port=int(sys.argv[5]),
             collection="propagation")
index = Index(s)
print("ready", flush=True)
for line in sys.stdin:
    word, vec = json.loads(line)
    vec = np.asarray(vec, dtype=np.float32)
    while not (index.keyword(word, 5) and any(h.article_id == word for h in index.dense(vec, 3))):
        time.sleep(0.01)
    print(json.dumps(time.time()), flush=True)
"""


def propagation(args) -> dict:
    from rag.core.schema import Article, Passage
    from rag.core.settings import Settings
    from rag.index import Index, Staged

    host, _, port = args.chroma.rpartition(":")
    work = Path(tempfile.mkdtemp(prefix="newsrag-propagation-"))
    settings = Settings(home=work / "writer", catalog_url=args.url, chroma_host=host, chroma_port=int(port),
                        collection="propagation")
    writer = Index(settings)
    readers = [subprocess.Popen([sys.executable, "-c", _READER, str(ROOT), str(work / f"r{i}"), args.url, host, port],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for i in range(2)]
    for r in readers:
        assert r.stdout.readline().strip() == "ready"
    rng = np.random.default_rng(0)
    lags, lags_from_start = [], []
    for i in range(args.rounds):
        word = f"propagationmarker{i}x{rng.integers(1 << 30)}"
        text = f"The council met and the {word} plan was read aloud to residents on the pier. " * 3
        vec = rng.normal(size=384).astype(np.float32)
        vec /= np.linalg.norm(vec)
        for r in readers:
            r.stdin.write(json.dumps([word, vec.tolist()]) + "\n")
            r.stdin.flush()
        time.sleep(0.2)  # the readers are polling before the write
        art = Article(id=word, title=f"Pier plan {i}", text=text, source="Bench", url=None, published_at=None,
                      author=None, credited_source=None, ingested_at="2023-12-01T00:00:00+00:00",
                      content_hash=word, origin="synthetic")
        p = Passage(f"{word}:0", word, 0, 0, len(text), text, art.title, "Bench", None, None, None)
        start = time.time()
        writer.write([Staged(art, [p])], vectors=vec[None, :])
        done = time.time()
        seen = [json.loads(r.stdout.readline()) for r in readers]
        lags.append(max(seen) - done)
        lags_from_start.append(max(seen) - start)
    for r in readers:
        r.stdin.close()
        r.wait(30)
    writer.close()
    ms = lambda xs: {"p50": round(float(np.percentile(xs, 50)) * 1000, 1),  # noqa: E731
                     "p95": round(float(np.percentile(xs, 95)) * 1000, 1), "max": round(max(xs) * 1000, 1)}
    return {"benchmark": "replica propagation", "rounds": args.rounds, "replicas": 2,
            "ms_after_write_returned": ms(lags), "ms_after_write_started": ms(lags_from_start)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    k = sub.add_parser("keywords")
    k.add_argument("--url", required=True)
    k.add_argument("--passages", type=int, default=100_000)
    k.add_argument("--queries", type=int, default=200)
    k.add_argument("--work")
    k.add_argument("--budget", type=int, default=80_000, help="NEWSRAG_KEYWORD_POSTINGS for the searches")
    k.add_argument("--json", type=Path)
    r = sub.add_parser("propagation")
    r.add_argument("--url", required=True)
    r.add_argument("--chroma", required=True)
    r.add_argument("--rounds", type=int, default=20)
    r.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    out = keywords(args) if args.mode == "keywords" else propagation(args)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
