"""The claim check (rules only) on hand-labelled sentences of a local LLM's real answers, replayed.

Reads a `local_llm_answers.py` report (the model's drafts and the ids of the passages each prompt was given), the
hand labels beside it, and a store holding those passages. Two kinds of label file:
- `local_llm_realtimeqa_all61_labels.jsonl`: per question, the answer's first sentence, "supported" or
  "unsupported" by the given passages, and why;
- `local_llm_fresh_labels.jsonl`: per question, every sentence of the draft (`s`: its number), labelled
  "supported", "unsupported" or "no_claim", with the kind of error.
Each draft goes through the screen and the rules again, with and without the question's day (the recency rule
needs it), and each labelled sentence's verdict is counted against its label ("screened": the screen removed
it). No LLM pass: that is in the report itself (`--as-ran` counts the verdicts the report recorded instead).

    python benchmarks/labelled_replay.py --report benchmarks/results/local_llm_realtimeqa_all61_before_fallback.json \\
        --labels benchmarks/results/local_llm_realtimeqa_all61_labels.jsonl --store /tmp/rt
    python benchmarks/labelled_replay.py --report benchmarks/results/local_llm_fresh.json \\
        --labels benchmarks/results/local_llm_fresh_labels.jsonl --store /tmp/rt
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.check.stream import screened_check  # noqa: E402
from rag.core.schema import Hit  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from rag.index import Index  # noqa: E402


_MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def _plain(sentence: str) -> str:
    return " ".join(_MARKS.sub("", sentence).split()).rstrip(".!?")


def _entry(sentence: str, verdicts: list[dict]) -> dict | None:
    want = _plain(sentence)
    return next((v for v in verdicts if _plain(v["sentence"]) == want), None)


def labelled_entry(label: dict, verdicts: list[dict]) -> dict | None:
    """The verdict a label is about: its sentence's (`s` labels), or the answer's first sentence's."""
    if "s" in label:
        return _entry(label["sentence"], verdicts)
    return next((v for v in verdicts if v["sentence"].strip()), None)


def _verdict_of(sentence: str, verdicts: list[dict]) -> str:
    v = _entry(sentence, verdicts)
    return v["verdict"] if v else "none"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--store", required=True, help="the NEWSRAG_HOME the report's passages came from")
    ap.add_argument("--as-ran", action="store_true", help="count the verdicts the report recorded (with its LLM "
                    "pass), not a replay")
    ap.add_argument("--show", action="store_true", help="print each sentence the check gets wrong, with the day "
                    "asked: true ones not confirmed, false ones confirmed (rule and word that decided)")
    a = ap.parse_args(argv)
    report = json.loads(Path(a.report).read_text())
    labels: dict[str, list[dict]] = {}
    for r in map(json.loads, Path(a.labels).read_text().splitlines()):
        labels.setdefault(r["id"], []).append(r)
    settings = Settings(home=a.store)
    index = Index(settings)
    counts: Counter = Counter()
    for q in report["questions"]:
        mine = labels.get(q["id"])
        if not mine:
            continue
        if a.as_ran:
            for label in mine:
                if label["label"] != "no_claim":
                    counts[("as ran", label["label"], _verdict_of(label["sentence"], q["llm"]["verdicts"]))] += 1
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
            for label in mine:
                if label["label"] == "no_claim":
                    continue
                entry = labelled_entry(label, checked.verdicts)
                verdict = entry["verdict"] if entry else "none"
                if a.show and day and (verdict == "supported") != (label["label"] == "supported"):
                    why = f'{entry["rule"]}: {entry["detail"]}' if entry and entry["rule"] else ""
                    print(f'{q["id"]} {label["label"]} -> {verdict} {why}\n    {label["sentence"][:160]}')
                counts[("with the day asked" if day else "without a day", label["label"], verdict)] += 1
    for key in sorted(counts):
        print(" / ".join(key), counts[key])
    return 0


if __name__ == "__main__":
    sys.exit(main())
