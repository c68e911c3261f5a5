"""The LLM pass's guards, compared offline: the verifier's replies a `--replay-verify` report recorded, joined to the
rules with and without the guards (a day, a name, "this week" from an earlier year), counted on the hand labels.

    python benchmarks/llm_pass_guards.py benchmarks/results/local_llm_fresh_s14_replay.json \\
        benchmarks/results/local_llm_fresh_labels.jsonl --store /tmp/rt

Prints (label, verdict) counts per variant. The LLM's replies are the recorded ones, so the variants differ only
in what the check does with them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag.check.citations as citations  # noqa: E402
from rag.check.claims import SUPPORT_THRESHOLD  # noqa: E402
from rag.check.stream import screened_check  # noqa: E402
from rag.check.verify_llm import parse_verdicts  # noqa: E402
from rag.core.schema import Hit  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from rag.index import Index  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labelled_replay import labelled_entry  # noqa: E402


def _no_text(*args, **kwargs) -> str:
    return ""


def _no_year(*args, **kwargs) -> None:
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("labels")
    ap.add_argument("--store", default="/tmp/rt")
    a = ap.parse_args(argv)
    report = json.loads(Path(a.report).read_text())
    labels: dict[str, list[dict]] = {}
    for row in map(json.loads, Path(a.labels).read_text().splitlines()):
        labels.setdefault(row["id"], []).append(row)
    index = Index(Settings(home=a.store))
    real = (citations.unstated_day, citations.unstated_name, citations.told_of_another_year)
    variants = {"no guard": (_no_text, _no_text, _no_year), "day only": (real[0], _no_text, _no_year),
                "day+name+year": real}
    for name, guards in variants.items():
        citations.unstated_day, citations.unstated_name, citations.told_of_another_year = guards
        counts: Counter = Counter()
        try:
            for q in report["questions"]:
                llm = q["llm"]
                ids = [g["passage_id"] for g in llm["given"]]
                found = index.passages_by_id(ids)
                if len(found) != len(ids) or not llm.get("draft"):
                    continue
                hits = [Hit(found[i], score=1.0, rank=n) for n, i in enumerate(ids, 1)]
                day = date.fromisoformat(q["as_of"])
                rules = screened_check(llm["draft"], q["question"], hits, threshold=SUPPORT_THRESHOLD, today=day)
                overrides = {}
                for r in llm.get("verify_replies", []):
                    overrides.update(parse_verdicts(r["reply"], rules.unconfirmed, len(hits)))
                checked = screened_check(llm["draft"], q["question"], hits, threshold=SUPPORT_THRESHOLD, today=day,
                                         overrides=overrides)
                for label in labels.get(q["id"], []):
                    if label["label"] == "no_claim":
                        continue
                    v = labelled_entry(label, checked.verdicts)
                    counts[(label["label"], v["verdict"] if v else "none")] += 1
        finally:
            citations.unstated_day, citations.unstated_name, citations.told_of_another_year = real
        print(name, " ".join(f"{k[0]}/{k[1]} {n}" for k, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
