"""Latency of `POST /api/ask` (the JSON API beside the web chat) and of the MCP `ask` tool (`newsrag mcp` over
stdio and over streamable HTTP, driven by the SDK's client), on the bundled sample with extractive answers.

    python benchmarks/api_bench.py                      # 40 asks one after another, then 50 at once, on each
    python benchmarks/api_bench.py --sequential 100 --concurrent 50

Both servers run as their commands (`newsrag serve`, `newsrag mcp`) in processes of their own, over the same
temporary store (the sample ingested once); this process is the client. Each is warmed with one ask first (the
embedding model loads on the first question). Sequential: one client, one ask after another, the four questions
in turn. Concurrent: N asks released together (HTTP: N threads sharing one connection pool; MCP: N calls in
flight on one session); latency is per request from the release, so it includes waiting for a turn. Every request must
succeed (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "What did Kardashian say about Balenciaga?",
    "What did Balenciaga apologize for?",
    "Did Kim Kardashian turn down the Balenciaga deal?",
    "What did TMZ report about Kim Kardashian?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _figures(name: str, seconds: list[float], errors: int, wall: float) -> dict:
    s = sorted(seconds)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))] if s else float("nan")
    row = {"run": name, "n": len(seconds) + errors, "errors": errors, "wall": wall,
           "p50": statistics.median(s) if s else float("nan"), "p95": p95, "max": s[-1] if s else float("nan")}
    print(f"| {name} | {row['n']} | {errors} | {wall:.1f} s | {row['p50'] * 1000:.0f} ms | {p95 * 1000:.0f} ms | "
          f"{row['max'] * 1000:.0f} ms |", flush=True)
    return row


def _serve(home: Path, port: int) -> subprocess.Popen:
    """`newsrag serve` on 127.0.0.1:port over `home`, once it says it is ready."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSRAG_HOME": str(home), "NEWSRAG_LLM": "extractive",
           "NEWSRAG_API_RATE_LIMIT": "0", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if "ready:" in line:
            return proc
    raise SystemExit("newsrag serve did not start")


def bench_http(home: Path, sequential: int, concurrent: int) -> list[dict]:
    import httpx

    port = _free_port()
    server = _serve(home, port)
    url = f"http://127.0.0.1:{port}/api/ask"
    rows = []
    try:
        limits = httpx.Limits(max_connections=concurrent, max_keepalive_connections=concurrent)
        with httpx.Client(timeout=300, limits=limits) as http:
            assert http.post(url, json={"question": QUESTIONS[0]}).json()["citations"]  # warm
            times, errors, t0 = [], 0, time.perf_counter()
            for i in range(sequential):
                start = time.perf_counter()
                r = http.post(url, json={"question": QUESTIONS[i % 4]})
                if r.status_code == 200:
                    times.append(time.perf_counter() - start)
                else:
                    errors += 1
            rows.append(_figures("POST /api/ask, one after another", times, errors, time.perf_counter() - t0))

            def one(i: int) -> float | None:
                r = http.post(url, json={"question": QUESTIONS[i % 4]})
                return time.perf_counter() - release if r.status_code == 200 else None

            with ThreadPoolExecutor(max_workers=concurrent) as pool:
                release = time.perf_counter()
                got = list(pool.map(one, range(concurrent)))
            rows.append(_figures(f"POST /api/ask, {concurrent} at once", [g for g in got if g is not None],
                                 sum(g is None for g in got), time.perf_counter() - release))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    return rows


def bench_mcp(home: Path, sequential: int, concurrent: int, http: bool = False) -> list[dict]:
    import anyio
    from mcp import Client, StdioServerParameters

    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSRAG_HOME": str(home), "NEWSRAG_LLM": "extractive",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    server, how = None, "stdio"
    if http:  # `newsrag mcp --http` on a free port, once it says it is ready
        how = "streamable HTTP"
        server = subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", "mcp", "--http", "--port", str(_free_port())],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        target = next(line for line in server.stdout if "ready: " in line).split("ready: ", 1)[1].split()[0]
    else:
        target = StdioServerParameters(command=sys.executable, args=["-m", "rag.frontends.cli", "mcp"], env=env)
    rows: list[dict] = []

    async def main() -> None:
        async with Client(target, read_timeout_seconds=300) as client:
            async def ask(q: str) -> bool:
                r = await client.call_tool("ask", {"question": q})
                return not r.is_error and bool(r.structured_content["text"])

            assert await ask(QUESTIONS[0])  # warm
            times, errors, t0 = [], 0, time.perf_counter()
            for i in range(sequential):
                start = time.perf_counter()
                if await ask(QUESTIONS[i % 4]):
                    times.append(time.perf_counter() - start)
                else:
                    errors += 1
            rows.append(_figures(f"MCP ask ({how}), one after another", times, errors, time.perf_counter() - t0))
            got: list[float | None] = []
            release = time.perf_counter()

            async def timed(i: int) -> None:
                ok = await ask(QUESTIONS[i % 4])
                got.append(time.perf_counter() - release if ok else None)

            async with anyio.create_task_group() as tasks:
                for i in range(concurrent):
                    tasks.start_soon(timed, i)
            rows.append(_figures(f"MCP ask ({how}), {concurrent} in flight on one session",
                                 [g for g in got if g is not None], sum(g is None for g in got),
                                 time.perf_counter() - release))

    try:
        anyio.run(main)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sequential", type=int, default=40)
    p.add_argument("--concurrent", type=int, default=50)
    args = p.parse_args(argv)

    from ingest import Ingestor
    from rag.core.logs import setup_logging
    from rag.core.settings import Settings

    setup_logging()
    folder = Path(tempfile.mkdtemp(prefix="newsrag-api-bench-"))
    home = folder / "home"
    try:
        print("ingest:", Ingestor(Settings(home=home)).ingest([str(ROOT / "examples" / "news")]).summary_line())
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
              f"load average {os.getloadavg()[0]:.1f}")
        print("| run | asks | errors | wall | p50 | p95 | max |\n|---|---|---|---|---|---|---|")
        rows = (bench_http(home, args.sequential, args.concurrent) + bench_mcp(home, args.sequential, args.concurrent)
                + bench_mcp(home, args.sequential, args.concurrent, http=True))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
