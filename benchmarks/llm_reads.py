"""How often the gold is in what the local model reads, by top_k and passages per article: the passages retrieved,
cut to their best 12 statements and fitted to the model's context as `LLMAnswerer.prompt` does (the model is
loaded for its tokenizer; nothing is generated).

    python benchmarks/llm_reads.py QUESTIONS.jsonl N [--store /tmp/rt] [--articles ARTICLES.jsonl]

Prints, per setting, how many of the N grounded questions (spread as `local_llm_answers.py --sample N` picks
them) have the gold in the retrieved passages and in what the model reads, and the prompt's tokens (p50, max).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import local_llm_answers as lla  # noqa: E402
from rag.answer.answerers.llm import LLMAnswerer  # noqa: E402
from rag.answer.assistant import Assistant  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from rag.eval.metrics import Corpus, contains_answer, gold_of, load_jsonl  # noqa: E402
from rag.eval.run import _question_date  # noqa: E402
from rag.llms.choose import make_chat_model  # noqa: E402

SETTINGS = ((6, 3), (6, 2), (8, 3), (8, 2), (10, 2))  # (top_k, passages per article); (6, 3) is today's


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions")
    ap.add_argument("n", type=int)
    ap.add_argument("--store", default="/tmp/rt")
    ap.add_argument("--articles", default=str(ROOT.parent / "shared/eval/realtimeqa/articles.jsonl"))
    args = ap.parse_args(argv)
    base = Settings.from_env(home=args.store)
    corpus = Corpus.from_articles(load_jsonl(args.articles))
    picked = lla._sample([(q, g) for q in load_jsonl(args.questions) if (g := gold_of(q, corpus)).grounded], args.n)
    chat = make_chat_model(base.replace(llm="local"))[0]
    answerer = LLMAnswerer(chat, "local", excerpts=12)
    for top_k, per_article in SETTINGS:
        assistant = Assistant.from_settings(base.replace(top_k=top_k, max_per_article=per_article))
        in_passages = in_read = 0
        tokens = []
        for q, gold in picked:
            as_of = _question_date(q)
            hits = assistant.retriever.retrieve(assistant._plan(str(q["question"]), as_of=as_of))
            messages, shown = answerer.prompt(str(q["question"]), hits, as_of)
            in_passages += any(contains_answer(h.passage.text, gold.answers) for h in hits)
            in_read += any(contains_answer(h.passage.text, gold.answers) for h in shown)
            tokens.append(chat.count_prompt_tokens(messages))
        tokens.sort()
        print(f"top_k={top_k} per_article={per_article}: gold in passages {in_passages}, in what the model reads "
              f"{in_read}, prompt tokens p50 {tokens[len(tokens) // 2]} max {tokens[-1]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
