"""The claim check (rules only) on hand-labelled sentences of a local LLM's real answers, replayed.

Reads a `local_llm_answers.py` report (the model's drafts and the ids of the passages each prompt was given), the
hand labels beside it (`local_llm_realtimeqa_all61_labels.jsonl`: per question, the answer's first sentence,
"supported" or "unsupported" by the given passages, and why), and a store holding those passages. Each draft goes
through the screen and the rules again, with and without the question's day (the recency rule needs it), and the
first sentence's verdict is counted against its label. No LLM pass: that is in the report itself.

    python benchmarks/labelled_replay.py --report benchmarks/results/local_llm_realtimeqa_all61_before_fallback.json \\
        --labels benchmarks/results/local_llm_realtimeqa_all61_labels.jsonl --store /tmp/rt
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.check.stream import screened_check  # noqa: E402
from rag.core.schema import Hit  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from rag.index import Index  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--store", required=True, help="the NEWSRAG_HOME the report's passages came from")
    a = ap.parse_args(argv)
    report = json.loads(Path(a.report).read_text())
    labels = {r["id"]: r for r in map(json.loads, Path(a.labels).read_text().splitlines()) if r}
    settings = Settings(home=a.store)
    index = Index(settings)
    counts: Counter = Counter()
    for q in report["questions"]:
        label = labels.get(q["id"])
        if label is None:
            continue
        ids = [g["passage_id"] for g in q["llm"]["given"]]
        found = index.passages_by_id(ids)
        if len(found) != len(ids):
            print(f"{q['id']}: {len(ids) - len(found)} of its passages are not in the store; skipped")
            continue
        hits = [Hit(found[i], score=1.0, rank=n) for n, i in enumerate(ids, 1)]
        for day in (None, date.fromisoformat(q["as_of"])):
            checked = screened_check(q["llm"]["draft"], q["question"], hits,
                                     threshold=settings.support_threshold, today=day)
            first = next((v for v in checked.verdicts if v["sentence"].strip()), None)
            counts[("with the day asked" if day else "without a day", label["label"],
                    first["verdict"] if first else "none")] += 1
    for key in sorted(counts):
        print(" / ".join(key), counts[key])
    return 0


if __name__ == "__main__":
    sys.exit(main())
