"""benchmarks/retrieval_first.py: the rules that re-choose the passages handed to the answerer, on small
made-up articles, and one variant run end to end on a small store."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from rag.core.schema import Hit, Passage

from .conftest import ingested_home

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "retrieval_first.py"
_spec = importlib.util.spec_from_file_location("retrieval_first", _PATH)
rf = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("retrieval_first", rf)  # its dataclass looks its module up there
_spec.loader.exec_module(rf)

# three made-up articles, their passages in order
TEXTS = {
    "ferry": ["The Kestrel ferry entered service on Monday, the port said.",
              "The ferry was built by the Halden shipyard over two years.",
              "Tickets cost 12 dollars for adults."],
    "harbour": ["The harbour office moved to a new building on Pier Road.",
                "Staff said the move took a week."],
    "bakery": ["A bakery on Mill Street won a regional bread prize.",
               "The owner said the rye loaf took months to perfect."],
}
PASSAGES = {f"{a}:{i}": Passage(f"{a}:{i}", a, i, 0, len(t), t, f"{a.title()} news", "Test Wire", "2024-03-01")
            for a, texts in TEXTS.items() for i, t in enumerate(texts)}


def _hits(*spec: tuple[str, float]) -> list[Hit]:
    return [Hit(PASSAGES[pid], score) for pid, score in spec]


def _ids(hits: list[Hit]) -> list[str]:
    return [h.passage.id for h in hits]


def _ctx(question: str = "Which shipyard built the Kestrel ferry?") -> "rf.Context":
    return rf.Context(question, lambda ids: {i: PASSAGES[i] for i in ids if i in PASSAGES})


def test_deep_gives_the_first_article_its_second_best_candidate() -> None:
    every = _hits(("ferry:0", 0.9), ("harbour:0", 0.8), ("bakery:0", 0.7), ("ferry:2", 0.6), ("ferry:1", 0.5))
    top = every[:3]
    out = rf.rule_deep(top, every, _ctx(), 1)
    assert _ids(out) == ["ferry:0", "harbour:0", "ferry:2"]  # the next-best candidate, not the next passage
    assert _ids(rf.rule_deep(top, every, _ctx(), 3)) == ["ferry:0", "harbour:0", "bakery:0"]  # none to displace


def test_next_reads_the_passage_after_the_best_one_from_the_store() -> None:
    every = _hits(("ferry:0", 0.9), ("harbour:0", 0.8), ("bakery:0", 0.7))
    out = rf.rule_next(every, every, _ctx(), 1)
    assert _ids(out) == ["ferry:0", "harbour:0", "ferry:1"]
    assert out[-1].score == pytest.approx(0.7 * 0.99)  # no score of its own: just under the last place
    last = _hits(("ferry:2", 0.9), ("harbour:0", 0.8), ("bakery:0", 0.7))  # no passage after the last one
    assert _ids(rf.rule_next(last, last, _ctx(), 1)) == ["ferry:2", "harbour:0", "bakery:0"]


def test_expand_lets_the_passage_that_says_the_questions_words_in() -> None:
    every = _hits(("ferry:2", 0.9), ("harbour:0", 0.8), ("bakery:0", 0.7))
    out = rf.rule_expand(every, every, _ctx(), 1)
    assert "ferry:1" in _ids(out) and "bakery:0" not in _ids(out)  # "shipyard", "built", "ferry"
    # the chosen passage already says the most: nothing changes
    best = _hits(("ferry:1", 0.9), ("harbour:0", 0.8), ("bakery:0", 0.7))
    assert _ids(rf.rule_expand(best, best, _ctx(), 1)) == ["ferry:1", "harbour:0", "bakery:0"]


def test_repick_keeps_an_articles_places_but_sends_its_keyword_best() -> None:
    every = [Hit(PASSAGES["ferry:0"], 0.9, keyword=1.0), Hit(PASSAGES["harbour:0"], 0.8, keyword=5.0),
             Hit(PASSAGES["ferry:1"], 0.5, keyword=7.0)]
    out = rf.RULES["kwpick"](every[:2], every, _ctx(), 1)
    assert [(h.passage.id, h.score) for h in out] == [("ferry:1", 0.9), ("harbour:0", 0.8)]


def test_cut_and_sharp() -> None:
    every = _hits(("ferry:0", 1.0), ("harbour:0", 0.9), ("bakery:0", 0.8), ("ferry:1", 0.7), ("bakery:1", 0.95))
    every.sort(key=lambda h: -h.score)
    assert _ids(rf.rule_cut(every, every, _ctx(), 0.85)) == ["ferry:0", "bakery:1", "harbour:0"]  # 3 always stay
    assert len(rf.rule_cut(every, every, _ctx(), 0.75)) == 4
    assert _ids(rf.rule_cut(every, every, _ctx(), 0.99)) == ["ferry:0", "bakery:1", "harbour:0"]
    sharp = rf.rule_sharp(every, every, _ctx(), 2)
    assert _ids(sharp) == _ids(every) and sharp[1].score == pytest.approx(0.95 ** 2)


def test_article_evidence_lifts_a_passage_whose_article_has_other_strong_ones() -> None:
    every = _hits(("harbour:0", 0.8), ("ferry:0", 0.7), ("ferry:1", 0.6), ("bakery:0", 0.5))
    out = rf.BEFORE["aggmax"](every, 0.5)
    assert _ids(out)[:2] == ["ferry:0", "ferry:1"]  # 0.7 + 0.3 and 0.6 + 0.35 beat 0.8 alone
    assert _ids(rf.BEFORE["aggmax"](every, 0.1))[0] == "harbour:0"


def test_parse_variant() -> None:
    assert rf.parse_variant("base") == ({}, None)
    assert rf.parse_variant("max_per_article=3 rule=deep:2") == ({"max_per_article": "3"}, ("deep", 2.0))
    with pytest.raises(SystemExit):
        rf.parse_variant("rule=nosuch:1")
    with pytest.raises(SystemExit):
        rf.parse_variant("max_per_article")


def test_a_variant_runs_through_the_assistant_and_leaves_the_retriever_as_it_was(tmp_path) -> None:
    import rag.answer.retriever as retriever_module

    records = [{"id": a, "title": f"{a.title()} news", "source": "Test Wire", "published_at": "2024-03-01",
                "body": " ".join(texts)} for a, texts in TEXTS.items()]
    home = ingested_home(tmp_path, records)
    questions = [{"id": "q_2", "question": "Which shipyard built the Kestrel ferry?", "answer": "Halden", "type": "news_quiz",
                  "answer_in_retrieved_articles": True, "question_date": "2024-03-05"},
                 {"id": "q_3", "question": "Which street is the bakery on?", "answer": "Mill Street", "type": "news_quiz",
                  "answer_in_retrieved_articles": True, "question_date": "2024-03-05"}]
    real = retriever_module._diversify
    rows = rf.run_variant(home, questions, "top_k=2 rule=cut:0.99")
    assert retriever_module._diversify is real
    assert [r["id"] for r in rows] == ["q_2", "q_3"] and [r["even"] for r in rows] == [True, False]
    assert all(r["rank10"] == 1 and r["in_read"] and r["first"] for r in rows), json.dumps(rows)
    s = rf.summary(rows)
    assert s["first"] == 2 and s["hit1"] == 1.0 and s["mrr10"] == 1.0
