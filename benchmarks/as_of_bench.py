"""Latency of questions asked as of a day (a hard date filter on both searches), as `newsrag eval` asks
realtimeqa's: each question as of its question_date, through the whole Assistant, on an existing store.

    python benchmarks/as_of_bench.py --home /tmp/i15s/grow [--questions 60] [--json out.json]
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_bench import _pct, emit  # noqa: E402

from rag.eval.metrics import load_jsonl  # noqa: E402
from rag.eval.run import _question_date  # noqa: E402

QUESTIONS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "realtimeqa" / "questions.jsonl"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--file", type=Path, default=QUESTIONS)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings

    a = Assistant.from_settings(Settings.from_env(home=args.home, llm="extractive"))
    a.index.warm()
    qs = [(q["question"], _question_date(q)) for q in load_jsonl(args.file)][: args.questions + 1]
    a.ask(qs[0][0], as_of=qs[0][1])
    timings: dict[str, list[float]] = {}
    for text, day in qs[1:]:
        answer = a.ask(text, as_of=day)
        for k, v in answer.timings.items():
            timings.setdefault(k, []).append(v)
    out = {"home": str(args.home), "passages": a.stats()["passages"], "questions": len(qs) - 1,
           "latency_ms": {k: _pct(v) for k, v in timings.items()},
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}
    emit(out, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
