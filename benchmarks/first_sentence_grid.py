"""Which statement would the offline answerer put first, under other weights? A grid over its module weights.

Reads the retrieved hits that `benchmarks/answer_first.py --hits FILE` cached (so retrieval is not redone),
ranks the statements of each grounded question's passages with `ExtractiveAnswerer._ranked` for every
combination of the weights given, and prints, per combination and per half of the ids (even / odd, as
`answer_first.py --split` splits them), how many questions have a statement holding the gold answer ranked
first, and the summed reciprocal rank of the first such statement (a smoother figure than the count). The
answerer alone: no quote routing, refusal or claim check, so the counts can differ from `answer_first.py`'s by a
question or two. Numbers only; no text is printed.

    python benchmarks/first_sentence_grid.py --hits /tmp/rt-hits.pkl \\
        --questions ../shared/eval/realtimeqa/questions.jsonl _OPENING=0,0.3 _VOTE=0.4,0.8

With --store DIR --read-articles N the answerer also reads the other passages of the first N articles among the
hits (each at --share of its article's best retrieval score; --ledes-only: only an article's first passage), to
measure whether reading more of the right article would help; it first reports for how many questions whose
hits lack the gold another passage of those articles holds it.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_first import grounded_hits  # noqa: E402

import rag.answer.answerers.extractive as extractive  # noqa: E402
from rag.eval.metrics import Corpus, contains_answer, gold_of  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hits", required=True, help="the pickle answer_first.py --hits wrote")
    ap.add_argument("--questions", required=True)
    ap.add_argument("weights", nargs="*", help="NAME=v1,v2,... (a module weight of rag/answer/answerers/extractive.py)")
    ap.add_argument("--store", help="the store the hits came from (for --read-articles)")
    ap.add_argument("--read-articles", type=int, default=0)
    ap.add_argument("--share", type=float, default=0.9)
    ap.add_argument("--ledes-only", action="store_true")
    args = ap.parse_args()
    index = None
    if args.read_articles:
        if not args.store:
            raise SystemExit("--read-articles needs --store")
        from rag.core.settings import Settings
        from rag.index import Index

        index = Index(Settings.from_env(home=Path(args.store)))

    corpus = Corpus.from_texts([])
    rows = []
    for q, hits in grounded_hits(args.hits, args.questions):
        tail = re.search(r"(\d+)$", str(q.get("id")))
        half = "even" if tail and int(tail.group(1)) % 2 == 0 else "odd"
        rows.append((half, str(q["question"]), gold_of(q, corpus).answers, hits))

    if index is not None:
        found = {"even": 0, "odd": 0}
        for i, (half, question, gold, hits) in enumerate(rows):
            more = _more_of_articles(index, hits, args.read_articles, args.share, args.ledes_only)
            if not any(contains_answer(h.passage.text, gold) for h in hits) and any(
                    contains_answer(h.passage.text, gold) for h in more[len(hits):]):
                found[half] += 1
            rows[i] = (half, question, gold, more)
        print(f"gold in none of the hits but in another passage of the first {args.read_articles} articles: "
              f"even {found['even']}, odd {found['odd']}")

    grid = {}
    for item in args.weights:
        name, _, values = item.partition("=")
        if not hasattr(extractive, name):
            raise SystemExit(f"rag/answer/answerers/extractive.py has no {name}")
        grid[name] = [float(v) for v in values.split(",")]
    print("weights | even first / rr | odd first / rr")
    for values in itertools.product(*grid.values()) if grid else [()]:
        for name, v in zip(grid, values):
            setattr(extractive, name, v)
        answerer = extractive.ExtractiveAnswerer()
        score = {"even": [0, 0.0, 0], "odd": [0, 0.0, 0]}
        for half, question, gold, hits in rows:
            units = answerer._ranked(question, hits) or []
            at = next((i for i, u in enumerate(units) if contains_answer(u.text, gold)), None)
            s = score[half]
            s[0] += at == 0
            s[1] += 0.0 if at is None else 1 / (at + 1)
            s[2] += 1
        label = " ".join(f"{n}={v:g}" for n, v in zip(grid, values)) or "(as in the code)"
        print(f"{label} | {score['even'][0]} of {score['even'][2]} / {score['even'][1]:.2f} | "
              f"{score['odd'][0]} of {score['odd'][2]} / {score['odd'][1]:.2f}")
    return 0


def _more_of_articles(index, hits, n: int, share: float, ledes_only: bool) -> list:
    """The hits, then the other passages of the first n articles among them, in article then text order."""
    from rag.core.schema import Hit

    out, have, articles = list(hits), {h.passage.id for h in hits}, []
    for h in hits:
        if h.passage.article_id not in articles:
            articles.append(h.passage.article_id)
    for article in articles[:n]:
        best = max(h.score for h in hits if h.passage.article_id == article)
        ids = index.passage_ids(article)
        passages = index.passages_by_id(ids)
        for pid in ids:
            p = passages.get(pid)
            if p is None or p.id in have or (ledes_only and p.index != 0):
                continue
            out.append(Hit(passage=p, score=best * share, rank=len(out) + 1))
            have.add(p.id)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
