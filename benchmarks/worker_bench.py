"""Ingest throughput with one and with two `newsrag worker` processes on one PostgreSQL catalog and Chroma server.

    python benchmarks/worker_bench.py [--articles ../shared/eval/realtimeqa/articles.jsonl] [--limit 240]
                                      [--jobs 8] [--threads 1] [--json benchmarks/results/worker_bench.json]

For each worker count (1, then 2) it starts a fresh PostgreSQL database and a fresh `chroma run` on 127.0.0.1,
starts the workers and waits until each has loaded its model (the load is not timed: a worker loads once and then
takes jobs for as long as it runs), then submits `--jobs` jobs of the same articles (a JSONL file each, the first
`--limit` articles split evenly) and times from the first submit until no job is waiting or running. It reports
passages per second, the workers' CPU seconds per passage (what one more core would buy), and the jobs' states.
Each worker's torch and BLAS use `--threads` threads, so two workers on two cores compete for nothing but the
catalog and the Chroma server. Real data (realtimeqa's articles), real servers; nothing synthetic.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED_EVAL, emit, load_average, machine  # noqa: E402
from tests.chroma_run import ChromaServer  # noqa: E402 - the tests' `chroma run` on 127.0.0.1
from tests.pg_server import PgServer, find_bin  # noqa: E402 - the tests' throwaway PostgreSQL in a temp folder

__all__ = ["main", "run"]


def _split(articles: Path, limit: int, jobs: int, folder: Path) -> list[str]:
    lines = [ln for ln in articles.read_text(encoding="utf-8").splitlines() if ln.strip()][:limit]
    paths = []
    for j in range(jobs):
        p = folder / f"part{j}.jsonl"
        p.write_text("\n".join(lines[j::jobs]) + "\n", encoding="utf-8")
        paths.append(str(p))
    return paths


def run_once(server: PgServer, parts: list[str], workers: int, threads: int, timeout: float) -> dict:
    from rag.index.pg.catalog import PgCatalog

    url, home = server.new_database(), Path(tempfile.mkdtemp(prefix="newsrag-workers-"))
    chroma = ChromaServer(home / "chroma")
    catalog = PgCatalog(url)  # creates the schema before any worker starts
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "NEWSRAG_CATALOG_URL": url,
           "NEWSRAG_CHROMA_HOST": "127.0.0.1", "NEWSRAG_CHROMA_PORT": str(chroma.port), "OMP_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    procs, logs, handles = [], [], []
    try:
        for w in range(workers):
            log = home / f"worker{w}.log"
            logs.append(log)
            handles.append(log.open("w"))
            procs.append(subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", "worker"],
                                          env={**env, "NEWSRAG_HOME": str(home / f"w{w}")}, cwd=ROOT,
                                          stdout=subprocess.DEVNULL, stderr=handles[-1]))
        deadline = time.time() + 300
        while not all("taking jobs" in lg.read_text(errors="replace") for lg in logs):  # model loaded, polling
            if time.time() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit("a worker did not start: " + " | ".join(lg.read_text()[-400:] for lg in logs))
            time.sleep(0.5)
        queue = catalog.job_queue()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        ids = [queue.submit([p], host=socket.gethostname()) for p in parts]
        while True:
            st = queue.status()
            if st["waiting"] == 0 and st["running_jobs"] == 0:
                break
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"jobs not done after {timeout} s: {st}")
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
        states = [queue.get(i).state for i in ids]
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for h in handles:
            h.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers' CPU, model load included
    stats = catalog.stats()
    passages, articles = stats["passages"], stats["articles"] + stats["duplicates"]
    catalog.close()
    chroma.close()
    shutil.rmtree(home, ignore_errors=True)  # the Chroma server's folder with it
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"workers": workers, "threads_per_worker": threads, "jobs": len(parts), "job_states": states,
            "articles": articles, "passages": passages, "seconds": round(seconds, 1),
            "passages_per_s": round(passages / seconds, 2), "worker_cpu_s_incl_load": round(cpu, 1),
            "load_average_after": load_average()}


def run(articles: Path, *, limit: int, jobs: int, threads: int, counts: list[int], timeout: float) -> dict:
    bindir = find_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found: apt-get install -y postgresql")
    server = PgServer(bindir)
    try:
        with tempfile.TemporaryDirectory() as d:
            parts = _split(articles, limit, jobs, Path(d))
            rows = [run_once(server, parts, n, threads, timeout) for n in counts]
    finally:
        server.close()
    base = rows[0]["passages_per_s"]
    for r in rows:
        r["speedup_vs_first"] = round(r["passages_per_s"] / base, 2)
    return {"benchmark": "worker_bench", "data": str(articles.name), "limit": limit, "rows": rows,
            "machine": machine()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=Path, default=SHARED_EVAL / "realtimeqa" / "articles.jsonl")
    ap.add_argument("--limit", type=int, default=240, help="the first N articles")
    ap.add_argument("--jobs", type=int, default=8, help="split into this many jobs")
    ap.add_argument("--threads", type=int, default=1, help="torch / BLAS threads per worker")
    ap.add_argument("--workers", default="1,2", help="worker counts to run, in order")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--json", help="write the result here")
    a = ap.parse_args(argv)
    out = run(a.articles, limit=a.limit, jobs=a.jobs, threads=a.threads,
              counts=[int(x) for x in a.workers.split(",")], timeout=a.timeout)
    emit(out, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
