"""`newsrag eval --claims FILE`: score the claim check on its own, on rows of
``{id, passage, claim, supported, kind}`` (the format of ../shared/eval/claims/claims.jsonl).

Each claim gets the check's verdict: supported, contradicted or unconfirmed (rag/check/claims). Reports, supported vs
not: the share of unsupported claims rejected (`rejected_unsupported`), of supported claims kept
(`kept_supported`) and their mean (`balanced_accuracy`); what a user would lose or be misled by:
`true_removed` (supported claims judged contradicted, which the answer removes) and `false_confirmed`
(unsupported claims judged supported, which the answer shows as cited fact); the verdict counts by label and by
`kind`, which rule decided what; when rows carry `response_id`, the response-level precision, recall and F1 for
hallucinated responses (a response is flagged when any of its sentences is not supported); and the time per
claim (p50/p95 wall clock and CPU time, measured cold). With `llm`, the claims the rules leave unconfirmed go to
that chat model, one call per response as in an answer (rag/check/verify_llm.py). The JSON report holds numbers and ids
only, never passage or claim text.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.check.claims import SUPPORT_THRESHOLD, clear_caches, judge
from rag.core.errors import InputError

__all__ = ["load_claims", "score_claims", "label_figures", "passage_hit", "with_reading", "format_claims_report",
           "main_claims"]


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


def score_claims(rows: Sequence[dict[str, Any]], *, threshold: float = SUPPORT_THRESHOLD, llm: Any = None,
                 llm_timeout: float = 120.0) -> dict[str, Any]:
    """Run the check on every row; the report of the module docstring."""
    rules: dict[str, Counter] = defaultdict(Counter)
    times: list[float] = []
    cpu: list[float] = []  # process time: what the check costs when other work shares the cores
    verdicts: list[str] = []
    for row in rows:
        clear_caches()
        t0, c0 = time.perf_counter(), time.process_time()
        v = judge(row["claim"], row["passage"], threshold=threshold)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        verdicts.append(v.verdict)
        rules[row["kind"]][v.rule or "kept"] += 1
    llm_report = _llm_pass(rows, verdicts, llm, llm_timeout) if llm is not None else None
    right: dict[str, list[bool]] = defaultdict(list)
    wrong: list[dict[str, Any]] = []
    for row, verdict in zip(rows, verdicts):
        ok = (verdict == "supported") == row["supported"]
        right[row["kind"]].append(ok)
        if not ok:
            wrong.append({"id": row["id"], "kind": row["kind"], "verdict": verdict})
    ms = np.array(times)
    report = {
        "claims": len(rows),
        "threshold": threshold,
        **label_figures(rows, verdicts),
        "by_kind": {k: {"n": len(v), "right": _share(v), "verdicts": dict(rules[k])} for k, v in sorted(right.items())},
        "ms_p50": round(float(np.percentile(ms, 50)), 2),
        "ms_p95": round(float(np.percentile(ms, 95)), 2),
        "ms_max": round(float(ms.max()), 2),
        "cpu_ms_p50": round(float(np.percentile(cpu, 50)), 2),
        "cpu_ms_p95": round(float(np.percentile(cpu, 95)), 2),
        "wrong": wrong,
    }
    responses = _responses(rows, verdicts)
    if responses:
        report["responses"] = responses
    if llm_report:
        report["llm"] = llm_report
    return report


def label_figures(rows: Sequence[dict[str, Any]], verdicts: Sequence[str]) -> dict[str, Any]:
    """rejected_unsupported, kept_supported, balanced_accuracy, true_removed, false_confirmed and the verdict
    counts by label, of `verdicts` (one per row, in order) against the rows' `supported` labels."""
    by_label: dict[str, Counter] = {"supported": Counter(), "unsupported": Counter()}
    for row, verdict in zip(rows, verdicts):
        by_label["supported" if row["supported"] else "unsupported"][verdict] += 1
    sup = by_label["supported"]
    uns = by_label["unsupported"]
    kept = _ratio(sup["supported"], sum(sup.values()))
    rejected = _ratio(sum(uns.values()) - uns["supported"], sum(uns.values()))
    return {
        "rejected_unsupported": rejected,
        "kept_supported": kept,
        "balanced_accuracy": round((kept + rejected) / 2, 3) if kept is not None and rejected is not None else None,
        "true_removed": _ratio(sup["contradicted"], sum(sup.values())),
        "false_confirmed": _ratio(uns["supported"], sum(uns.values())),
        "verdicts": {label: dict(c) for label, c in by_label.items()},
    }


def passage_hit(text: str) -> Any:
    """A claims row's passage as the one Hit the check reads (no outlet, no date)."""
    from rag.core.schema import Hit, Passage

    return Hit(Passage(id="p:0", article_id="p", index=0, start=0, end=len(text), text=text, title="", source=None,
                       published_at=None), score=1.0)


