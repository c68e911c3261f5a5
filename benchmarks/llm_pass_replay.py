"""The claim check with an LLM pass's recorded readings, replayed through today's rules and their combination with
the model (rag/check/citations.py), without running the model again.

    python benchmarks/llm_pass_replay.py ../shared/eval/ragtruth/claims.jsonl REPORT.json --half dev --limit 100

REPORT is what `claims_halves.py --llm … --json` wrote: its `llm.read` lists, per sentence the rules left
unconfirmed, the model's reading ("supported", "contradicted" or none). `--half`, `--task`, `--limit` and `--skip`
must be those of that run (they pick the same responses). Prints, on those rows, the rules alone, the readings as the
run combined them, and the readings as the check combines them now; numbers only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.check.citations import Override  # noqa: E402
from rag.check.claims import judge  # noqa: E402
from rag.core.errors import InputError  # noqa: E402
from rag.eval.claims import label_figures, load_claims, passage_hit, with_reading  # noqa: E402

_spec = importlib.util.spec_from_file_location("claims_halves", ROOT / "benchmarks" / "claims_halves.py")
halves = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(halves)


def scores(rows: list[dict], verdicts: dict[str, str]) -> dict[str, float | int]:
    """The label counts and kept_supported, rejected_unsupported, balanced_accuracy, true_removed, false_confirmed
    (`newsrag eval --claims`'s own figures) of `verdicts` {row id: verdict} on `rows`."""
    true = sum(1 for r in rows if r["supported"])
    if not true or true == len(rows):
        raise SystemExit("these rows hold only one label: balanced accuracy needs both supported and unsupported rows")
    figures = label_figures(rows, [verdicts[r["id"]] for r in rows])
    return {"supported": true, "unsupported": len(rows) - true,
            **{k: figures[k] for k in ("kept_supported", "rejected_unsupported", "balanced_accuracy", "true_removed",
                                       "false_confirmed")}}


def replayed(row: dict, reading: str | None) -> str:
    """Today's verdict on a row given the model's recorded reading (None: it gave none)."""
    if reading not in ("supported", "contradicted"):
        return judge(row["claim"], row["passage"]).verdict
    return with_reading(row["claim"], passage_hit(row["passage"]), Override(reading, 1, ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("claims")
    ap.add_argument("report", help="a claims_halves.py --llm report with the model's readings (llm.read)")
    ap.add_argument("--half", choices=("dev", "held-out"), required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--task", choices=("qa", "summary"))
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    try:
        report = json.loads(Path(args.report).read_text(encoding="utf-8"))
        read = {r["id"]: r for r in report[args.half]["llm"]["read"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise SystemExit(f"{args.report}: not a claims_halves.py --llm report of the {args.half} half with the "
                         "model's readings (llm.read); run claims_halves.py with --llm and --json first") from None
    try:
        claims = load_claims(args.claims)
    except InputError as exc:
        raise SystemExit(str(exc)) from None
    rows = halves.picked(claims, args.half, args.task, args.limit, args.skip)
    if report[args.half].get("claims") not in (None, len(rows)):
        raise SystemExit(f"{args.report} scored {report[args.half]['claims']} rows, these options pick {len(rows)}: "
                         "give the --half, --limit and --skip of its run")
    rules = {r["id"]: judge(r["claim"], r["passage"]).verdict for r in rows}
    as_run = {r["id"]: read[r["id"]]["verdict"] if r["id"] in read else rules[r["id"]] for r in rows}
    now = {r["id"]: replayed(r, read[r["id"]]["llm"]) if r["id"] in read else rules[r["id"]] for r in rows}
    out = {"half": args.half, "rows": len(rows), "readings": sum(1 for r in read.values() if r["llm"]),
           "rules": scores(rows, rules), "as_run": scores(rows, as_run), "now": scores(rows, now)}
    for name in ("rules", "as_run", "now"):
        print(f"{name:<7} " + "  ".join(f"{k} {v}" for k, v in out[name].items()))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
