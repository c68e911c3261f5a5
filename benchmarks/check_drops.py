"""How many sentences of real answers does the citation check drop, and why?

Asks the questions of a question set on an existing store, takes each answerer's draft (before the check),
and runs the check on it: sentences checked and dropped, by rule. With --old FILE (a citations.py from an
earlier commit, e.g. `git show 5f432b8:rag/check/citations.py > /tmp/old_citations.py`) the same drafts also go
through that check, side by side. Prints a sample of drop reasons (rule and the word that failed it); the
JSON holds numbers only.

    NEWSRAG_EMBEDDING_CACHE=/work/embcache python benchmarks/check_drops.py --store /tmp/rt \\
        --questions ../shared/eval/realtimeqa/questions.jsonl --llm extractive --json /tmp/drops.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.assistant import Assistant  # noqa: E402
from rag.check.citations import check  # noqa: E402
from rag.core.settings import Settings  # noqa: E402


def _old_check(path: str):
    spec = importlib.util.spec_from_file_location("rag._old_citations", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["rag._old_citations"] = module
    spec.loader.exec_module(module)
    return module.check


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--llm", default="extractive")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--old", help="an earlier citations.py to run on the same drafts")
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--sample", type=int, default=12)
    args = ap.parse_args()
    settings = Settings.from_env(home=args.store, llm=args.llm)
    assistant = Assistant.from_settings(settings)
    old = _old_check(args.old) if args.old else None
    questions = [json.loads(line) for line in open(args.questions, encoding="utf-8") if line.strip()]
    if args.limit:
        questions = questions[: args.limit]
    new_rules: Counter = Counter()
    totals = Counter()
    sample: list[str] = []
    started = time.perf_counter()
    for q in questions:
        hits = assistant.retriever.retrieve(assistant.retriever.plan(q["question"]))
        if not assistant._relevant(q["question"], hits):  # the product refuses these before any draft
            totals["refused_before_draft"] += 1
            continue
        draft = assistant.answerer.answer(q["question"], hits)
        t0 = time.perf_counter()
        checked = check(draft, hits, threshold=settings.support_threshold)
        totals["check_seconds"] += time.perf_counter() - t0
        totals["answers"] += 1
        totals["checked"] += checked.claims_checked
        totals["dropped"] += checked.claims_dropped
        totals["answers_emptied"] += int(not checked.citations)
        for d in checked.dropped:
            new_rules[d["rule"]] += 1
            if len(sample) < args.sample:
                sample.append(f"{q['id']}: {d['rule']} ({d['detail'][:60]})")
        if old is not None:
            t0 = time.perf_counter()
            before = old(draft, hits, threshold=settings.support_threshold)
            totals["old_check_seconds"] += time.perf_counter() - t0
            totals["old_checked"] += before.claims_checked
            totals["old_dropped"] += before.claims_dropped
            totals["old_answers_emptied"] += int(not before.citations)
    report = {"questions": len(questions), "llm": args.llm, **{k: round(v, 4) for k, v in totals.items()},
              "dropped_by_rule": dict(new_rules), "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(report, indent=1))
    print("sample of drop reasons:\n  " + "\n  ".join(sample))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
