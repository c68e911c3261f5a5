"""Where does the gold answer sit: in the passages the answerer reads, in its answer, in the answer's first sentence?

Asks each grounded question of a question set on an existing store (as of its question_date, as `newsrag eval`
does), through the whole Assistant (quote routing, refusal, claim check), and splits the gap between "the answer
holds the gold" and "its first sentence does" into retrieval (no passage handed to the answerer holds the gold)
and sentence choice/order. With --others, the questions not marked grounded whose top passages happen to hold the
answer string are scored too (a carry-over set nobody tuned on); --split even|odd keeps the questions whose id
ends in an even/odd number. Retrieved hits are cached (--hits) so that reruns only redo the answering.

    NEWSRAG_EMBEDDING_CACHE=/work/embcache python benchmarks/answer_first.py --store /tmp/rt \\
        --questions ../shared/eval/realtimeqa/questions.jsonl --hits /tmp/rt-hits.pkl [-v] [--json out.json]

-v prints, per question, the rank of the first passage with the gold, each answer sentence (marked * where it
holds the gold) and the gold; that is publishers' text, for reading on screen only. The JSON holds numbers only.
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.assistant import Assistant  # noqa: E402
from rag.eval_metrics import Corpus, contains_answer, gold_of, load_jsonl, rank_of  # noqa: E402
from rag.evaluation import _docs_of_hits, _first_sentence, _question_date  # noqa: E402
from rag.sentences import statement_spans  # noqa: E402
from rag.settings import Settings  # noqa: E402

_MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def _pct(values: list[int], q: float) -> int:
    if not values:
        return 0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--hits", help="pickle of retrieved hits per question (written when missing)")
    ap.add_argument("--others", action="store_true", help="score the non-grounded questions whose passages hold the answer")
    ap.add_argument("--split", choices=["all", "even", "odd"], default="all")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()

    assistant = Assistant.from_settings(Settings.from_env(home=Path(args.store), llm="extractive"))
    retriever = assistant.retriever
    questions = load_jsonl(args.questions)
    corpus = Corpus.from_texts([])
    cache: dict = {}
    if args.hits and Path(args.hits).exists():
        cache = pickle.loads(Path(args.hits).read_bytes())
    fresh = False

    real_retrieve = retriever.retrieve

    def cached_retrieve(query, k=None, timings=None):
        nonlocal fresh
        key = (query.text, str(query.as_of), k)
        if key not in cache:
            cache[key] = real_retrieve(query, k=k, timings=timings)
            fresh = True
        return cache[key]

    retriever.retrieve = cached_retrieve
    rows = []
    for q in questions:
        gold = gold_of(q, corpus)
        answers, grounded = gold.answers, bool(q.get("answer_in_retrieved_articles"))
        if not gold.checkable or (not grounded and not args.others):
            continue
        tail = re.search(r"(\d+)$", str(q.get("id")))
        if args.split != "all" and (int(tail.group(1)) % 2 == 0 if tail else True) != (args.split == "even"):
            continue
        text, as_of = str(q["question"]), _question_date(q)
        hits = cached_retrieve(retriever.plan(text, as_of=as_of))
        rank = rank_of(_docs_of_hits(hits), answers)
        if not grounded and rank is None:
            continue  # --others: only those whose passages hold the answer
        answer = assistant.ask(text, as_of=as_of)
        plain = _MARKS.sub("", answer.text)
        sentences = [plain[s:e] for s, e in statement_spans(plain)]
        where = next((i for i, s in enumerate(sentences) if contains_answer(s, answers)), None)
        row = {"id": q.get("id"), "grounded": grounded, "rank": rank, "refused": answer.refused,
               "contains": not answer.refused and contains_answer(plain, answers),
               "first": not answer.refused and contains_answer(_first_sentence(plain), answers),
               "gold_sentence": where, "sentences": 0 if answer.refused else len(sentences),
               "words": 0 if answer.refused else len(plain.split())}
        rows.append(row)
        if args.verbose:
            print(f"\n== {q.get('id')} rank={rank} first={row['first']} contains={row['contains']}")
            print(f"Q: {text}\nGOLD: {q.get('answer')}")
            for i, s in enumerate(sentences):
                print(f"  {'*' if contains_answer(s, answers) else ' '} {i}: {s[:300]}")
    if args.hits and fresh:
        Path(args.hits).write_bytes(pickle.dumps(cache))

    def summary(sel: list[dict]) -> dict:
        words = [r["words"] for r in sel if not r["refused"]]
        n = len(sel) or 1
        return {"n": len(sel),
                "gold_in_passages": round(sum(r["rank"] is not None for r in sel) / n, 3),
                "contains": round(sum(r["contains"] for r in sel) / n, 3),
                "first_sentence": round(sum(r["first"] for r in sel) / n, 3),
                "refused": round(sum(r["refused"] for r in sel) / n, 3),
                "words_p50": _pct(words, 0.5), "words_p95": _pct(words, 0.95),
                "gap_retrieval": sum(r["rank"] is None and not r["first"] for r in sel),
                "gap_not_in_answer": sum(r["rank"] is not None and not r["contains"] for r in sel),
                "gap_not_first": sum(r["contains"] and not r["first"] for r in sel)}

    report = {"split": args.split, "grounded": summary([r for r in rows if r["grounded"]]),
              "others": summary([r for r in rows if not r["grounded"]]) if args.others else None,
              "questions": rows}
    for name in ("grounded", "others"):
        if report[name]:
            print(name, json.dumps(report[name]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
