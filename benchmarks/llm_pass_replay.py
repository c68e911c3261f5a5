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

from rag.check.citations import Checker, Override  # noqa: E402
from rag.check.claims import judge  # noqa: E402
from rag.core.schema import Hit, Passage  # noqa: E402
from rag.eval.claims import load_claims  # noqa: E402

_spec = importlib.util.spec_from_file_location("claims_halves", ROOT / "benchmarks" / "claims_halves.py")
halves = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(halves)


def scores(rows: list[dict], verdicts: dict[str, str]) -> dict[str, float | int]:
    """kept_supported, rejected_unsupported, balanced_accuracy, true_removed, false_confirmed (as `newsrag eval
    --claims` defines them) of `verdicts` {row id: verdict} on `rows`."""
    true = [r for r in rows if r["supported"]]
    false = [r for r in rows if not r["supported"]]
    if not true or not false:
        raise SystemExit("these rows hold only one label: balanced accuracy needs both supported and unsupported rows")
    kept = sum(verdicts[r["id"]] == "supported" for r in true) / len(true)
    confirmed = sum(verdicts[r["id"]] == "supported" for r in false) / len(false)
    removed = sum(verdicts[r["id"]] == "contradicted" for r in true) / len(true)
    return {"supported": len(true), "unsupported": len(false), "kept_supported": round(kept, 3),
            "rejected_unsupported": round(1 - confirmed, 3), "balanced_accuracy": round((kept + 1 - confirmed) / 2, 3),
            "true_removed": round(removed, 3), "false_confirmed": round(confirmed, 3)}


def replayed(row: dict, reading: str | None) -> str:
    """Today's verdict on a row given the model's recorded reading (None: it gave none)."""
    if reading not in ("supported", "contradicted"):
        return judge(row["claim"], row["passage"]).verdict
    text = row["passage"]
    hit = Hit(Passage(id="p:0", article_id="p", index=0, start=0, end=len(text), text=text, title="", source=None,
                      published_at=None), score=1.0)
    return Checker([hit], overrides={row["claim"]: Override(reading, 1, "")}).add(row["claim"]).verdict


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
    rows = [r for r in load_claims(args.claims) if halves.half(r) == args.half
            and (not args.task or str(r.get("kind", "")).startswith(f"ragtruth_{args.task}_"))]
    rows = halves.responses(rows, args.limit, args.skip)
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
