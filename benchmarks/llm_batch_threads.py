"""How fast the local model reads a prompt and writes an answer with 1 or more threads reading the prompt
(NEWSRAG_LLM_BATCH_THREADS), the answer always written on NEWSRAG_LLM_THREADS (1).

    python benchmarks/llm_batch_threads.py [--batch 1 2] [--busy N] [--runs 3] [--json OUT]

Loads the bundled Qwen2.5-Coder-1.5B (`make local`) once per setting and asks it, `--runs` times, to sum up a
different ~860-token stretch of the bundled sample article in one sentence, with llama.cpp's prompt cache off so
every prompt is read in full. `--busy N` keeps N other processes spinning on the CPU meanwhile (a shared machine).
Prints and records llama.cpp's own timings: prompt tokens per second, answer tokens per second, wall seconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import machine  # noqa: E402
from rag.llms.bundled import bundled_model  # noqa: E402
from rag.llms.gguf import Engine, GGUFChatModel  # noqa: E402

SAMPLE = ROOT / "examples" / "news" / "kim-kardashian-balenciaga.txt"


def _spin() -> None:  # pragma: no cover - runs in a child process until terminated
    while True:
        pass


def measure(engine: Engine, runs: int, words: list[str]) -> list[dict]:
    out = []
    for i in range(runs):
        # a different stretch each run, padded by repetition to ~650 words (~860 tokens)
        stretch = (words[i * 20:] + words) * 2
        text = f"Run {i}. " + " ".join(stretch[:650]) + "\nSum this up in one sentence."
        body = {"messages": [{"role": "user", "content": text}], "max_tokens": 40, "temperature": 0.0,
                "top_k": 1, "cache_prompt": False}
        t0 = time.perf_counter()
        result = engine.server.handle_chat_completions(body)
        timings = result.get("timings", {}) if isinstance(result, dict) else {}
        out.append({"prompt_tokens": timings.get("prompt_n"),
                    "prompt_per_s": round(float(timings.get("prompt_per_second", 0.0)), 1),
                    "answer_per_s": round(float(timings.get("predicted_per_second", 0.0)), 1),
                    "wall_s": round(time.perf_counter() - t0, 1)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 2], help="prompt-reading thread counts to compare")
    ap.add_argument("--busy", type=int, default=0, help="other processes spinning on the CPU meanwhile")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    words = SAMPLE.read_text(encoding="utf-8").split()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for p in spinners:
        p.start()
    report = {"command": " ".join(sys.argv), "machine": machine(), "busy": args.busy, "settings": {}}
    try:
        for batch in args.batch:
            # each setting is its own engine (the file, context and both thread counts key it)
            engine = GGUFChatModel(model_path=str(bundled_model()), context_window=2048, threads=1,
                                   batch_threads=batch).load()
            rows = measure(engine, args.runs, words)
            summary = {"runs": rows, "prompt_per_s_median": statistics.median(r["prompt_per_s"] for r in rows),
                       "answer_per_s_median": statistics.median(r["answer_per_s"] for r in rows),
                       "wall_s_median": statistics.median(r["wall_s"] for r in rows),
                       "load_after": round(os.getloadavg()[0], 1)}
            report["settings"][str(batch)] = summary
            print(f"batch threads {batch}, busy {args.busy}: prompt {summary['prompt_per_s_median']} tokens/s, "
                  f"answer {summary['answer_per_s_median']} tokens/s, wall {summary['wall_s_median']} s "
                  f"(prompts of {rows[0]['prompt_tokens']} tokens)", flush=True)
    finally:
        for p in spinners:
            p.terminate()
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
