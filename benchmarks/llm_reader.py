"""The local LLM as a reader: does it pick the extractive answer's first sentence better than the ranking does?

For each grounded question (asked as of its question date), the extractive answerer ranks the statements of the
retrieved passages; the top `--candidates` go to the model (prompts/reader.md), numbered, and it names the one
that answers the question. Reported beside the ranking's own first choice, on the same candidates: how often
the chosen sentence holds the gold answer, how often the gold is among the candidates at all, and seconds per
question. The questions are split into earlier and later weeks (realtimeqa's first and second halves by id);
nothing here was tuned on either. Nothing ships unless the model wins on both.

    NEWSRAG_LLM_TIMEOUT=300 python benchmarks/llm_reader.py --articles ../shared/eval/realtimeqa/articles.jsonl \\
        --questions ../shared/eval/realtimeqa/questions.jsonl --store /tmp/rt --llm local \\
        --json benchmarks/results/llm_reader_realtimeqa.json
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from langchain_core.messages import HumanMessage, SystemMessage  # noqa: E402

from rag.answer.answerers.extractive import ExtractiveAnswerer  # noqa: E402
from rag.answer.assistant import Assistant  # noqa: E402
from rag.attribution.speakers import asked_speaker  # noqa: E402
from rag.core.prompts import load_prompt  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from common import emit  # noqa: E402
from rag.eval.metrics import Corpus, contains_answer, gold_of, load_jsonl  # noqa: E402
from rag.eval.run import _question_date  # noqa: E402
from rag.llms.choose import make_chat_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--llm", default="local")
    ap.add_argument("--candidates", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    settings = Settings.from_env(home=a.store, llm="extractive")
    assistant = Assistant.from_settings(settings)
    corpus = Corpus.from_articles(load_jsonl(a.articles))
    model, name, _ = make_chat_model(settings.replace(llm=a.llm))
    extractive = ExtractiveAnswerer()
    rows = []
    questions = [(q, g.answers) for q in load_jsonl(a.questions) if (g := gold_of(q, corpus)).grounded]
    half = len(questions) // 2
    for i, (q, gold) in enumerate(questions):
        as_of = _question_date(q)
        hits = assistant.search(q["question"], as_of=as_of)
        units = extractive._ranked(q["question"], hits, asked_speaker(q["question"])) or []
        cands = [u.text for u in units[:a.candidates]]
        row = {"id": q["id"], "half": "earlier" if i < half else "later", "candidates": len(cands),
               "gold_in_candidates": any(contains_answer(c, gold) for c in cands),
               "ranking_first": bool(cands) and contains_answer(cands[0], gold)}
        if cands:
            numbered = "\n".join(f"{k}. {' '.join(c.split())}" for k, c in enumerate(cands, 1))
            t0 = time.perf_counter()
            reply = model.invoke([SystemMessage(load_prompt("reader")),
                                  HumanMessage(f"Question: {q['question']}\n\nSentences:\n{numbered}\n\nNumber:")])
            row["seconds"] = round(time.perf_counter() - t0, 1)
            m = re.search(r"\d+", str(reply.content))
            pick = int(m.group(0)) if m else 0
            row["pick"] = pick
            row["reader_first"] = 1 <= pick <= len(cands) and contains_answer(cands[pick - 1], gold)
        else:
            row.update(pick=0, reader_first=False, seconds=0.0)
        rows.append(row)
        print(f"{i + 1}/{len(questions)} {q['id']}: ranking {row['ranking_first']} reader {row['reader_first']} "
              f"(pick {row['pick']}, {row.get('seconds')}s)", flush=True)
    out = {"model": name, "candidates": a.candidates, "questions": len(rows)}
    for part in ("earlier", "later", None):
        rs = [r for r in rows if part is None or r["half"] == part]
        out[part or "all"] = {"n": len(rs), "ranking_first": sum(r["ranking_first"] for r in rs),
                              "reader_first": sum(r["reader_first"] for r in rs),
                              "gold_in_candidates": sum(r["gold_in_candidates"] for r in rs)}
    secs = [r["seconds"] for r in rows if r.get("seconds")]
    out["seconds_p50"] = statistics.median(secs) if secs else None
    out["rows"] = rows
    emit(out, a.json, hide=("rows",))
    return 0


if __name__ == "__main__":
    sys.exit(main())
