"""Load on the web chat: N concurrent chats through gradio_client (one client per thread), p50/p95 latency,
optionally while an ingest of synthetic articles runs through the same app ("Add coverage").

    python benchmarks/web_load.py                  # launch the app over a temp store with the sample coverage
    python benchmarks/web_load.py --n 50 --ingest 200   # 50 chats while 200 articles are ingested
    python benchmarks/web_load.py --url http://127.0.0.1:7860/ [--login user:password]

Every request must complete without error (exit 1 otherwise). Latency is measured per request from the moment
all threads are released together, so it includes the time spent waiting in the Gradio queue.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running web chat (default: launch one over a temp store with the sample)")
    p.add_argument("--n", type=int, default=20, help="concurrent chats (default 20)")
    p.add_argument("--login", help="user:password when the app asks for a login")
    p.add_argument("--llm", default="extractive", help="answerer when launching (default extractive)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds one chat may take")
    p.add_argument("--ingest", type=int, default=0, help="also ingest this many synthetic articles meanwhile")
    args = p.parse_args(argv)
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
