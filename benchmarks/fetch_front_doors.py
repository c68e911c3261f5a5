"""Fetching front doors against a real HTTP server on 127.0.0.1 (the handler of tests/test_fetching.py).

Run from a checkout: `PYTHONPATH=$PWD .venv/bin/python benchmarks/fetch_front_doors.py` (also works on a tree
from before ingest.fetching existed, to compare). Prints, per case, the wall time and what iter_inputs yielded.
"""

from __future__ import annotations

import http.server
import sys
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests" / "test_fetching.py"


def main() -> int:
    src = TESTS.read_text().replace("from ingest.fetching import", "#").replace("from ingest.loaders import", "#")
    ns: dict = {"__name__": "front_doors"}
    exec(compile(src.split("@pytest.fixture")[0], str(TESTS), "exec"), ns)  # the handler and feed() only
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ns["Handler"])
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    base = f"http://127.0.0.1:{port}"
    from ingest.loaders import iter_inputs

    try:
        from ingest.fetching import FetchPolicy, parse_allow
        loopback = parse_allow("127.0.0.1")[1]
        allow = lambda t, **kw: {"policy": FetchPolicy(allow_networks=loopback, timeout=t, **kw)}  # noqa: E731
        default: dict = {}
    except ImportError:  # the code before ingest.fetching
        allow = lambda t, **kw: {"timeout": t}  # noqa: E731
        default = {}

    def run(label: str, targets: list[str], kwargs: dict) -> None:
        started = time.monotonic()
        items = list(iter_inputs(targets, **kwargs))
        shown = [f"{type(i).__name__}: {(getattr(i, 'reason', None) or getattr(i, 'body', ''))[:90]}" for i in items]
        print(f"{label}: {time.monotonic() - started:.1f}s, {len(items)} items, first: {shown[:1]}")

    run("secret, default settings", [f"{base}/secret"], default)
    run("secret, decimal spelling", [f"http://2130706433:{port}/secret"], default)
    run("redirect to the secret", [f"{base}/redirect?to=/secret"], default)
    run("trickle, timeout 1s (allowed)", [f"{base}/trickle"], allow(1.0))
    run("feed of 20 hanging entries, timeout 1s (allowed)", [f"{base}/feed?n=20&to=/hang"], allow(1.0, concurrency=20)
        if "policy" in allow(1.0) else allow(1.0))
    ns["STOP"].set()
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
