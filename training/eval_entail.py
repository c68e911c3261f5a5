"""Score an entailment checkpoint beside the rules on RAGTruth, by part: dev "A" (trained on), dev "B" (thresholds
chosen on), "held-out" (reported). Writes each row's rules verdict, rule and model probability to a JSON file
(ids and numbers only) and prints the figures the veto / rescue thresholds would give.

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD python training/eval_entail.py ../shared/eval/ragtruth/claims.jsonl \
        --model /tmp/entail/step600.safetensors --out /tmp/entail/step600.scores.json [--parts B held-out]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from rag.check.claims import judge  # the rules (the product's check)
from training.entail_model import EntailModel, premise
from training.train_entail import dev_part


def figures(rows: list[dict], verdicts: list[str]) -> dict:
    sup = [v for r, v in zip(rows, verdicts) if r["supported"]]
    uns = [v for r, v in zip(rows, verdicts) if not r["supported"]]
    kept = sum(v == "supported" for v in sup) / max(1, len(sup))
    rejected = 1 - sum(v == "supported" for v in uns) / max(1, len(uns))
    return {"n": len(rows), "true_removed": round(sum(v == "contradicted" for v in sup) / max(1, len(sup)), 3),
            "false_confirmed": round(1 - rejected, 3), "balanced_accuracy": round((kept + rejected) / 2, 3),
            "kept_supported": round(kept, 3)}


def apply(rows: list[dict], veto: float, rescue: float, rescue_rules=("words",)) -> list[str]:
    out = []
    for r in rows:
        v, p = r["verdict"], r["p"]
        if v == "supported" and p < veto:
            v = "unconfirmed"
        elif v == "unconfirmed" and r["rule"] in rescue_rules and p > rescue:
            v = "supported"
        out.append(v)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("claims")
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--parts", nargs="+", default=["A", "B", "held-out"])
    args = ap.parse_args(argv)
    m = EntailModel(args.model)
    rows = []
    times = []
    with open(args.claims, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = json.loads(line)
            part = dev_part(r.get("article_id") or r["id"])
            if part not in args.parts:
                continue
            v = judge(r["claim"], r["passage"])
            t0 = time.perf_counter()
            p = float(m.probabilities([r["claim"]], [premise(r["claim"], r["passage"], m.premise_words)])[0])
            times.append((time.perf_counter() - t0) * 1000)
            rows.append({"id": r["id"], "part": part, "supported": r["supported"], "verdict": v.verdict,
                         "rule": v.rule, "coverage": round(v.coverage, 3), "p": round(p, 5)})
    Path(args.out).write_text(json.dumps(rows) + "\n")
    print(f"model ms per sentence p50 {np.percentile(times, 50):.1f} p95 {np.percentile(times, 95):.1f}")
    # veto thresholds: the 2nd .. 30th percentiles of the model's probability on what the rules confirm in the
    # first part named (B: the part thresholds are chosen on)
    first = [r["p"] for r in rows if r["part"] == args.parts[0] and r["verdict"] == "supported"]
    grid = sorted({round(float(np.percentile(first, q)), 3) for q in (2, 5, 10, 15, 20, 30)})
    for part in args.parts:
        sub = [r for r in rows if r["part"] == part]
        ys = np.array([r["supported"] for r in sub])
        ps = np.array([r["p"] for r in sub])
        from sklearn.metrics import roc_auc_score

        auc = roc_auc_score(ys, ps) if 0 < ys.sum() < len(ys) else float("nan")
        ruled = [r for r in sub if r["verdict"] == "supported"]
        auc_s = roc_auc_score([r["supported"] for r in ruled], [r["p"] for r in ruled]) if ruled else float("nan")
        print(f"== {part}: AUC {auc:.3f}, among rules-supported {auc_s:.3f}; rules {figures(sub, [r['verdict'] for r in sub])}")
        for veto in grid:
            print(f"  veto<{veto}: {figures(sub, apply(sub, veto, 2.0))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
