"""Ingest throughput against the raw embedding rate of the same model on the same passages, in one run.

    python benchmarks/ingest_bench.py [--articles ../shared/eval/realtimeqa/articles.jsonl] [--limit N]
                                      [--keep DIR] [--json benchmarks/results/ingest_bench_30.json]

The embedding model is loaded and warmed before the clock starts (its load time is reported apart), then
`Ingestor.ingest` runs on a fresh temporary store (load, clean, dedup, chunk, embed, Chroma, catalog); then
the very passage texts it embedded ("title\\ntext") are embedded again with the same model and batch size,
timed alone. The ratio ingest passages/s over raw passages/s says how much the pipeline costs around the
model (target: at least 85%). Peak RSS is the process's high-water mark at the end of the ingest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["run", "main"]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine  # noqa: E402

DEFAULT_ARTICLES = ROOT.parent / "shared" / "eval" / "realtimeqa" / "articles.jsonl"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def run(articles: Path, *, limit: int = 0, keep: Path | None = None) -> dict:
    """Ingest `articles` (first `limit` records) into a fresh store and measure; returns the result record."""
    from ingest import Ingestor
    from rag.core.settings import Settings
    from rag.index.embedder import Embedder

    tmp = Path(tempfile.mkdtemp(prefix="newsrag-ingest-bench-"))
    try:
        source = articles
        if limit:
            source = tmp / "articles.jsonl"
            with open(articles, encoding="utf-8") as f, open(source, "w", encoding="utf-8") as out:
                for n, line in enumerate(f):
                    if n >= limit:
                        break
                    out.write(line)
        n_records = sum(1 for line in open(source, encoding="utf-8") if line.strip())
        home = keep if keep else tmp / "home"
        if keep and keep.exists():
            raise SystemExit(f"{keep} exists: --keep needs a new folder (the ingest must start from empty)")
        settings = Settings(home=home, llm="extractive")

        t = time.perf_counter()
        embedder = Embedder.shared(settings.embedding_model, settings.embed_batch_size, settings.embedding_cache)
        embedder.embed(["warm-up sentence"] * settings.embed_batch_size)
        load_seconds = time.perf_counter() - t
        rss_before = _peak_rss_mib()

        ingestor = Ingestor(settings, embedder=embedder)
        report = ingestor.ingest([str(source)])
        rss_ingest = _peak_rss_mib()

        passages = ingestor.catalog.passages()
        texts = [f"{p.title}\n{p.text}" for p in passages]
        t = time.perf_counter()
        embedder.embed(texts)
        raw_seconds = time.perf_counter() - t

        counts = report.counts()
        stored = counts["added"] + counts["updated"]
        ingest_pps = report.passages / report.seconds if report.seconds else 0.0
        raw_pps = len(texts) / raw_seconds if raw_seconds else 0.0
        words = [len(p.text.split()) for p in passages]
        return {
            "benchmark": "ingest",
            "articles_file": str(articles), "limit": limit, "records": n_records,
            "ingest": {**counts, "passages": report.passages, "seconds": round(report.seconds, 2),
                       "embed_seconds": round(report.embed_seconds, 2)},
            "articles_per_s": round(n_records / report.seconds, 2) if report.seconds else None,
            "stored_articles_per_s": round(stored / report.seconds, 2) if report.seconds else None,
            "passages_per_s": round(ingest_pps, 2),
            "raw_embed": {"passages": len(texts), "seconds": round(raw_seconds, 2),
                          "passages_per_s": round(raw_pps, 2), "batch_size": embedder.batch_size,
                          "model": embedder.name},
            "ratio_ingest_to_raw": round(ingest_pps / raw_pps, 3) if raw_pps else None,
            "embed_share_of_ingest": round(report.embed_seconds / report.seconds, 3) if report.seconds else None,
            "passage_words": {"mean": round(sum(words) / len(words), 1) if words else 0,
                              "max": max(words, default=0)},
            "model_load_seconds": round(load_seconds, 2),
            "peak_rss_mib": {"after_model_load": round(rss_before, 1), "after_ingest": round(rss_ingest, 1)},
            "machine": machine(),
            "kept_store": str(keep) if keep else None,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _print(r: dict) -> None:
    i = r["ingest"]
    print(f"records {r['records']}: added {i['added']}, duplicates {i['duplicates']}, failed {i['failed']}, "
          f"{i['passages']} passages in {i['seconds']} s (embedding {i['embed_seconds']} s)")
    print(f"ingest   {r['articles_per_s']} articles/s, {r['passages_per_s']} passages/s")
    print(f"raw      {r['raw_embed']['passages_per_s']} passages/s (same model, batch {r['raw_embed']['batch_size']})")
    print(f"ratio    {r['ratio_ingest_to_raw']:.1%} (target >= 85%)")
    print(f"peak RSS {r['peak_rss_mib']['after_ingest']:.0f} MiB (model loaded: {r['peak_rss_mib']['after_model_load']:.0f})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    p.add_argument("--limit", type=int, default=0, help="only the first N records")
    p.add_argument("--keep", type=Path, help="ingest into this new folder and keep it (for query_bench/eval)")
    p.add_argument("--json", type=Path, help="write the result here")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = run(args.articles, limit=args.limit, keep=args.keep)
    _print(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
