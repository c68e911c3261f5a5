"""The claim check's figures on each half of a claims file, split by source (the row's `article_id`), so a
setting chosen on one half can be checked on the other.

    python benchmarks/claims_halves.py ../shared/eval/ragtruth/claims.jsonl [--json OUT]
        [--llm local [--llm-half held-out] --limit N [--skip M]]

Half "dev" holds the sources whose CRC-32 of `article_id` is even (the half the rules' settings were chosen on),
"held-out" the others. Prints numbers only; `--json` writes both reports (ids and numbers, no text). With
`--llm`, the LLM pass reads the unconfirmed claims of the first N responses of the dev half, or of the held-out half
with `--llm-half held-out` (one call each); `--skip M` starts after the first M responses.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.check.claims import SUPPORT_THRESHOLD  # noqa: E402
from rag.eval.claims import format_claims_report, load_claims, score_claims  # noqa: E402


def half(row: dict) -> str:
    return "dev" if zlib.crc32(str(row.get("article_id") or row["id"]).encode()) % 2 == 0 else "held-out"


def responses(rows: list[dict], limit: int = 0, skip: int = 0) -> list[dict]:
    """The rows of the responses after the first `skip` (in file order), at most `limit` responses (0: all)."""
    order = list(dict.fromkeys(r.get("response_id") or r["id"] for r in rows))
    keep = set(order[skip:skip + limit] if limit else order[skip:])
    return [r for r in rows if (r.get("response_id") or r["id"]) in keep]


def picked(rows: list[dict], name: str, task: str | None = None, limit: int = 0, skip: int = 0) -> list[dict]:
    """The rows an LLM-pass run reads: half `name`, RAGTruth task `task` (rows whose kind begins ragtruth_qa_ or
    ragtruth_summary_; None: both), then `responses(…, limit, skip)`."""
    part = [r for r in rows if half(r) == name
            and (not task or str(r.get("kind", "")).startswith(f"ragtruth_{task}_"))]
    return responses(part, limit, skip)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("claims")
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--threshold", type=float, default=SUPPORT_THRESHOLD,
                    help="the support threshold (NEWSRAG_SUPPORT_THRESHOLD; default the check's own)")
    ap.add_argument("--llm", help="a model for the LLM pass (local, gguf:PATH, openai:MODEL, ollama:MODEL)")
    ap.add_argument("--limit", type=int, default=0, help="with --llm: only the first N responses of that half")
    ap.add_argument("--skip", type=int, default=0, help="with --llm: leave out that half's first N responses "
                    "(to extend an earlier --limit run with the next ones)")
    ap.add_argument("--task", choices=("qa", "summary"), help="with --llm: only that task's responses (RAGTruth "
                    "rows' kind begins ragtruth_qa_ or ragtruth_summary_; each half lists its summaries first)")
    ap.add_argument("--llm-half", choices=("dev", "held-out"), default="dev",
                    help="with --llm: the half whose responses the LLM pass reads (the other is not scored)")
    args = ap.parse_args(argv)
    rows = load_claims(args.claims)
    reports = {}
    for name in ("dev", "held-out"):
        part = [r for r in rows if half(r) == name]
        llm = None
        if args.llm and name == args.llm_half:
            from rag.answer.answerers.llm import LLMAnswerer
            from rag.core.settings import Settings
            from rag.llms.choose import make_chat_model

            model, label, _ = make_chat_model(Settings.from_env(llm=args.llm))
            llm = LLMAnswerer(model, label)
            part = picked(rows, name, args.task, args.limit, args.skip)
        elif args.llm:
            continue
        reports[name] = score_claims(part, llm=llm, threshold=args.threshold)
        print(f"== {name} ({len(part)} rows)")
        print("\n".join(format_claims_report(reports[name]).splitlines()[:6]))
    if args.json_out:
        for r in reports.values():
            r.pop("wrong", None)
        Path(args.json_out).write_text(json.dumps(reports, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
