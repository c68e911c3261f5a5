"""How long a question takes, and how memory grows, at 10,000 / 100,000 / 1,000,000 passages; how fast an added
article is answered by a running server; how long `python app.py` takes to serve its page.

    # grow a copy of an ingested store and measure it at each size (serving, keyword index from nothing, cold start)
    python benchmarks/query_bench.py --store STORE [--sizes 10000 100000] [--queries 200] [--work DIR] [--json OUT]
    # grow a store in place to N passages (kept: copy it between sizes to keep each one)
    python benchmarks/query_bench.py --grow HOME --size 1000000
    # measure a grown store, each step in a fresh process, the load average recorded before and after each
    python benchmarks/query_bench.py --home HOME [--queries 200] [--skip serve update keywords] [--as-of 60] \
        [--json benchmarks/results/query_bench_1m.json]

SYNTHETIC beyond the real passages. STORE is an ingested NEWSRAG_HOME (e.g. the realtimeqa store kept by
`ingest_bench.py --keep`); it is copied, never changed. The copy is grown to each size with `common.variant`:
articles of the store with their sentences shuffled and one word in ten replaced by another word of the corpus,
dated across Sep-Nov 2023, chunked by newsrag's chunker, and given the original passages' real vectors plus
Gaussian noise (cosine ~0.9 to the original), re-normalised. They are written through the Index as ingest writes
(staged, vectors, made live with their keywords), without the embedding step (embedding 1M passages for real
would take days on two cores).

The steps, each in a process of its own: `serve` opens the store and asks real questions (realtimeqa's, then
MultiHop-RAG's) through Assistant.ask with the extractive answerer after one untimed first answer, and reports
p50/p95 per stage and its peak RSS; `update` runs `update_bench.py` (one article added beside a running server);
`keywords` builds the keyword index (SQLite FTS5) from nothing (seconds, peak RSS); `--as-of N` asks N realtimeqa
questions as of their question dates (a hard date filter on both searches, as `newsrag eval` asks them). With
--store, each size also times `python app.py` until its page answers and until its first answer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import DAY0, SHARED_EVAL, emit, load_average, machine, pct, variant  # noqa: E402
from common import questions as question_texts  # noqa: E402

__all__ = ["grow", "serve", "serve_as_of", "rebuild_keywords", "measure", "cold_start", "main"]

_NOISE = 0.025  # per dimension: |noise| ~ 0.49 for 384 dimensions -> cosine ~0.9 to the original vector
_WRITE_BATCH = 5000  # passages per Index.write: one catalog transaction, one Chroma batch


def grow(home: Path, target: int, *, seed: int = 0) -> dict:
    """Add synthetic articles to the store in `home` until it holds at least `target` passages."""

    from ingest.chunking import chunk_article
    from rag.core.settings import Settings
    from rag.index import Index

    settings = Settings(home=home)
    index = Index(settings)
    count = index.stats()["passages"]
    started, added = time.perf_counter(), 0
    # The real articles and their passage ids, read without loading the synthetic ones' texts (at 1M passages
    # listing every article with its text took minutes and gigabytes).
    all_ids = index.article_ids()
    by_article = {aid: index.passage_ids(aid) for aid in sorted(all_ids) if not aid.startswith("syn")}
    originals = [row.article for row in (index.get(aid) for aid in by_article) if row is not None and by_article[row.article.id]]
    last_round = max((int(aid[3:].split("-")[0]) for aid in all_ids if aid.startswith("syn")), default=0)
    if not index.quotes_indexed():
        # A store from before the quote index has its quotes derived by the next ingest, for every article: at
        # 1M passages that one-off upgrade would take hours and be timed as "adding one article". The real
        # articles get theirs here; synthetic ones carry none (like the MinHash signature, left out).
        from rag.attribution.quote_index import index_quotes

        index.put_quotes({a.id: index_quotes(a.id, a.text) for a in originals})
    vectors: dict[str, np.ndarray] = {}
    ids = [pid for a in originals for pid in by_article[a.id]]
    for lo in range(0, len(ids), 2000):
        vectors.update(index.passage_vectors(ids[lo:lo + 2000]))
    rng, nrng = random.Random(seed + count), np.random.default_rng(seed + count)
    vocab = [w for a in originals[:200] for w in a.text.split() if w.isalpha() and len(w) > 3]
    round_no = 1 + last_round
    batch: list = []
    while count < target:
        for a in originals:
            if count >= target:
                break
            art = variant(a, "syn", round_no, vocab, rng)
            ps = chunk_article(art, min_words=settings.chunk_min_words, max_words=settings.chunk_max_words,
                               overlap=settings.chunk_overlap_sentences)
            src = [vectors[pid] for pid in by_article[a.id]]
            vs = np.stack([src[j % len(src)] for j in range(len(ps))]) if ps else np.zeros((0, 384), np.float32)
            vs = vs + nrng.normal(0.0, _NOISE, vs.shape).astype(np.float32)
            vs /= np.linalg.norm(vs, axis=1, keepdims=True)
            batch.append((art, ps, vs))  # no MinHash signature: it would cost a quarter of the growth time
            count += len(ps)
            added += len(ps)
            if sum(len(b[1]) for b in batch) >= _WRITE_BATCH:
                _write(index, batch)
        round_no += 1
    _write(index, batch)
    return {"passages": index.stats()["passages"], "synthetic_added": added,
            "seconds": round(time.perf_counter() - started, 1)}


def _write(index, batch: list) -> None:
    """Through the Index, as ingest writes: staged, vectors in, made live with its keywords in one step."""
    from rag.index import Staged

    if not batch:
        return
    index.write([Staged(a, ps) for a, ps, _ in batch], np.concatenate([v for _, _, v in batch]))
    batch.clear()


def serve(home: Path, n_queries: int) -> dict:
    """In this process: open the store, load (or build) the keyword index, ask `n_queries` questions.

    With n_queries 0 it only builds what the first question would (the BM25 index of a grown store)."""
    t0 = time.perf_counter()
    from rag.answer.assistant import Assistant
    from rag.core.errors import NewsragError
    from rag.core.settings import Settings

    assistant = Assistant.from_settings(Settings.from_env(home=home, llm="extractive"))
    opened = time.perf_counter() - t0
    t = time.perf_counter()
    assistant.index.warm()  # the keyword index is SQLite FTS5: nothing to build; the vector index loads here
    keyword_ready = time.perf_counter() - t
    out = {"passages": assistant.stats()["passages"], "open_seconds": round(opened, 2),
           "keyword_index_seconds": round(keyword_ready, 2)}
    if n_queries:
        questions = question_texts(n_queries + 1)
        t = time.perf_counter()
        assistant.ask(questions[0])  # the first answer (lazy loads, first model call): timed apart
        out["first_answer_seconds"] = round(time.perf_counter() - t, 2)
        out["cold_to_first_answer_seconds"] = round(time.perf_counter() - t0, 2)
        timings: dict[str, list[float]] = {}
        dated: dict[str, list[float]] = {}
        refused = errors = 0
        for q in questions[1:]:
            try:
                answer = assistant.ask(q)
            except NewsragError:
                errors += 1
                continue
            refused += answer.refused
            plan = assistant.retriever.plan(q)
            group = "dated" if (plan.recent or getattr(plan, "prefer_since", None)
                                or getattr(plan, "prefer_until", None)) else "undated"
            dated.setdefault(group, []).append(answer.timings["total"])
            for k, v in answer.timings.items():
                timings.setdefault(k, []).append(v)
        out.update({"queries": len(timings.get("total", [])), "refused": refused, "errors": errors,
                    "latency_ms": {k: pct(v) for k, v in timings.items()},
                    "total_ms_by_dates": {k: pct(v) for k, v in dated.items()}})
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    return out


def rebuild_keywords(home: Path) -> dict:
    """In this process: build the keyword index (FTS5) of the store from nothing; seconds and peak RSS."""
    from rag.index.sqlite_catalog import SqliteCatalog

    catalog = SqliteCatalog(home)
    t = time.perf_counter()
    n = catalog.rebuild_keywords()
    return {"passages": n, "keyword_index_seconds": round(time.perf_counter() - t, 2),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}


def _serve_process(home: Path, queries: int, threads: int = 0) -> dict:
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    mode = ["--serve", str(home), "--queries", str(queries)] if queries >= 0 else ["--rebuild-keywords", str(home)]
    run = subprocess.run([sys.executable, __file__, *mode],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(run.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(home: Path, timeout: float = 300.0, question: str = "What happened this week?") -> dict:
    """Seconds from `python app.py` to its port answering HTTP, and to its first answer through the web API
    (the /ask endpoint, with gradio_client, asked as soon as the page answers), on the store in `home`."""
    app = ROOT / "app.py"
    if not app.exists():
        return {"measured": "app.py missing"}
    from gradio_client import (
        Client,  # imported before the clock starts: its import is not the app's
    )

    port = _free_port()
    env = {**os.environ, "NEWSRAG_HOME": str(home), "NEWSRAG_LLM": "extractive", "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(app), "--port", str(port)], cwd=str(ROOT), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = answered = None
    try:
        while time.perf_counter() - t0 < timeout and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status < 500:
                        seconds = time.perf_counter() - t0
                        break
            except OSError:
                time.sleep(0.1)
        if seconds is not None:
            Client(f"http://127.0.0.1:{port}/", verbose=False).predict(question, api_name="/ask")
            answered = time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    out = {"measured": "python app.py until GET / answers; then until its first answer through /ask",
           "seconds": round(seconds, 2) if seconds else None,
           "first_answer_seconds": round(answered, 2) if answered else None}
    if seconds is None:
        out["stderr_tail"] = err.decode(errors="replace")[-500:]
    return out


def serve_as_of(home: Path, n_questions: int) -> dict:
    """In this process: realtimeqa's questions, each asked as of its question_date, through the whole Assistant."""
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings
    from rag.eval.metrics import load_jsonl
    from rag.eval.run import _question_date

    a = Assistant.from_settings(Settings.from_env(home=home, llm="extractive"))
    a.index.warm()
    qs = [(q["question"], _question_date(q))
          for q in load_jsonl(SHARED_EVAL / "realtimeqa" / "questions.jsonl")][: n_questions + 1]
    a.ask(qs[0][0], as_of=qs[0][1])  # the first answer: untimed
    timings: dict[str, list[float]] = {}
    for text, day in qs[1:]:
        answer = a.ask(text, as_of=day)
        for k, v in answer.timings.items():
            timings.setdefault(k, []).append(v)
    return {"passages": a.stats()["passages"], "questions": len(qs) - 1,
            "latency_ms": {k: pct(v) for k, v in timings.items()},
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}


