"""The held-out quiz set (benchmarks/first_sentence_fresh.jsonl) is well-formed, and every answer is a short
string its page really holds, so that a question the answerer misses is a miss and not a broken row."""

from __future__ import annotations

import pytest

from rag.eval.metrics import (
    Corpus,
    Gold,
    contains_answer,
    gold_of,
    load_jsonl,
    norm_url,
)

from .conftest import ROOT, SHARED

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

FRESH = ROOT / "benchmarks" / "first_sentence_fresh.jsonl"
PAGES = SHARED / "eval" / "realtimeqa" / "articles.jsonl"
FIELDS = {"id", "question", "answer", "type", "question_date", "article_id", "evidence_links",
          "answer_in_retrieved_articles"}


def _rows() -> list[tuple[dict, Gold]]:
    """Each row with its gold answer as the eval reads it."""
    corpus = Corpus.from_texts([])
    return [(r, gold_of(r, corpus)) for r in load_jsonl(FRESH)]


def test_rows_have_the_eval_format_and_one_page_each():
    rows = _rows()
    assert all(set(r) == FIELDS for r, _ in rows)
    assert len({r["id"] for r, _ in rows}) == len({r["article_id"] for r, _ in rows}) == len(rows)
    for r, gold in rows:
        assert r["answer_in_retrieved_articles"] is True and r["type"] == "news_quiz"
        assert 1 <= len(r["answer"].split()) <= 5, r["id"]
        assert gold.checkable, r["id"]
        assert not contains_answer(r["question"], gold.answers), f"{r['id']} gives its own answer away"


@pytest.mark.skipif(not PAGES.exists(), reason="the realtimeqa pages (../shared/eval) are not on this machine")
def test_every_answer_is_in_its_own_page_and_no_page_is_the_quizs_evidence():
    pages = {a["id"]: a for a in load_jsonl(PAGES)}
    quiz = load_jsonl(PAGES.parent / "questions.jsonl")
    evidence = {norm_url(u) for q in quiz for u in q.get("evidence_links", [])}
    for r, gold in _rows():
        page = pages[r["article_id"]]
        assert contains_answer(page["body"], gold.answers), r["id"]
        assert r["evidence_links"] == [page["url"]]
        assert norm_url(page["url"]) not in evidence, r["id"]
