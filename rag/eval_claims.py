"""`newsrag eval --claims FILE`: score the claim check on its own, on rows of
``{id, passage, claim, supported, kind}`` (the format of ../shared/eval/claims/claims.jsonl).

Reports the share of unsupported claims rejected and of supported claims kept, overall and by `kind`, which
rule rejected what, and the time per claim (p50/p95 wall clock, and CPU time, measured cold: the passage's
parse is not reused from an earlier claim). The JSON report holds numbers and ids only, never passage or claim text.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .claims import clear_caches, judge
from .errors import InputError

__all__ = ["load_claims", "score_claims", "format_claims_report", "main_claims"]


def load_claims(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a claims file; a clear InputError naming the line for anything unusable."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"No claims file at {p}: pass --claims FILE with one JSON object a line "
                         "({id, passage, claim, supported, kind}).")
    rows = []
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}:{n} is not JSON ({exc.msg}); each line must be one claim object.") from None
            missing = [k for k in ("passage", "claim", "supported") if k not in row] if isinstance(row, dict) else ["all"]
            if missing or not isinstance(row.get("supported"), bool):
                raise InputError(f"{p}:{n} lacks {', '.join(missing) or 'a true/false supported'}: each claim needs "
                                 "passage, claim and supported (true/false).")
            row.setdefault("id", f"line{n}")
            row.setdefault("kind", "supported" if row["supported"] else "unsupported")
            rows.append(row)
    if not rows:
        raise InputError(f"{p} holds no claims.")
    return rows


def score_claims(rows: Sequence[dict[str, Any]], *, threshold: float = 0.5) -> dict[str, Any]:
    """Run the check on every row; the report of the module docstring."""
    right: dict[str, list[bool]] = defaultdict(list)
    rules: dict[str, Counter] = defaultdict(Counter)
    times: list[float] = []
    cpu: list[float] = []  # process time: what the check costs when other work shares the cores
    wrong: list[dict[str, Any]] = []
    for row in rows:
        clear_caches()
        t0, c0 = time.perf_counter(), time.process_time()
        v = judge(row["claim"], row["passage"], threshold=threshold)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        ok = v.ok == row["supported"]
        right[row["kind"]].append(ok)
        rules[row["kind"]][v.rule or "kept"] += 1
        if not ok:
            wrong.append({"id": row["id"], "kind": row["kind"], "rule": v.rule or "kept"})
    sup = [ok for row, ok in _pairs(rows, right) if row["supported"]]
    uns = [ok for row, ok in _pairs(rows, right) if not row["supported"]]
    ms = np.array(times)
    return {
        "claims": len(rows),
        "threshold": threshold,
        "rejected_unsupported": _share(uns),
        "kept_supported": _share(sup),
        "by_kind": {k: {"n": len(v), "right": _share(v), "verdicts": dict(rules[k])} for k, v in sorted(right.items())},
        "ms_p50": round(float(np.percentile(ms, 50)), 2),
        "ms_p95": round(float(np.percentile(ms, 95)), 2),
        "ms_max": round(float(ms.max()), 2),
        "cpu_ms_p50": round(float(np.percentile(cpu, 50)), 2),
        "cpu_ms_p95": round(float(np.percentile(cpu, 95)), 2),
        "wrong": wrong,
    }


def _pairs(rows: Sequence[dict[str, Any]], right: dict[str, list[bool]]):
    seen: Counter = Counter()
    for row in rows:
        i = seen[row["kind"]]
        seen[row["kind"]] += 1
        yield row, right[row["kind"]][i]


def _share(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def format_claims_report(report: dict[str, Any]) -> str:
    lines = [f"claims: {report['claims']}  rejected_unsupported {report['rejected_unsupported']}  "
             f"kept_supported {report['kept_supported']}  ms p50 {report['ms_p50']} p95 {report['ms_p95']} "
             f"(cpu {report['cpu_ms_p50']} / {report['cpu_ms_p95']})",
             "", f"{'kind':<22}{'n':>5}{'right':>8}  verdicts"]
    for kind, k in report["by_kind"].items():
        verdicts = ", ".join(f"{r} {c}" for r, c in sorted(k["verdicts"].items(), key=lambda x: -x[1]))
        lines.append(f"{kind:<22}{k['n']:>5}{k['right']:>8}  {verdicts}")
    return "\n".join(lines)


def main_claims(path: str, json_out: str | None = None, threshold: float = 0.5) -> int:
    report = score_claims(load_claims(path), threshold=threshold)
    print(format_claims_report(report))
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nwrote {json_out}")
    return 0
