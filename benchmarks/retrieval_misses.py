"""Why grounded questions miss the top 5: each miss put in one class, from the store and the question file alone.

    python benchmarks/retrieval_misses.py --store HOME --articles ARTICLES.jsonl --questions QUESTIONS.jsonl
                                          [--k 5] [--no-question-dates] [--json OUT]

The JSON keeps ids and numbers only.

A question is grounded as `newsrag eval` decides it (the dataset's flag, else the answer string occurs in the
corpus). Each question is asked through the Retriever as `newsrag eval` asks it (as of its `question_date`
unless --no-question-dates); a hit is a passage holding the answer string (whole words, `contains_answer`).
Every miss gets the first class that fits:

- `dated_after`: every stored article holding the answer is dated after the day the question is asked as of
  (the as-of filter rightly leaves them out);
- `article_in_top`: a passage of an article holding the answer string is in the top k, but not the passage
  that holds it (the right page, the wrong window of it; or a common answer string);
- `in_top_50`: a passage holding the answer ranks between k+1 and 50;
- `not_found`: no passage holding it in the top 50.

Besides the passage-level hit@k that `newsrag eval` reports, it prints the article-level hit@k (a passage of an
article holding the answer string in the top k) and, per miss, how many articles hold the answer string: a
string held by dozens of pages ("Paris", "50%") is matched by chance as often as by the story.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.answer.assistant import Assistant  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from rag.eval.metrics import Corpus, contains_answer, gold_of, load_jsonl, norm  # noqa: E402

__all__ = ["classify", "main"]


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10].replace("/", "-"))
    except ValueError:
        return None


def classify(rank: int | None, article_rank: int | None, k: int, answer_dates: list[date | None],
             as_of: date | None) -> str | None:
    """The class of one question's result (None: a hit within k)."""
    if rank is not None and rank <= k:
        return None
    if as_of is not None and answer_dates and all(d is not None and d > as_of for d in answer_dates):
        return "dated_after"
    if article_rank is not None and article_rank <= k:
        return "article_in_top"
    if rank is not None:
        return "in_top_50"
    return "not_found"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, help="an ingested NEWSRAG_HOME holding the articles")
    ap.add_argument("--articles", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--no-question-dates", action="store_true", help="ask as of today, as `newsrag eval` does with it")
    ap.add_argument("--json", help="write the per-question classes here")
    args = ap.parse_args(argv)

    articles = load_jsonl(args.articles)
    corpus = Corpus.from_articles(articles)
    assistant = Assistant.from_settings(Settings.from_env(home=args.store))
    retriever, catalog = assistant.retriever, assistant.retriever.catalog
    bodies = {a["id"]: norm(f"{a.get('title') or ''}\n{a.get('body') or a.get('text') or ''}") for a in articles if a.get("id")}

    rows, counts = [], {}
    n = hits = article_hits = 0
    for q in load_jsonl(args.questions):
        gold = gold_of(q, corpus)
        if not gold.grounded:
            continue
        n += 1
        as_of = None if args.no_question_dates else _day(q.get("question_date"))
        holding = [aid for aid, body in bodies.items() if contains_answer(body, gold.answers, normalized=True)]
        stored = [catalog.get(aid) for aid in holding]
        answer_dates = [_day(row.article.published_at) for row in stored if row is not None]
        found = retriever.retrieve(retriever.plan(q["question"], as_of=as_of), k=50)
        rank = next((i + 1 for i, h in enumerate(found) if contains_answer(h.passage.text, gold.answers)), None)
        held = set(holding)
        article_rank = next((i + 1 for i, h in enumerate(found) if h.passage.article_id in held), None)
        cls = classify(rank, article_rank, args.k, answer_dates, as_of)
        hits += cls is None
        article_hits += article_rank is not None and article_rank <= args.k
        if cls:
            counts[cls] = counts.get(cls, 0) + 1
        rows.append({"id": q.get("id"), "question": q["question"], "as_of": as_of.isoformat() if as_of else None,
                     "rank": rank, "article_rank": article_rank, "articles_holding_answer": len(holding),
                     "class": cls})
    print(f"{n} grounded questions; passage hit@{args.k} {hits / max(n, 1):.3f}; "
          f"article hit@{args.k} {article_hits / max(n, 1):.3f}")
    for cls in ("dated_after", "article_in_top", "in_top_50", "not_found"):
        print(f"  {cls:15} {counts.get(cls, 0)}")
    for r in rows:
        if r["class"]:
            print(f"  {r['class']:15} rank {r['rank']!s:>4}  article {r['article_rank']!s:>4}  "
                  f"pages holding the answer {r['articles_holding_answer']:>4}  {r['question'][:70]}")
    if args.json:  # ids and numbers only: the question texts are the dataset's, shown on screen, not kept
        kept = [{k: v for k, v in r.items() if k != "question"} for r in rows]
        Path(args.json).write_text(json.dumps({"n": n, "hit": hits / max(n, 1), "article_hit": article_hits / max(n, 1),
                                               "classes": counts, "questions": kept}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
