"""One grown store measured for issue 15's scale targets: serving latency per stage and its peak RSS, the keyword
index built from nothing (seconds, peak RSS), and one article added beside a running server.

    python benchmarks/scale_bench.py --home HOME [--queries 200] [--json benchmarks/results/scale_bench_1m.json]

HOME is a store grown by query_bench.py (synthetic passages beyond the real ones; see its docstring). Each step
runs in a fresh process of its own (query_bench.py --serve / --rebuild-keywords, update_bench.py) and the load
average is recorded before and after each, since other jobs share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _step(name: str, cmd: list[str]) -> dict:
    before, t = _load(), time.perf_counter()
    run = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, check=True, cwd=ROOT)
    out = json.loads(run.stdout[run.stdout.index("{"):]) if name == "update" else json.loads(
        run.stdout.strip().splitlines()[-1])
    out["load_before"], out["load_after"] = before, _load()
    out["wall_seconds"] = round(time.perf_counter() - t, 1)
    print(f"{name}: {json.dumps(out)[:600]}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--skip", nargs="*", default=[], choices=["serve", "keywords", "update"])
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    from ingest_bench import machine

    report: dict = {"benchmark": "scale (issue 15)", "home": str(args.home), "synthetic": True,
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine()}
    qb, ub = str(ROOT / "benchmarks" / "query_bench.py"), str(ROOT / "benchmarks" / "update_bench.py")
    if "serve" not in args.skip:
        report["serve"] = _step("serve", [qb, "--serve", str(args.home), "--queries", str(args.queries)])
    if "update" not in args.skip:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "update.json"
            report["update"] = _step("update", [ub, "--home", str(args.home), "--json", str(out)])
    if "keywords" not in args.skip:
        report["keyword_build"] = _step("keywords", [qb, "--rebuild-keywords", str(args.home)])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
