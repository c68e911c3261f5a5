"""Where does the gold answer sit: in the passages the answerer reads, in its answer, in the answer's first sentence?

Asks each grounded question of a question set on an existing store (as of its question_date, as `newsrag eval`
does), through the whole Assistant (quote routing, refusal, claim check), and splits the gap between "the answer
holds the gold" and "its first sentence does" into retrieval (no passage handed to the answerer holds the gold)
and sentence choice/order. With --others, the questions not marked grounded whose top passages happen to hold the
answer string are scored too (a carry-over set nobody tuned on); --split even|odd keeps the questions whose id
ends in an even/odd number. Retrieved hits are cached (--hits) so that reruns only redo the answering.

    NEWSRAG_EMBEDDING_CACHE=/work/embcache python benchmarks/answer_first.py --store /tmp/rt \\
        --questions ../shared/eval/realtimeqa/questions.jsonl --hits /tmp/rt-hits.pkl [-v] [--json out.json]

--verdicts FILE adds a figure judged by hand beside the string match: FILE is JSONL, one row per judged first
sentence, `{"id", "first_sha1", "correct", "why"}`, where first_sha1 is the first 12 hex digits of the SHA-1 of the answer's
first sentence (whitespace collapsed) and correct says whether that sentence answers the question with the gold
answer, in any wording. A verdict counts only while the first sentence is the one judged: a changed sentence is
"unjudged" until judged again, and --todo FILE writes those rows (ids and hashes, no text) to fill in. The
string match misses an answer in other words ("four" for "4") and credits a gold string held by chance (another
story's figure); the judged figure shows both.

-v prints, per question, the rank of the first passage with the gold, each answer sentence (marked * where it
holds the gold) and the gold; that is publishers' text, for reading on screen only. The JSON holds numbers and
hashes only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.assistant import Assistant  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from rag.eval.metrics import Corpus, contains_answer, gold_of, load_jsonl, rank_of  # noqa: E402
from rag.eval.run import _docs_of_hits, _first_sentence, _question_date  # noqa: E402
from rag.nlp.sentences import statement_spans  # noqa: E402

_MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def _pct(values: list[int], q: float) -> int:
    if not values:
        return 0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def first_sha1(sentence: str) -> str:
    """The key a hand verdict is stored under: the SHA-1 of the first sentence, whitespace collapsed."""
    return hashlib.sha1(" ".join(sentence.split()).encode("utf-8")).hexdigest()[:12]


def grounded_hits(hits_path: str, questions_path: str) -> list[tuple[dict, list]]:
    """Each grounded question of `questions_path` with the hits that --hits cached for it (as of its
    question_date), for the scripts that re-rank cached hits without retrieving again."""
    cache = pickle.loads(Path(hits_path).read_bytes())
    by_question = {(text, as_of): hits for (text, as_of, _k), hits in cache.items()}
    out = []
    for q in load_jsonl(questions_path):
        if not q.get("answer_in_retrieved_articles"):
            continue
        hits = by_question.get((str(q["question"]), str(_question_date(q))))
        if hits is None:
            raise SystemExit(f"{q.get('id')}: not in {hits_path}; run answer_first.py with --hits first")
        out.append((q, hits))
    return out


def load_verdicts(path: str | None) -> dict[tuple[str, str], bool]:
    if not path:
        return {}
    try:
        rows = load_jsonl(path)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--verdicts {path}: {exc}") from None
    out = {}
    for row in rows:
        if not isinstance(row.get("correct"), bool) or not row.get("first_sha1"):
            raise SystemExit(f"{path}: each row needs first_sha1 and correct (true/false): {row.get('id')}")
        out[(str(row["id"]), str(row["first_sha1"]))] = row["correct"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--hits", help="pickle of retrieved hits per question (written when missing)")
    ap.add_argument("--others", action="store_true", help="score the non-grounded questions whose passages hold the answer")
    ap.add_argument("--split", choices=["all", "even", "odd"], default="all")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--verdicts", help="JSONL of hand verdicts on first sentences (see above)")
    ap.add_argument("--todo", help="write the questions whose first sentence has no verdict yet (ids and hashes)")
    args = ap.parse_args()
    verdicts = load_verdicts(args.verdicts)

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
        first = _first_sentence(plain)
        sha = "" if answer.refused else first_sha1(first)
        judged = False if answer.refused else verdicts.get((str(q.get("id")), sha))
        row = {"id": q.get("id"), "grounded": grounded, "rank": rank, "refused": answer.refused,
               "contains": not answer.refused and contains_answer(plain, answers),
               "first": not answer.refused and contains_answer(first, answers),
               "gold_sentence": where, "sentences": 0 if answer.refused else len(sentences),
               "words": 0 if answer.refused else len(plain.split()), "first_sha1": sha, "judged": judged}
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
                "gap_not_first": sum(r["contains"] and not r["first"] for r in sel),
                **(judged_summary(sel) if args.verdicts else {})}

    def judged_summary(sel: list[dict]) -> dict:
        n = len(sel) or 1
        return {"first_judged_correct": round(sum(r["judged"] is True for r in sel) / n, 3),
                "unjudged": sum(r["judged"] is None for r in sel),
                "string_match_but_wrong": sum(r["first"] and r["judged"] is False for r in sel),
                "right_but_no_string_match": sum(not r["first"] and r["judged"] is True for r in sel)}

    report = {"split": args.split, "grounded": summary([r for r in rows if r["grounded"]]),
              "others": summary([r for r in rows if not r["grounded"]]) if args.others else None,
              "questions": rows}
    for name in ("grounded", "others"):
        if report[name]:
            print(name, json.dumps(report[name]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    if args.todo:
        todo = [{"id": r["id"], "first_sha1": r["first_sha1"], "string_match": r["first"], "correct": None, "why": ""}
                for r in rows if r["judged"] is None]
        Path(args.todo).write_text("".join(json.dumps(t) + "\n" for t in todo))
        print(f"{len(todo)} first sentences to judge: {args.todo}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
