"""Would another way of choosing the six passages put the gold answer in the answer's first sentence? A grid.

Each variant is a set of retrieval settings (`max_per_article=3`, `lead_prior=0.2`, any Settings field) and/or a
rule that re-chooses the top k after the retriever's own choice (the rules below; none of them is in
rag/answer/retriever.py: they are tried here, on the real hits, before any is made a setting). For every grounded
question (as of its question_date, as `newsrag eval` asks it) the script retrieves afresh with the variant,
scores the top 10 as `newsrag eval` does (hit@1, hit@5, MRR@10: a passage holding the answer string), and asks the
whole Assistant (quote routing, refusal, claim check) on the variant's top_k passages, scoring what
`benchmarks/answer_first.py` scores (the answer's first sentence / anywhere holds the gold; gold in the passages
read; answer words). Figures per half of the ids (even / odd, as `answer_first.py --split` splits them).

    NEWSRAG_EMBEDDING_CACHE=/work/embcache python benchmarks/retrieval_first.py --store /tmp/rt \\
        --questions ../shared/eval/realtimeqa/questions.jsonl --repeat 2 \\
        base max_per_article=3 rule=deep:1 rule=next:1 rule=expand:2 "lead_prior=0.2 rule=cut:0.85"

A variant is one argument: space-separated NAME=VALUE settings and at most one rule=NAME:ARG. Rules:

- `deep:N`   the first N articles of the top k each send two passages: an article with one gets its next-best
             candidate, in place of the lowest passage of another article;
- `next:N`   the same, but the added passage is the one after the article's best (read from the store when it
             was no candidate): the paragraph after a lede;
- `expand:N` every passage of the first N articles (read from the store) competes on the IDF-weighted share of
             the question's content words it holds; one that beats all the article's chosen passages takes the
             lowest place of another article;
- `kwpick:N` / `densepick:N`  the first N articles keep their places, but each sends its candidates best by
             the keyword score / by dense similarity instead of best by the fused score;
- `aggmax:L` / `aggsum:L` article evidence: before the choice, a passage scores L x its article's best other
             candidate's score more (aggsum: the best two others', summed);
- `cut:R`    passages under R x the best score are left out (3 always stay);
- `sharp:G`  the scores the answerer sees become best x (score / best)^G (the ranking is unchanged).

With --repeat 2 each variant runs twice in fresh Assistants: the dense search's tails (ranks ~35-50) can differ
between runs. The JSON (--json) holds numbers and question ids only: per variant and run, the figures of each half
and the ids whose answer's first sentence / passages read hold the gold.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag.answer.retriever as retriever_module  # noqa: E402
from rag.core.schema import Hit, Passage  # noqa: E402
from rag.eval.metrics import Corpus, contains_answer, gold_of, load_jsonl  # noqa: E402
from rag.eval.run import _first_sentence, _question_date  # noqa: E402
from rag.nlp.lexical import content_words, coverage, idf_weights  # noqa: E402

__all__ = ["RULES", "Context", "parse_variant", "main"]

_MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_MAX_PASSAGES = 200  # an article's passages read by next/expand (ids are "{article_id}:{index}")


@dataclass
class Context:
    """What a rule may read besides the hits: the question and a way to fetch passages by id."""

    question: str
    passages_by_id: Callable[[Sequence[str]], dict[str, Passage]]


def _articles(out: list[Hit]) -> list[str]:
    seen: list[str] = []
    for h in out:
        if h.passage.article_id not in seen:
            seen.append(h.passage.article_id)
    return seen


def _swap_in(out: list[Hit], new: Hit, keep: set[str]) -> bool:
    """Put `new` in place of the lowest passage whose article is not in `keep`; False when there is none."""
    victims = [h for h in out if h.passage.article_id not in keep]
    if not victims:
        return False
    out.remove(victims[-1])
    out.append(new)
    return True


def rule_deep(out: list[Hit], hits: list[Hit], ctx: Context, n: float) -> list[Hit]:
    out = list(out)
    first = _articles(out)[:int(n)]
    for aid in first:
        have = [h for h in out if h.passage.article_id == aid]
        more = [h for h in hits if h.passage.article_id == aid and h not in have]
        if len(have) == 1 and more:
            _swap_in(out, more[0], set(first))
    return sorted(out, key=lambda h: -h.score)


def rule_next(out: list[Hit], hits: list[Hit], ctx: Context, n: float) -> list[Hit]:
    out = list(out)
    first = _articles(out)[:int(n)]
    for aid in first:
        have = [h for h in out if h.passage.article_id == aid]
        if len(have) != 1:
            continue
        want = f"{aid}:{have[0].passage.index + 1}"
        known = [h for h in hits if h.passage.id == want]
        if known:
            new = known[0]
        else:
            got = ctx.passages_by_id([want])
            if want not in got:
                continue
            new = Hit(got[want], out[-1].score * 0.99)  # no score of its own: just under the last place
        _swap_in(out, new, set(first))
    return sorted(out, key=lambda h: -h.score)


def rule_expand(out: list[Hit], hits: list[Hit], ctx: Context, n: float) -> list[Hit]:
    out = list(out)
    first = _articles(out)[:int(n)]
    asked = set(content_words(ctx.question))
    words = lambda p: set(content_words(f"{p.title} {p.text}"))  # noqa: E731
    idf = idf_weights(words(h.passage) for h in hits)
    for aid in first:
        chosen = {h.passage.id for h in out}
        best_chosen = max(coverage(asked, words(h.passage), idf) for h in out if h.passage.article_id == aid)
        every = ctx.passages_by_id([f"{aid}:{i}" for i in range(_MAX_PASSAGES)])
        others = sorted(((coverage(asked, words(p), idf), p.index, p) for p in every.values() if p.id not in chosen),
                        key=lambda t: (-t[0], t[1]))
        if others and others[0][0] > best_chosen:
            victims = [h for h in out if h.passage.article_id not in set(first)]
            if victims:
                _swap_in(out, Hit(others[0][2], victims[-1].score), set(first))
    return sorted(out, key=lambda h: -h.score)


def _repick(key: Callable[[Hit], float]):
    def rule(out: list[Hit], hits: list[Hit], ctx: Context, n: float) -> list[Hit]:
        out = list(out)
        for aid in _articles(out)[:int(n)]:
            have = [h for h in out if h.passage.article_id == aid]
            best = sorted((h for h in hits if h.passage.article_id == aid), key=key, reverse=True)[:len(have)]
            places = sorted((h.score for h in have), reverse=True)
            for h in have:
                out.remove(h)
            out.extend(Hit(h.passage, s, dense=h.dense, keyword=h.keyword, speaker=h.speaker)
                       for h, s in zip(best, places))
        return sorted(out, key=lambda h: -h.score)
    return rule


def rule_cut(out: list[Hit], hits: list[Hit], ctx: Context, share: float) -> list[Hit]:
    best = out[0].score if out else 0.0
    return [h for i, h in enumerate(out) if i < 3 or h.score >= share * best]


def rule_sharp(out: list[Hit], hits: list[Hit], ctx: Context, power: float) -> list[Hit]:
    best = out[0].score if out else 1.0
    return [Hit(h.passage, best * (h.score / best) ** power, dense=h.dense, keyword=h.keyword, speaker=h.speaker)
            for h in out]


def _aggregate(how: str):
    def before(hits: list[Hit], weight: float) -> list[Hit]:
        by_article: dict[str, list[float]] = {}
        for h in hits:
            by_article.setdefault(h.passage.article_id, []).append(h.score)
        rescored = []
        for h in hits:
            others = sorted(by_article[h.passage.article_id], reverse=True)
            others.remove(h.score)
            extra = sum(others[:2]) if how == "sum" else (others[0] if others else 0.0)
            rescored.append(Hit(h.passage, h.score + weight * extra, dense=h.dense, keyword=h.keyword,
                                speaker=h.speaker))
        return sorted(rescored, key=lambda h: -h.score)
    return before


# after the retriever's choice: (top k, every candidate best first, context, argument) -> new top k
RULES: dict[str, Callable[[list[Hit], list[Hit], Context, float], list[Hit]]] = {
    "deep": rule_deep, "next": rule_next, "expand": rule_expand, "cut": rule_cut, "sharp": rule_sharp,
    "kwpick": _repick(lambda h: h.keyword or 0.0), "densepick": _repick(lambda h: h.dense or 0.0)}
# before it: every candidate, rescored
BEFORE = {"aggmax": _aggregate("max"), "aggsum": _aggregate("sum")}


def parse_variant(text: str) -> tuple[dict[str, str], tuple[str, float] | None]:
    """'max_per_article=3 rule=deep:1' -> ({'max_per_article': '3'}, ('deep', 1.0)); 'base' -> ({}, None)."""
    settings: dict[str, str] = {}
    rule = None
    for part in text.split():
        if part == "base":
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise SystemExit(f"variant part {part!r}: write NAME=VALUE, rule=NAME:ARG or base")
        if name == "rule":
            kind, _, arg = value.partition(":")
            if kind not in RULES and kind not in BEFORE:
                raise SystemExit(f"unknown rule {kind!r}: one of {', '.join(sorted({*RULES, *BEFORE}))}")
            rule = (kind, float(arg or 1))
        else:
            settings[name] = value
    return settings, rule


def _install(rule: tuple[str, float] | None, ctx: Context) -> Callable[[], None]:
    """Route the retriever's top-k choice through the rule; returns the undo."""
    real = retriever_module._diversify
    if rule is None:
        return lambda: None
    kind, arg = rule

    def chosen(hits: list[Hit], per_article: int, k: int) -> list[Hit]:
        if kind in BEFORE:
            return real(BEFORE[kind](hits, arg), per_article, k)
        return RULES[kind](real(hits, per_article, k), hits, ctx, arg)

    retriever_module._diversify = chosen

    def undo() -> None:
        retriever_module._diversify = real
    return undo


