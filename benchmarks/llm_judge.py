"""Can the bundled SmolLM2-135M choose the answering sentence? A yes/no judge over the answerer's best statements.

Reads the hits that `benchmarks/answer_first.py --hits FILE` cached, takes the `--top` best statements of each
grounded question as `ExtractiveAnswerer._ranked` orders them, and asks the bundled model, per statement, whether
it gives the answer to the question: the judge's score is log P(Yes) - log P(No) for its next token. It then
counts, for each weight w, how many questions get a statement holding the gold first when the statements are
ordered by lexical score + w x judge score (w = 0: the answerer's own order; the last row is the judge alone).
The answerer alone, as in `first_sentence_grid.py`: no refusal, floor or claim check. Numbers only.

    python benchmarks/llm_judge.py --hits /tmp/rt-hits.pkl --questions ../shared/eval/realtimeqa/questions.jsonl

About 0.7 s per statement on two cores (8 statements x 121 questions: ~11 minutes); --scores FILE keeps the
judge's scores so that a rerun only reweighs them.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_first import grounded_hits  # noqa: E402
from rag.answerers.extractive import ExtractiveAnswerer  # noqa: E402
from rag.eval_metrics import Corpus, contains_answer, gold_of  # noqa: E402

PROMPT = "Question: {q}\nSentence: {s}\nDoes the sentence give the answer to the question? Reply Yes or No."


class Judge:
    def __init__(self) -> None:
        import torch

        from rag.local_model import DEFAULT_GGUF, _load, bundled_model_path

        self.torch = torch
        self.tok, self.model, _ = _load(str(bundled_model_path()), DEFAULT_GGUF)
        enc = lambda w: self.tok.encode(w, add_special_tokens=False)[-1]  # noqa: E731
        self.yes, self.no = [enc(" Yes"), enc("Yes")], [enc(" No"), enc("No")]

    def __call__(self, question: str, sentence: str) -> float:
        torch = self.torch
        msgs = [{"role": "user", "content": PROMPT.format(q=question, s=sentence)}]
        ids = self.tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt")
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        with torch.no_grad():
            logp = torch.log_softmax(self.model(ids).logits[0, -1], -1)
        return float(torch.logsumexp(logp[self.yes], 0) - torch.logsumexp(logp[self.no], 0))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hits", required=True, help="the pickle answer_first.py --hits wrote")
    ap.add_argument("--questions", required=True)
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--weights", default="0,0.05,0.1,0.2,0.3,0.5,1")
    ap.add_argument("--scores", help="pickle of the judge's scores (read when present, written after)")
    ap.add_argument("--json")
    args = ap.parse_args()
    scores: dict = pickle.loads(Path(args.scores).read_bytes()) if args.scores and Path(args.scores).exists() else {}
    judge = None
    corpus = Corpus.from_texts([])
    rows = []  # per question: [(lexical score, judge score, holds the gold)]
    for q, hits in grounded_hits(args.hits, args.questions):
        text = str(q["question"])
        gold = gold_of(q, corpus).answers
        units = (ExtractiveAnswerer()._ranked(text, hits) or [])[: args.top]
        row = []
        for u in units:
            key = (text, u.text)
            if key not in scores:
                judge = judge or Judge()
                scores[key] = judge(text, u.text)
            row.append((u.score, scores[key], contains_answer(u.text, gold)))
        rows.append(row)
    if args.scores:
        Path(args.scores).write_bytes(pickle.dumps(scores))

    def firsts(w: float | None) -> int:
        key = (lambda x: x[1]) if w is None else (lambda x: x[0] + w * x[1])
        return sum(max(r, key=key)[2] for r in rows if r)

    report = {"questions": len(rows), "top": args.top,
              "gold_in_top": sum(any(x[2] for x in r) for r in rows),
              "random_first": round(sum(sum(x[2] for x in r) / len(r) for r in rows if r), 1),
              "first_by_weight": {w: firsts(float(w)) for w in args.weights.split(",")},
              "judge_alone": firsts(None)}
    print(json.dumps(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
