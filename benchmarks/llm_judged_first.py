"""The first sentences of local_llm_answers.py's reports judged by hand, beside the string match.

    python benchmarks/llm_judged_first.py REPORT.json... --verdicts benchmarks/first_sentence_judged.jsonl \\
        benchmarks/first_sentence_judged_llm.jsonl [--todo todo.jsonl]

The string match ("the first sentence contains the gold string") misses a right answer in other words ("melanoma"
for "skin cancer", "UFO sightings" for "UFOs") and credits a gold string held by chance. A verdict file
(`{"id", "first_sha1", "correct", "why"}` per line, as benchmarks/answer_first.py reads it) says whether a first
sentence answers the question, in any wording; it counts only while the sentence is the one judged (same SHA-1).
For each report and answerer (extractive, llm) this prints: the string match, the judged figure, the unjudged
count, and the two ways they disagree. --todo writes the unjudged rows (ids and hashes, no text) to fill in;
`local_llm_answers.py --show REPORT --store STORE` prints the answers to read.

The verdicts are judged by reading the answers, so a judged figure is in-sample for whoever wrote them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_first import load_verdicts  # noqa: E402

ANSWERERS = ("extractive", "llm")


def judged(report: dict, verdicts: dict[tuple[str, str], bool]) -> tuple[dict[str, dict], list[dict]]:
    """({answerer: figures}, the unjudged rows) of one report."""
    out, todo = {}, []
    for who in ANSWERERS:
        rows = [(q["id"], q[who]) for q in report["questions"]]
        missing = [(i, r) for i, r in rows if "first_sha1" not in r]
        if missing:
            raise SystemExit(f"{missing[0][0]}: the report has no first_sha1 (it was written before the hashes were "
                             "recorded); run local_llm_answers.py again, or with --replay REPORT, to record them")
        got = [(r["first_sentence"], False if r["refused"] else verdicts.get((str(i), r["first_sha1"])))
               for i, r in rows]
        out[who] = {"n": len(rows), "string_match": sum(s for s, _ in got),
                    "judged_correct": sum(j is True for _, j in got), "unjudged": sum(j is None for _, j in got),
                    "string_match_but_wrong": sum(s and j is False for s, j in got),
                    "right_but_no_string_match": sum(not s and j is True for s, j in got)}
        todo += [{"id": i, "answerer": who, "first_sha1": r["first_sha1"], "string_match": r["first_sentence"],
                  "correct": None, "why": ""}
                 for (i, r), (_, j) in zip(rows, got) if j is None]
    return out, todo


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reports", nargs="+", help="reports written by benchmarks/local_llm_answers.py --json")
    ap.add_argument("--verdicts", required=True, nargs="+", help="JSONL files of hand verdicts on first sentences")
    ap.add_argument("--todo", help="write the unjudged first sentences here (JSONL, no text)")
    args = ap.parse_args(argv)
    verdicts = {k: v for path in args.verdicts for k, v in load_verdicts(path).items()}
    todo: list[dict] = []
    for path in args.reports:
        try:
            report = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"{path}: {exc}") from None
        questions = report.get("questions") if isinstance(report, dict) else None
        if not isinstance(questions, list) or not all(isinstance(q, dict) and set(ANSWERERS) <= set(q)
                                                      for q in questions):
            raise SystemExit(f"{path}: not a report of benchmarks/local_llm_answers.py (--json): it needs a "
                             "'questions' list whose rows hold 'extractive' and 'llm'")
        figures, missing = judged(report, verdicts)
        todo += missing
        for who, f in figures.items():
            print(f"{path} {who}: " + json.dumps(f))
    if args.todo:
        seen = set()
        rows = [t for t in todo if (t["id"], t["first_sha1"]) not in seen and not seen.add((t["id"], t["first_sha1"]))]
        Path(args.todo).write_text("".join(json.dumps(t) + "\n" for t in rows), encoding="utf-8")
        print(f"{len(rows)} first sentences to judge: {args.todo}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
