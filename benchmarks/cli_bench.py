"""How long a newcomer waits at the terminal: `newsrag ask` with no server, `newsrag ask` while a `newsrag serve`
runs on the same home, and the first `rag.ask()` in a fresh interpreter. Each is a fresh process timed from
its start to its exit (interpreter start-up, imports, opening the store, the answer and printing it).

    python benchmarks/cli_bench.py                       # the bundled sample, in a temporary home
    python benchmarks/cli_bench.py --store STORE --runs 5 --json benchmarks/results/cli_bench_rtqa.json

`--store` is copied first (nothing is written to it). The figures are in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "news"
QUESTION = "What did Kardashian say about Balenciaga?"
FIRST_ASK = "import sys, rag; a = rag.ask(sys.argv[1]); print(len(a.citations))"


def _env(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    return {**keep, "NEWSRAG_HOME": str(home), "NEWSRAG_LLM": "extractive", "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(ROOT)}


CPU: list[float] = []  # CPU seconds (user + system) of each timed process, beside its wall time


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(cmd: list[str], env: dict[str, str], timeout: float = 300) -> float:
    """Wall seconds of one process run; its CPU seconds go to CPU (they do not grow with the machine's load)."""
    c0, t0 = _cpu_children(), time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    CPU.append(_cpu_children() - c0)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… failed ({out.returncode}): {out.stderr[-800:]}")
    return seconds


def _measure(cmd: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    CPU.clear()
    walls = [_timed(cmd, env) for _ in range(runs)]
    return {**_summary(walls), "cpu_median": round(statistics.median(CPU), 2)}


def _ask_cmd(question: str, *more: str) -> list[str]:
    return [sys.executable, "-m", "rag.frontends.cli", "ask", question, *more]


def top_imports(env: dict[str, str], question: str, n: int = 8) -> list[tuple[str, float]]:
    """The top-level packages whose import costs `newsrag ask` most (python -X importtime), in seconds."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "rag.frontends.cli", "ask", question, "--no-server"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    costs: dict[str, float] = {}
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and not m.group(2):  # a top-level import (not nested under another)
            name = m.group(3).split(".")[0]
            costs[name] = costs.get(name, 0.0) + int(m.group(1)) / 1e6
    return sorted(costs.items(), key=lambda kv: -kv[1])[:n]


def _serve(env: dict[str, str], home: Path, timeout: float = 240) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", "serve", "--port", str(_free_port())], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if (home / "serve.json").exists():
            return proc
        if proc.poll() is not None:
            raise RuntimeError("newsrag serve exited before it listened")
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("newsrag serve did not write serve.json in time")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _summary(xs: list[float]) -> dict[str, float]:
    return {"runs": len(xs), "min": round(min(xs), 2), "median": round(statistics.median(xs), 2),
            "max": round(max(xs), 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", help="an existing NEWSRAG_HOME to copy (default: the bundled sample, ingested)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--question", default=QUESTION)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cli-bench-") as tmp:
        home = Path(tmp) / "home"
        env = _env(home)
        if args.store:
            shutil.copytree(args.store, home, ignore=shutil.ignore_patterns("serve.json", "ingest.lock"))
        else:
            subprocess.run([sys.executable, "-m", "rag.frontends.cli", "ingest", "--quiet", str(SAMPLE)], cwd=ROOT, env=env,
                           check=True, capture_output=True)
        _timed(_ask_cmd(args.question, "--no-server"), env)  # builds the keyword index once, warms the disk cache
        results: dict = {"store": args.store or "bundled sample", "question": args.question,
                         "load_average_before": os.getloadavg()}
        results["ask_no_server"] = _measure(_ask_cmd(args.question), env, args.runs)
        results["first_rag_ask"] = _measure([sys.executable, "-c", FIRST_ASK, args.question], env, args.runs)
        results["top_imports_s"] = top_imports(env, args.question)
        server = _serve(env, home)
        try:
            _timed(_ask_cmd(args.question), env)  # the server's first answer loads its indexes
            results["ask_with_server"] = _measure(_ask_cmd(args.question), env, args.runs)
        finally:
            server.terminate()
            server.wait(timeout=30)
        results["serve_json_removed"] = not (home / "serve.json").exists()
        results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    print("\n| | wall min / median / max | CPU median |\n|---|---|---|")
    for key in ("ask_no_server", "ask_with_server", "first_rag_ask"):
        r = results[key]
        print(f"| {key} | {r['min']} / {r['median']} / {r['max']} s | {r['cpu_median']} s |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
