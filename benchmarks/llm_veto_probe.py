"""Does the local model tell the hallucinated sentences the rules confirm from the true ones? A probe, not a part
of the product: each sentence the rules confirm (all hallucinated ones of a RAGTruth half, and a random sample of
the true ones) is shown to the model beside its confirming window (with about 200 characters either side), and
the model's log-probability of "Yes" minus "No" to the question of `prompts/veto_probe_user.md` is its score
(one call per sentence, one token written).

    python benchmarks/llm_veto_probe.py ../shared/eval/ragtruth/claims.jsonl --half dev --true-sample 135 \\
        --json benchmarks/results/llm_veto_probe_dev.json

Prints the AUC (a hallucinated sentence scoring below a true one) beside the rules' own coverage share, and what
a veto below a few scores would flag; `--json` writes ids and numbers, no text. Needs `make local`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from claims_halves import half  # noqa: E402

from rag.check.claims import judge  # noqa: E402
from rag.core.prompts import load_prompt  # noqa: E402
from rag.eval.claims import load_claims  # noqa: E402



def context(passage: str, span: tuple[int, int], reach: int = 200, most: int = 1500) -> str:
    """The confirming window with about `reach` characters either side, cut at sentence ends."""
    s, e = span
    a = passage.rfind(". ", 0, max(0, s - reach))
    b = passage.find(". ", min(len(passage), e + reach))
    return passage[0 if a < 0 else a + 2:len(passage) if b < 0 else b + 1][:most]


def auc(scores: list[tuple[bool, float]]) -> float:
    """The chance that a hallucinated sentence scores below a true one (ties count half)."""
    bad = [s for ok, s in scores if not ok]
    good = [s for ok, s in scores if ok]
    return sum((b < g) + 0.5 * (b == g) for b in bad for g in good) / (len(bad) * len(good))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("claims")
    ap.add_argument("--half", choices=("dev", "held-out"), default="dev")
    ap.add_argument("--true-sample", type=int, default=135)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    from rag.llms.bundled import bundled_model
    from rag.llms.gguf import _load

    engine = _load(str(bundled_model()), 2048, 1, 2)
    confirmed = []
    for row in load_claims(args.claims):
        if half(row) == args.half:
            v = judge(row["claim"], row["passage"])
            if v.ok:
                confirmed.append((row, v))
    bad = [x for x in confirmed if not x[0]["supported"]]
    good = [x for x in confirmed if x[0]["supported"]]
    random.seed(args.seed)
    picked = bad + random.sample(good, min(args.true_sample, len(good)))
    out = []
    for row, v in picked:
        ask = load_prompt("veto_probe_user").format(passage=context(row["passage"], v.span), claim=row["claim"])
        body = {"messages": [{"role": "system", "content": load_prompt("veto_probe")},
                             {"role": "user", "content": ask}],
                "max_tokens": 1, "temperature": 0.0, "logprobs": True, "top_logprobs": 10, "stream": False,
                "cache_prompt": False}
        t0 = time.perf_counter()
        reply = engine.server.handle_chat_completions(body)
        top = reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]

        def logprob(word: str) -> float:
            return max([t["logprob"] for t in top if t["token"].strip().lower() == word] or [-30.0])

        out.append({"id": row["id"], "supported": row["supported"], "score": round(logprob("yes") - logprob("no"), 4),
                    "coverage": round(v.coverage, 4), "seconds": round(time.perf_counter() - t0, 2)})
    report = {
        "half": args.half, "confirmed_by_rules": len(confirmed), "hallucinated_confirmed": len(bad),
        "true_confirmed": len(good), "true_sampled": len(picked) - len(bad),
        "auc_model": round(auc([(r["supported"], r["score"]) for r in out]), 3),
        "auc_coverage": round(auc([(r["supported"], r["coverage"]) for r in out]), 3),
        "seconds_p50": statistics.median(r["seconds"] for r in out),
        "veto": {str(t): {"hallucinated": sum(1 for r in out if not r["supported"] and r["score"] < t),
                          "true_in_sample": sum(1 for r in out if r["supported"] and r["score"] < t)}
                 for t in (-1, 0, 1, 2)},
        "rows": out,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=1))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
