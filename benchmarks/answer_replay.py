"""Answers on recorded hits: shows that a change to the answer stage (not retrieval) leaves every answer as it was,
and times that stage alone.

The dense search's tail (ranks ~35-50 of Chroma's HNSW) differs a little from one process to the next, so two
whole runs of the same code can differ on one answer in a hundred. Recording the retriever's hits once and
replaying them takes retrieval out of the comparison.

    # with the code before the change (a git worktree of it), record the hits and the answers:
    PYTHONPATH=/tmp/base python benchmarks/answer_replay.py --code /tmp/base --store STORE --hits hits.pkl \
        --record --out before.jsonl QUESTIONS.jsonl...
    # with the code after it, replay the same hits:
    python benchmarks/answer_replay.py --store STORE --hits hits.pkl --out after.jsonl QUESTIONS.jsonl...
    cmp before.jsonl after.jsonl

Set PYTHONHASHSEED=0 for both runs (set iteration order reaches a few tie-breaks). Prints the answer stage's CPU
time per question (thread time, so other load on the machine moves it less than wall time).
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", nargs="+", type=Path, help="JSONL files with a 'question' field")
    ap.add_argument("--store", type=Path, required=True, help="the newsrag home to answer from")
    ap.add_argument("--hits", type=Path, required=True, help="the recorded hits (written with --record)")
    ap.add_argument("--record", action="store_true", help="retrieve for real and record the hits")
    ap.add_argument("--out", type=Path, required=True, help="one JSON line per question: id, answer, refused")
    ap.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1],
                    help="the checkout whose rag/ answers (default: this one)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.code))
    from rag.answer import retriever as retriever_module
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings

    memo: dict = {} if args.record else pickle.loads(args.hits.read_bytes())
    real = retriever_module.Retriever.retrieve

    def retrieve(self, query, k=None, timings=None):
        key = (query.text, k, repr(query.sources), str(query.since), str(query.until), str(query.as_of))
        if not args.record:
            return pickle.loads(memo[key])
        hits = real(self, query, k, timings)
        memo[key] = pickle.dumps(hits)
        return hits

    retriever_module.Retriever.retrieve = retrieve
    assistant = Assistant.from_settings(Settings.from_env(home=args.store, llm="extractive"))
    cpu: list[float] = []
    with open(args.out, "w", encoding="utf-8") as out:
        for path in args.questions:
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                q = json.loads(line)
                start = time.thread_time()
                answer = assistant.ask(q["question"])
                cpu.append((time.thread_time() - start) * 1000)
                out.write(json.dumps({"id": q.get("id"), "answer": answer.text, "refused": answer.refused}) + "\n")
    if args.record:
        args.hits.write_bytes(pickle.dumps(memo))
    cpu.sort()
    what = "retrieval and answer" if args.record else "answer (hits replayed)"
    print(f"{len(cpu)} questions; {what}: CPU ms p50 {statistics.median(cpu):.1f}, "
          f"p95 {cpu[int(0.95 * (len(cpu) - 1))]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