def _step(name: str, cmd: list[str]) -> dict:
    """One measuring step in a fresh process, with the load average before and after it."""
    before, t = load_average(), time.perf_counter()
    run = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, check=True, cwd=ROOT)
    out = json.loads(run.stdout[run.stdout.index("{"):]) if name == "update" else json.loads(
        run.stdout.strip().splitlines()[-1])
    out["load_before"], out["load_after"] = before, load_average()
    out["wall_seconds"] = round(time.perf_counter() - t, 1)
    print(f"{name}: {json.dumps(out)[:600]}", flush=True)
    return out


def measure(home: Path, queries: int, skip: list[str], as_of: int = 0) -> dict:
    """A grown store's serving latency, one article added beside a running server, and the keyword index built
    from nothing; each step in a fresh process."""
    report: dict = {"benchmark": "query latency at scale", "home": str(home), "synthetic": True,
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine()}
    me, ub = str(Path(__file__).resolve()), str(ROOT / "benchmarks" / "update_bench.py")
    if "serve" not in skip:
        report["serve"] = _step("serve", [me, "--serve", str(home), "--queries", str(queries)])
    if "update" not in skip:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "update.json"
            report["update"] = _step("update", [ub, "--home", str(home), "--json", str(out)])
    if "keywords" not in skip:
        report["keyword_build"] = _step("keywords", [me, "--rebuild-keywords", str(home)])
    if as_of:
        report["as_of"] = _step("as_of", [me, "--serve-as-of", str(home), "--queries", str(as_of)])
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", type=Path, help="an ingested NEWSRAG_HOME to grow a copy of (not changed)")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--grow", type=Path, help="grow this store in place to --size passages")
    p.add_argument("--size", type=int, default=1_000_000)
    p.add_argument("--home", type=Path, help="measure this (grown) store: serve, update, keywords")
    p.add_argument("--skip", nargs="*", default=[], choices=["serve", "keywords", "update"])
    p.add_argument("--as-of", type=int, default=0, metavar="N",
                   help="with --home: also ask N realtimeqa questions as of their question dates")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--json", type=Path)
    p.add_argument("--threads", type=int, default=0,
                   help="with --store: also serve with OMP_NUM_THREADS=N, right after the default run")
    p.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # internal: measure serving in a fresh process
    p.add_argument("--serve-as-of", type=Path, help=argparse.SUPPRESS)  # internal: as-of questions
    p.add_argument("--rebuild-keywords", type=Path, help=argparse.SUPPRESS)  # internal: keyword build from nothing
    p.add_argument("--work", type=Path, help="with --store: grow the store here and keep it; reused if it exists "
                   "(default: a temporary folder, removed after)")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.serve:
        print(json.dumps(serve(args.serve, args.queries)))
        return 0
    if args.serve_as_of:
        print(json.dumps(serve_as_of(args.serve_as_of, args.queries)))
        return 0
    if args.rebuild_keywords:
        print(json.dumps(rebuild_keywords(args.rebuild_keywords)))
        return 0
    if args.grow:
        emit(grow(args.grow, args.size), args.json)
        return 0
    if args.home:
        report = measure(args.home, args.queries, args.skip, args.as_of)
        if args.json:
            emit(report, args.json)
        return 0
    if not args.store:
        p.error("one of --store, --grow or --home is required")

    tmp = Path(tempfile.mkdtemp(prefix="newsrag-query-bench-"))
    work = args.work or tmp / "home"
    try:
        if not work.exists():  # an existing --work folder is reused (grown further only if smaller)
            shutil.copytree(args.store, work, ignore=shutil.ignore_patterns("eval-baseline-plain", "ingest.lock"))
        results = []
        for size in sorted(args.sizes):
            grown = grow(work, size)
            print(f"grown to {grown['passages']} passages (+{grown['synthetic_added']} synthetic) in "
                  f"{grown['seconds']} s", flush=True)
            built = _serve_process(work, -1)  # the keyword index built from nothing, in a process of its own
            served = _serve_process(work, args.queries)  # a fresh serving process on the indexed store
            served["index_build"] = built
            variant_run = _serve_process(work, args.queries, args.threads) if args.threads else None
            cold = cold_start(work)
            lat = served["latency_ms"]
            print(f"  {served['passages']} passages: total p50 {lat['total']['p50']} ms, p95 {lat['total']['p95']} ms; "
                  f"retrieve p95 {lat['retrieve']['p95']} ms; peak RSS {served['peak_rss_mib']:.0f} MiB "
                  f"(keyword index from nothing: {built['keyword_index_seconds']} s, {built['peak_rss_mib']:.0f} MiB); "
                  f"app.py cold start {cold.get('seconds')} s (first answer at {cold.get('first_answer_seconds')} s)", flush=True)
            if variant_run:
                vl = variant_run["latency_ms"]
                print(f"  with {args.threads} thread(s): total p50 {vl['total']['p50']} ms, "
                      f"p95 {vl['total']['p95']} ms; embed p95 {vl['embed']['p95']} ms", flush=True)
            results.append({"target": size, "grow": grown, "serve": served, "cold_start": cold,
                            **({f"serve_threads_{args.threads}": variant_run} if variant_run else {})})
        report = {"benchmark": "query", "base_store": str(args.store), "answerer": "extractive",
                  "synthetic": {"noise_per_dim": _NOISE, "words_replaced": 0.1, "sentences": "shuffled",
                                "dates": f"random days from {DAY0} (91 days)", "vectors": "real + noise, unit length"},
                  "sizes": results, "machine": machine()}
        if args.json:
            emit(report, args.json)
    finally:
        if not args.work:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
