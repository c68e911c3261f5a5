"""The held-out quiz set (benchmarks/first_sentence_fresh.jsonl) is well-formed, and every answer is a short
string its page really holds, so that a question the answerer misses is a miss and not a broken row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.eval_metrics import Corpus, contains_answer, gold_of, load_jsonl

ROOT = Path(__file__).resolve().parents[1]
FRESH = ROOT / "benchmarks" / "first_sentence_fresh.jsonl"
PAGES = ROOT.parent / "shared" / "eval" / "realtimeqa" / "articles.jsonl"
FIELDS = {"id", "question", "answer", "type", "question_date", "article_id", "evidence_links",
          "answer_in_retrieved_articles"}


def _rows() -> list[dict]:
    return load_jsonl(FRESH)


def test_rows_have_the_eval_format_and_one_page_each():
    rows = _rows()
    assert len(rows) == 60
    assert all(set(r) == FIELDS for r in rows)
    assert len({r["id"] for r in rows}) == len({r["article_id"] for r in rows}) == 60
    for r in rows:
        assert r["answer_in_retrieved_articles"] is True and r["type"] == "news_quiz"
        assert 1 <= len(r["answer"].split()) <= 5, r["id"]
        assert not contains_answer(r["question"], gold_of(r, Corpus.from_texts([])).answers), f"{r['id']} gives its own answer away"
        assert gold_of(r, Corpus.from_texts([])).checkable, r["id"]


@pytest.mark.skipif(not PAGES.exists(), reason="the realtimeqa pages (../shared/eval) are not on this machine")
def test_every_answer_is_in_its_own_page_and_no_page_is_the_quizs_evidence():
    pages = {}
    with PAGES.open(encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            pages[a["id"]] = a
    quiz = load_jsonl(PAGES.parent / "questions.jsonl")
    evidence = {u.split("?")[0].rstrip("/").lower() for q in quiz for u in q.get("evidence_links", [])}
    for r in _rows():
        page = pages[r["article_id"]]
        assert contains_answer(page["body"], gold_of(r, Corpus.from_texts([])).answers), r["id"]
        assert r["evidence_links"] == [page["url"]]
        assert page["url"].split("?")[0].rstrip("/").lower() not in evidence, r["id"]