def _pct(values: list[int], q: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    return float(v[min(len(v) - 1, int(round(q * (len(v) - 1))))])


def run_variant(store: Path, questions: list[dict], text: str) -> list[dict]:
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings

    settings, rule = parse_variant(text)
    assistant = Assistant.from_settings(Settings.from_env(home=store, llm="extractive", **settings))
    retriever = assistant.retriever
    ctx = Context("", retriever.index.passages_by_id)
    undo = _install(rule, ctx)
    corpus = Corpus.from_texts([])
    rows = []
    try:
        for q in questions:
            gold = gold_of(q, corpus)
            if not (gold.checkable and q.get("answer_in_retrieved_articles")):
                continue
            text_q, as_of = str(q["question"]), _question_date(q)
            ctx.question = text_q
            ten = retriever.retrieve(retriever.plan(text_q, as_of=as_of), k=10)
            rank10 = next((i + 1 for i, h in enumerate(ten) if contains_answer(h.passage.text, gold.answers)), None)
            answer = assistant.ask(text_q, as_of=as_of)
            read = answer.passages or []
            plain = _MARKS.sub("", answer.text)
            tail = re.search(r"(\d+)$", str(q.get("id")))
            rows.append({"id": q.get("id"), "even": bool(tail and int(tail.group(1)) % 2 == 0), "rank10": rank10,
                         "in_read": any(contains_answer(h.passage.text, gold.answers) for h in read),
                         "refused": answer.refused,
                         "contains": not answer.refused and contains_answer(plain, gold.answers),
                         "first": not answer.refused and contains_answer(_first_sentence(plain), gold.answers),
                         "words": 0 if answer.refused else len(plain.split())})
    finally:
        undo()
    return rows


def summary(rows: list[dict]) -> dict:
    n = len(rows) or 1
    words = [r["words"] for r in rows if not r["refused"]]
    return {"n": len(rows), "first": sum(r["first"] for r in rows), "contains": sum(r["contains"] for r in rows),
            "gold_in_read": sum(r["in_read"] for r in rows),
            "hit1_n": sum(r["rank10"] == 1 for r in rows),
            "hit5_n": sum(r["rank10"] is not None and r["rank10"] <= 5 for r in rows),
            "hit1": round(sum(r["rank10"] == 1 for r in rows) / n, 3),
            "hit5": round(sum(r["rank10"] is not None and r["rank10"] <= 5 for r in rows) / n, 3),
            "mrr10": round(sum(1 / r["rank10"] for r in rows if r["rank10"]) / n, 3),
            "words_p50": _pct(words, 0.5), "words_p95": _pct(words, 0.95)}


def _line(s: dict) -> str:
    return (f"first {s['first']:2d} any {s['contains']:2d} read {s['gold_in_read']:2d} "
            f"h1 {s['hit1_n']:2d} h5 {s['hit5_n']:2d} mrr {s['mrr10']:.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True, help="an ingested NEWSRAG_HOME (run `newsrag eval` on it once first)")
    ap.add_argument("--questions", required=True)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("variants", nargs="+", help="'base', or 'NAME=VALUE ... rule=NAME:ARG' (one argument each)")
    args = ap.parse_args()
    questions = load_jsonl(args.questions)
    report = []
    for variant in args.variants:
        for run in range(args.repeat):
            rows = run_variant(Path(args.store), questions, variant)
            halves = {"even": summary([r for r in rows if r["even"]]), "odd": summary([r for r in rows if not r["even"]]),
                      "all": summary(rows)}
            report.append({"variant": variant, "run": run + 1, **halves,
                           "first_ids": [r["id"] for r in rows if r["first"]],
                           "read_ids": [r["id"] for r in rows if r["in_read"]]})
            a = halves["all"]
            print(f"{variant[:34]:34} #{run + 1} EVEN {_line(halves['even'])} | ODD {_line(halves['odd'])} | "
                  f"ALL first {a['first']} any {a['contains']} words {a['words_p50']:.0f}/{a['words_p95']:.0f}",
                  flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
