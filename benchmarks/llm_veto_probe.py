"""Does the local model tell the hallucinated sentences the rules confirm from the true ones? A probe, not a part
of the product: each sentence the rules confirm (all hallucinated ones of a RAGTruth half, and a random sample of
the true ones) is shown to the model beside its confirming window (with about 200 characters either side), and
the model's log-probability of "Yes" minus "No" to the question of `prompts/veto_probe_user.md` is its score
(one call per sentence, one token written).

    python benchmarks/llm_veto_probe.py ../shared/eval/ragtruth/claims.jsonl --half dev --true-sample 135 \\
        --json benchmarks/results/llm_veto_probe_dev.json

With `--batched N`, one call per response instead (`prompts/veto_probe_batch*.md`): every confirmed sentence of a
response with its window, numbered, the model writing "<n>: Yes" or "<n>: No" per line and the k-th Yes/No it
writes read as sentence k's; the responses are those holding a confirmed hallucinated sentence and N
others drawn at random (all their confirmed sentences count).

Prints the AUC (a hallucinated sentence scoring below a true one) beside the rules' own coverage share, and what
a veto below a few scores would flag; `--json` writes ids and numbers, no text. Needs `make local`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from claims_halves import half  # noqa: E402
from common import emit  # noqa: E402

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
    ap.add_argument("--batched", type=int, default=0, help="one call per response: the responses with a confirmed "
                    "hallucinated sentence and this many others")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    from rag.llms.bundled import bundled_model
    from rag.llms.gguf import _load

    engine = _load(str(bundled_model()), 8192, 1, 2)  # a batch of windows needs more than 2,048 tokens
    confirmed = []
    for row in load_claims(args.claims):
        if half(row) == args.half:
            v = judge(row["claim"], row["passage"])
            if v.ok:
                confirmed.append((row, v))
    bad = [x for x in confirmed if not x[0]["supported"]]
    good = [x for x in confirmed if x[0]["supported"]]
    random.seed(args.seed)
    if args.batched:
        out = _batched(engine, confirmed, args.batched)
        return _report(args, confirmed, bad, good, out, len([r for r in out if r["supported"]]))
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
        out.append({"id": row["id"], "supported": row["supported"], "score": _yes_minus_no(top),
                    "coverage": round(v.coverage, 4), "seconds": round(time.perf_counter() - t0, 2)})
    return _report(args, confirmed, bad, good, out, len(picked) - len(bad))


def _batched(engine, confirmed: list, others: int) -> list[dict]:
    """One call per response: the responses holding a confirmed hallucinated sentence and `others` more."""
    by_response: dict[str, list] = {}
    for row, v in confirmed:
        by_response.setdefault(row.get("response_id") or row["id"], []).append((row, v))
    with_bad = [k for k, xs in by_response.items() if any(not r["supported"] for r, _ in xs)]
    rest = sorted(set(by_response) - set(with_bad))
    picked = with_bad + random.sample(rest, min(others, len(rest)))
    out = []
    for key in picked:
        items = by_response[key]
        blocks = "\n\n".join(load_prompt("veto_probe_batch_item").format(
            n=n, passage=context(row["passage"], v.span), claim=row["claim"]) for n, (row, v) in enumerate(items, 1))
        body = {"messages": [{"role": "system", "content": load_prompt("veto_probe_batch")},
                             {"role": "user", "content": blocks}],
                "max_tokens": 8 * len(items) + 8, "temperature": 0.0, "logprobs": True, "top_logprobs": 10,
                "stream": False, "cache_prompt": False}
        t0 = time.perf_counter()
        reply = engine.server.handle_chat_completions(body)
        seconds = time.perf_counter() - t0
        scores = _line_scores(reply["choices"][0]["logprobs"]["content"], len(items))
        for n, (row, v) in enumerate(items, 1):
            out.append({"id": row["id"], "supported": row["supported"], "score": scores.get(n),
                        "coverage": round(v.coverage, 4), "seconds": round(seconds / len(items), 2)})
    return out


def _line_scores(tokens: list[dict], n: int) -> dict[int, float]:
    """{line: log P(Yes) - log P(No)} for the first n Yes/No tokens the reply writes, in order (the k-th answers
    sentence k; the numbers the model writes are not trusted: a small model may number every line "1")."""
    scores: dict[int, float] = {}
    for t in tokens:
        if t["token"].strip().lower() in ("yes", "no") and len(scores) < n:
            scores[len(scores) + 1] = _yes_minus_no(t["top_logprobs"])
    return scores


def _yes_minus_no(top: list[dict]) -> float:
    """log P(Yes) - log P(No) among a written token's top alternatives (-30 for a word not among them)."""
    def logprob(word: str) -> float:
        return max([x["logprob"] for x in top if x["token"].strip().lower() == word] or [-30.0])

    return round(logprob("yes") - logprob("no"), 4)


def _report(args, confirmed, bad, good, out, true_sampled) -> int:
    scored = [r for r in out if r["score"] is not None]
    report = {
        "half": args.half, "batched": args.batched, "confirmed_by_rules": len(confirmed),
        "hallucinated_confirmed": len(bad), "true_confirmed": len(good), "true_sampled": true_sampled,
        "unread": len(out) - len(scored),
        "auc_model": round(auc([(r["supported"], r["score"]) for r in scored]), 3),
        "auc_coverage": round(auc([(r["supported"], r["coverage"]) for r in scored]), 3),
        "seconds_p50": statistics.median(r["seconds"] for r in out),
        "veto": {str(t): {"hallucinated": sum(1 for r in scored if not r["supported"] and r["score"] < t),
                          "true_in_sample": sum(1 for r in scored if r["supported"] and r["score"] < t)}
                 for t in (-1, 0, 1, 2)},
        "rows": out,
    }
    emit(report, args.json_out, hide=("rows",))
    return 0


if __name__ == "__main__":
    sys.exit(main())
