"""Load on the front doors: N concurrent chats on the web chat (optionally while an ingest of synthetic articles
runs through the same app), or the JSON API's `POST /api/ask` and the MCP `ask` tool (stdio and streamable HTTP).

    python benchmarks/web_load.py                  # launch the app over a temp store with the sample coverage
    python benchmarks/web_load.py --n 50 --ingest 200   # 50 chats while 200 articles are ingested
    python benchmarks/web_load.py --url http://127.0.0.1:7860/ [--login user:password]
    python benchmarks/web_load.py --api [--sequential 40] [--concurrent 50]   # the JSON API and MCP

Web chat: N chats through gradio_client (one client per thread), p50/p95 latency. Latency is measured per request
from the moment all threads are released together, so it includes the time spent waiting in the Gradio queue.

--api: `newsrag serve` and `newsrag mcp` (over stdio and over streamable HTTP) each run as their commands in
processes of their own, over the same temporary store (the bundled sample, extractive answers); this process is
the client (`httpx`, the `mcp` SDK's Client). Each is warmed with one ask first. Sequential: one client, one ask
after another, the four questions in turn. Concurrent: N asks released together (HTTP: N threads sharing one
connection pool; MCP: N calls in flight on one session); latency is per request from the release.

Every request must complete without error (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
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


def _launch(llm: str):
    """The app over a temporary store holding the bundled sample; returns (url, demo)."""
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings
    from rag.frontends.web.page import launch
    from rag.jobs.ingestor import ingestor_for

    home = Path(tempfile.mkdtemp(prefix="newsrag-load-")) / "home"
    settings = Settings.from_env(home=home, llm=llm, host="127.0.0.1", port=_free_port())
    assistant = Assistant.from_settings(settings)
    print("ingest:", ingestor_for(assistant).ingest([str(ROOT / "examples" / "news")]).summary_line(), flush=True)
    demo = launch(assistant, settings, prevent_thread_lock=True, quiet=True)
    return demo.local_url, demo


def synthetic_articles(path: Path, n: int, seed: int = 11) -> Path:
    """n distinct made-up articles (invented words: synthetic data, no publisher's text) as one JSONL file."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "pi", "ne", "bra", "ost", "fen", "qua", "zi"]
    vocab = ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(3000)]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            body = " ".join(". ".join(" ".join(rng.choice(vocab) for _ in range(14)).capitalize() for _ in range(6))
                            + "." for _ in range(3))
            f.write(json.dumps({"id": f"load-{i}", "title": f"Synthetic load report {i}", "source": "Load Wire",
                                "published_at": "2023-09-01", "body": body}) + "\n")
    return path