def with_reading(claim: str, hit: Any, override: Any) -> str:
    """The check's verdict on `claim` against `hit` given an LLM's reading of it (rag.check.citations.Override)."""
    from rag.check.citations import Checker

    return Checker([hit], overrides={claim: override}).add(claim).verdict


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def _responses(rows: Sequence[dict[str, Any]], verdicts: Sequence[str]) -> dict[str, Any] | None:
    """Response-level precision / recall / F1 for hallucinated responses, by task (the rows' kind prefix)."""
    groups: dict[str, dict[str, list]] = defaultdict(dict)
    for row, verdict in zip(rows, verdicts):
        rid = row.get("response_id")
        if rid is None:
            return None
        task = "summary" if "summary" in row["kind"] else "qa" if "_qa" in row["kind"] else "all"
        entry = groups[task].setdefault(rid, [False, False, False])  # truly hallucinated, flagged, contradicted
        entry[0] |= not row["supported"]
        entry[1] |= verdict != "supported"
        entry[2] |= verdict == "contradicted"
    out = {}
    for task, items in sorted(groups.items()):
        out[task] = {"responses": len(items), **_prf([(t, f) for t, f, _ in items.values()]),
                     "contradicted_only": _prf([(t, c) for t, _, c in items.values()])}
    return out


def _prf(pairs: list[tuple[bool, bool]]) -> dict[str, float | None]:
    tp = sum(t and f for t, f in pairs)
    fp = sum(f and not t for t, f in pairs)
    fn = sum(t and not f for t, f in pairs)
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f1 = 2 * p * r / (p + r) if p and r else None
    return {"precision": _round(p), "recall": _round(r), "f1": _round(f1)}


def _round(x: float | None) -> float | None:
    return round(x, 3) if x is not None else None


def _llm_pass(rows: Sequence[dict[str, Any]], verdicts: list[str], llm: Any, timeout: float) -> dict[str, Any]:
    """The unconfirmed claims, one call per response (or per row without response_id), read by the chat model;
    `verdicts` updated in place. Returns calls made, their seconds and how many verdicts changed."""
    from rag.check.verify_llm import verify_unconfirmed

    groups: dict[Any, list[int]] = defaultdict(list)
    for i, (row, verdict) in enumerate(zip(rows, verdicts)):
        if verdict == "unconfirmed":
            groups[(row.get("response_id") or row["id"], row["passage"])].append(i)
    seconds: list[float] = []
    changed: Counter = Counter()
    notices: Counter = Counter()
    read: list[dict[str, Any]] = []  # per claim sent: the model's reading and the verdict it led to (no text)
    for (_, text), idx in groups.items():
        hit = passage_hit(text)
        t0 = time.perf_counter()
        overrides, notice = verify_unconfirmed(llm.chat_model, [rows[i]["claim"] for i in idx], [hit],
                                               timeout=timeout, name=llm.name)
        seconds.append(time.perf_counter() - t0)
        if notice:
            notices[notice.split(" (")[0][:60]] += 1
        for i in idx:
            o = overrides.get(rows[i]["claim"])
            if o is not None:
                verdicts[i] = with_reading(rows[i]["claim"], hit, o)
                changed[verdicts[i]] += 1
            read.append({"id": rows[i]["id"], "llm": o.verdict if o else None, "verdict": verdicts[i],
                         "failed": bool(notice)})
    s = np.array(seconds) if seconds else np.zeros(1)
    return {"model": llm.name, "calls": len(seconds), "changed_to": dict(changed), "failures": dict(notices),
            "seconds_p50": round(float(np.percentile(s, 50)), 2), "seconds_p95": round(float(np.percentile(s, 95)), 2),
            "read": read}


def _share(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def format_claims_report(report: dict[str, Any]) -> str:
    lines = [f"claims: {report['claims']}  rejected_unsupported {report['rejected_unsupported']}  "
             f"kept_supported {report['kept_supported']}  balanced_accuracy {report['balanced_accuracy']}",
             f"true_removed {report['true_removed']}  false_confirmed {report['false_confirmed']}  "
             f"ms p50 {report['ms_p50']} p95 {report['ms_p95']} (cpu {report['cpu_ms_p50']} / {report['cpu_ms_p95']})",
             "verdicts: " + "; ".join(f"{label}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                                      for label, c in report["verdicts"].items())]
    for task, r in (report.get("responses") or {}).items():
        lines.append(f"responses ({task}, n={r['responses']}): hallucinated-response precision {r['precision']} "
                     f"recall {r['recall']} F1 {r['f1']} (contradicted only: F1 {r['contradicted_only']['f1']})")
    if report.get("llm"):
        lines.append(f"llm pass: { {k: v for k, v in report['llm'].items() if k != 'read'} }")
    lines += ["", f"{'kind':<22}{'n':>5}{'right':>8}  verdicts"]
    for kind, k in report["by_kind"].items():
        verdicts = ", ".join(f"{r} {c}" for r, c in sorted(k["verdicts"].items(), key=lambda x: -x[1]))
        lines.append(f"{kind:<22}{k['n']:>5}{k['right']:>8}  {verdicts}")
    return "\n".join(lines)


def main_claims(path: str, json_out: str | None = None, threshold: float = SUPPORT_THRESHOLD, llm: Any = None,
                llm_timeout: float = 120.0) -> int:
    report = score_claims(load_claims(path), threshold=threshold, llm=llm, llm_timeout=llm_timeout)
    print(format_claims_report(report))
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nwrote {json_out}")
    return 0