class _Ingest(threading.Thread):
    """One upload through the app's /ingest endpoint, timed; `running` says whether it is still going."""

    def __init__(self, url: str, auth, n: int) -> None:
        super().__init__(daemon=True)
        self.url, self.auth, self.n = url, auth, n
        self.seconds: float | None = None
        self.error: str | None = None
        self.report = ""
        self.started = threading.Event()

    def run(self) -> None:
        from gradio_client import Client, handle_file

        path = synthetic_articles(Path(tempfile.mkdtemp(prefix="newsrag-load-in-")) / "load.jsonl", self.n)
        client = Client(self.url, auth=self.auth, verbose=False, download_files=False)
        t = time.perf_counter()
        job = client.submit([handle_file(str(path))], "", api_name="/ingest")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not client.predict(api_name="/ingest_status")["running"]:
            if job.done():
                break
            time.sleep(0.1)
        self.started.set()
        try:
            self.report = job.result(timeout=3600)
            if f"Added {self.n}" not in self.report:
                self.error = "the ingest report does not say all articles were added"
        except Exception as exc:  # noqa: BLE001 - reported
            self.error = f"{type(exc).__name__}: {exc}"
        self.seconds = time.perf_counter() - t

    @property
    def running(self) -> bool:
        return self.seconds is None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(url: str, n: int, auth: tuple[str, str] | None, timeout: float, ingest: int = 0) -> int:
    from gradio_client import Client

    warm = Client(url, auth=auth, verbose=False, download_files=False)
    t = time.perf_counter()
    warm.predict(QUESTIONS[0], api_name="/ask")
    print(f"warm-up request: {time.perf_counter() - t:.2f}s", flush=True)

    clients = [Client(url, auth=auth, verbose=False, download_files=False) for _ in range(n)]
    gate = threading.Barrier(n)
    latencies: list[float] = []
    during: list[bool] = []  # per completed chat: did it finish while the ingest was still running?
    ingester = None
    if ingest:
        ingester = _Ingest(url, auth, ingest)
        ingester.start()
        ingester.started.wait(120)
    errors: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        gate.wait()
        start = time.perf_counter()
        try:
            answer = clients[i].submit(QUESTIONS[i % len(QUESTIONS)], api_name="/ask").result(timeout=timeout)
            if not isinstance(answer, dict) or not answer.get("text"):
                raise RuntimeError(f"empty answer: {answer!r:.200}")
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            with lock:
                errors.append(f"chat {i}: {type(exc).__name__}: {exc}")
            return
        with lock:
            latencies.append(time.perf_counter() - start)
            during.append(bool(ingester and ingester.running))

    wall = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - wall

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}; load average {load}")
    print(f"concurrent chats: {n}  completed: {len(latencies)}  errors: {len(errors)}  wall: {wall:.2f}s")
    if latencies:
        print(f"latency p50: {statistics.median(latencies):.2f}s  p95: {_pct(latencies, 0.95):.2f}s  "
              f"max: {max(latencies):.2f}s  throughput: {len(latencies) / wall:.1f} answers/s")
    if ingester is not None:
        ingester.join(3600)
        print(f"ingest of {ingest} synthetic articles through /ingest: {ingester.seconds:.1f}s"
              + (f", ERROR {ingester.error}" if ingester.error else ", all added")
              + f"; chats completed while it ran: {sum(during)} of {len(latencies)}")
        if ingester.error:
            errors.append("ingest: " + ingester.error)
    for e in errors:
        print("  " + e)
    return 1 if errors or len(latencies) != n else 0


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


def run_api(sequential: int, concurrent: int) -> int:
    """The JSON API and the MCP ask tool over a temporary store holding the bundled sample."""

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
        rows = (bench_http(home, sequential, concurrent) + bench_mcp(home, sequential, concurrent)
                + bench_mcp(home, sequential, concurrent, http=True))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if any(r["errors"] for r in rows) else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running web chat (default: launch one over a temp store with the sample)")
    p.add_argument("--n", type=int, default=20, help="concurrent chats (default 20)")
    p.add_argument("--login", help="user:password when the app asks for a login")
    p.add_argument("--llm", default="extractive", help="answerer when launching (default extractive)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds one chat may take")
    p.add_argument("--ingest", type=int, default=0, help="also ingest this many synthetic articles meanwhile")
    p.add_argument("--api", action="store_true", help="the JSON API and the MCP ask tool instead of the web chat")
    p.add_argument("--sequential", type=int, default=40, help="with --api: asks one after another (default 40)")
    p.add_argument("--concurrent", type=int, default=50, help="with --api: asks released together (default 50)")
    args = p.parse_args(argv)
    if args.api:
        return run_api(args.sequential, args.concurrent)
    auth = tuple(args.login.split(":", 1)) if args.login else None
    demo = None
    url = args.url
    if not url:
        url, demo = _launch(args.llm)
    try:
        return run(url, args.n, auth, args.timeout, args.ingest)  # type: ignore[arg-type]
    finally:
        if demo is not None:
            from rag.frontends.web.page import shutdown

            shutdown(demo)


if __name__ == "__main__":
    sys.exit(main())
