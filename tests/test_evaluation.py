"""Smoke evaluation on a tiny made-up data set: the report's structure and that its figures make sense."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ARTICLES = [
    {"id": "t1", "title": "Harbor town opens floating library", "source": "Coast Herald",
     "url": "https://example.org/floating-library", "published_at": "2024-03-02",
     "body": "The harbor town of Wrenmouth opened a floating library on Saturday, built on a former ferry named "
             "the Gull. Mayor Ada Pellow said the boat holds about 4,000 books and will dock at three villages "
             "each week. Volunteers spent two years restoring the hull and fitting shelves that survive rough "
             "water. Children will be able to borrow books for free, and the library will host reading hours "
             "on Sunday afternoons. The council paid for the project with a grant from a regional arts fund."},
    {"id": "t2", "title": "Orchard cooperative reports record pear harvest", "source": "Valley Times",
     "url": "https://example.org/pear-harvest", "published_at": "2024-03-05",
     "body": "The Millbrook orchard cooperative picked 1,250 tonnes of pears this season, its largest harvest "
             "since it was founded. Chair Tomas Reyl credited a mild spring and new netting that kept birds off "
             "the trees. Most of the fruit will be pressed into juice at the cooperative's plant near the river, "
             "while the best pears go to markets in the capital. The cooperative plans to hire twelve more "
             "seasonal pickers next year."},
    {"id": "t3", "title": "Chess prodigy wins national title at fourteen", "source": "Sports Daily",
     "url": "https://example.org/chess-title", "published_at": "2024-03-08",
     "body": "Fourteen-year-old Lina Osterhaug won the national chess championship on Friday, beating the "
             "defending champion in a tense final game that lasted six hours. She is the youngest player ever to "
             "take the title. Her coach said she studies endgames for three hours every morning before school. "
             "Osterhaug will represent the country at the continental championship in the autumn."},
    {"id": "t4", "title": "City council approves night tram line", "source": "Metro News",
     "url": "https://example.org/night-tram", "published_at": "2024-03-10",
     "body": "The city council voted 31 to 9 on Tuesday to approve a night tram line linking the university "
             "district to the central station. Trams will run every twenty minutes between midnight and five in "
             "the morning from September. Council member Priya Lund said night workers had asked for the service "
             "for years. The line will cost an estimated 18 million euros to operate over its first five years."},
    {"id": "t5", "title": "Rare owl spotted in northern forest", "source": "Nature Wire",
     "url": "https://example.org/rare-owl", "published_at": "2024-03-12",
     "body": "Birdwatchers recorded a great grey owl in the Kallen forest last week, the first sighting of the "
             "species in the region for forty years. The ranger service has closed two hiking trails near the "
             "nest to protect the bird during the breeding season. Ornithologist Jonas Mete said the owl was "
             "probably pushed south by a poor vole year in the mountains."},
    {"id": "t6", "title": "Bakery chain switches to solar ovens", "source": "Business Post",
     "url": "https://example.org/solar-ovens", "published_at": "2024-03-14",
     "body": "The Brightloaf bakery chain will power the ovens of its 45 shops with rooftop solar panels and "
             "batteries by the end of next year. Chief executive Marta Quill said electricity had become the "
             "chain's second largest cost after flour. The switch is expected to cut the chain's energy bill by "
             "a third."},
]

QUESTIONS = [
    {"id": "q1", "question": "What was the floating library in Wrenmouth built on?", "answer": ["a former ferry",
     "the Gull"], "type": "fact", "evidence": [{"article_id": "t1", "text": "built on a former ferry named the Gull"}]},
    {"id": "q2", "question": "How many tonnes of pears did the Millbrook cooperative pick?", "answer": "1,250 tonnes",
     "type": "fact", "evidence": [{"url": "https://example.org/pear-harvest"}]},
    {"id": "q3", "question": "Who won the national chess championship?", "answer": "Lina Osterhaug", "type": "person",
     "evidence": [{"article_id": "t3"}]},
    {"id": "q4", "question": "How often will the night trams run?", "answer": "every twenty minutes", "type": "fact",
     "evidence": [{"article_id": "t4"}]},
    {"id": "q5", "question": "Which bird was spotted in the Kallen forest?", "answer": "great grey owl",
     "type": "fact", "evidence": [{"article_id": "t5"}]},
    {"id": "q6", "question": "What did the space agency announce about its Mars helicopter?",
     "answer": "Insufficient information.", "type": None, "answerable": False, "evidence": []},
]


@pytest.fixture
def data(tmp_path) -> tuple[Path, Path]:
    a, q = tmp_path / "articles.jsonl", tmp_path / "questions.jsonl"
    a.write_text("".join(json.dumps(x) + "\n" for x in ARTICLES))
    q.write_text("".join(json.dumps(x) + "\n" for x in QUESTIONS))
    return a, q


def _in_unit(x) -> None:
    assert x is None or 0.0 <= x <= 1.0, x


def _check_summary(s: dict, systems: list[str]) -> None:
    for name in systems:
        r = s["retrieval"][name]
        for kind in ("answer", "evidence"):
            for key in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10"):
                _in_unit(r[kind][key])
            prev = 0.0
            for k in (1, 3, 5, 10):  # hit@k never falls as k grows
                if r[kind][f"hit@{k}"] is not None:
                    assert r[kind][f"hit@{k}"] >= prev
                    prev = r[kind][f"hit@{k}"]
        _in_unit(r["answer_in_index"])
    if "answers" in s:
        for key in ("contains_answer", "refused_unanswerable", "refused_ungrounded", "wrong_refusals"):
            _in_unit(s["answers"][key])
        _in_unit(s["citations"]["quote_in_passage"])
        _in_unit(s["citations"]["dropped_share"])


def test_gold_and_matching() -> None:
    from rag.eval.metrics import (
        Corpus,
        Doc,
        contains_answer,
        evidence_rank,
        gold_of,
        norm,
        rank_of,
    )

    corpus = Corpus.from_articles(ARTICLES)
    golds = {q["id"]: gold_of(q, corpus) for q in QUESTIONS}
    assert golds["q1"].grounded and golds["q1"].evidence_present
    assert golds["q6"].unanswerable and not golds["q6"].grounded
    assert contains_answer("It  ran EVERY twenty\nminutes.", ["every twenty minutes"])
    assert not contains_answer("It cost 11,250 tonnes", ["1,250 tonnes"])
    docs = [Doc("t2", "", norm("nothing here")), Doc("t9", "", norm("He picked 1,250 tonnes of pears"))]
    assert rank_of(docs, golds["q2"].answers) == 2
    assert evidence_rank(docs, golds["q2"]) is None
    assert evidence_rank([Doc("x", "example.org/pear-harvest", "")], golds["q2"]) == 1


def test_evaluate_with_and_without_baseline(data) -> None:
    from rag.eval.run import NEWSRAG, PLAIN, evaluate, format_report

    articles, questions = data
    report = evaluate(articles, questions, progress=False)
    assert report["baseline"] is None and PLAIN not in report["systems"]
    assert report["dataset"]["questions_n"] == 6 and report["dataset"]["unanswerable"] == 1
    overall = report["overall"]
    assert overall["retrieval"][NEWSRAG]["answer"]["n"] == 5
    assert overall["retrieval"][NEWSRAG]["answer"]["hit@10"] > 0
    assert overall["answers"]["n_unanswerable"] == 1
    _check_summary(overall, report["systems"])
    assert set(report["by_type"]) == {"fact", "person", "null"}
    for s in report["by_type"].values():
        _check_summary(s, report["systems"])
    for stage in ("retrieve", "answer", "total"):
        assert overall["latency_ms"][stage]["p95"] >= overall["latency_ms"][stage]["p50"] >= 0
    assert len(report["questions"]) == 6
    json.dumps(report)  # serialisable
    assert "Retrieval, answer" in format_report(report)

    pytest.importorskip("langchain_text_splitters")
    with_plain = evaluate(articles, questions, baseline="plain", progress=False)
    assert with_plain["systems"][-1] == PLAIN and with_plain["baseline"]["build"]["chunks"] >= len(ARTICLES)
    assert with_plain["overall"]["retrieval"][PLAIN]["answer"]["hit@10"] > 0
    _check_summary(with_plain["overall"], with_plain["systems"])
    assert "plain" in format_report(with_plain)


def test_cli_eval(data, tmp_path, capsys) -> None:
    from rag.frontends.cli import main

    articles, questions = data
    out = tmp_path / "out" / "report.json"
    store = tmp_path / "store"
    assert main(["eval", "--articles", str(articles), "--questions", str(questions), "--json", str(out),
                 "--limit", "3", "--store", str(store)]) == 0
    report = json.loads(out.read_text())
    assert report["dataset"]["questions_n"] == 3 and report["ingest"]["added"] == len(ARTICLES)
    assert "Retrieval" in capsys.readouterr().out
    assert main(["eval", "--articles", str(tmp_path / "missing.jsonl"), "--questions", str(questions)]) == 2


def test_retrieval_miss_classes() -> None:
    """benchmarks/retrieval_misses.py puts each miss in the first class that fits, and a hit in none."""
    import importlib.util
    from datetime import date
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "retrieval_misses.py"
    spec = importlib.util.spec_from_file_location("retrieval_misses", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    day, later = date(2023, 10, 1), date(2023, 10, 6)
    assert mod.classify(3, 1, 5, [day], day) is None
    assert mod.classify(None, None, 5, [later, later], day) == "dated_after"
    assert mod.classify(None, None, 5, [later, None], day) == "not_found"  # an undated page might be older
    assert mod.classify(None, 2, 5, [day], day) == "article_in_top"
    assert mod.classify(12, 12, 5, [day], None) == "in_top_50"
    assert mod.classify(None, 30, 5, [day], day) == "not_found"


def test_articles_with_a_question_id_are_indexed_one_question_at_a_time(tmp_path) -> None:
    """rgb_en_fact's protocol: each question is asked of a store of its own passages only, so another
    question's passages on the same subject cannot crowd out its own; --one-store keeps the old way."""
    from rag.eval.run import evaluate

    body = "The {yard} shipyard built the Kestrel ferry, which entered service on Monday, the port said."
    arts = [{"id": "q1-a", "question_id": "q1", "title": None, "source": "Port Wire", "published_at": None,
             "body": body.format(yard="Halden")},
            {"id": "q1-b", "question_id": "q1", "title": None, "source": "Port Wire", "published_at": None,
             "body": body.format(yard="Marlow")},
            {"id": "q2-a", "question_id": "q2", "title": None, "source": "Port Wire", "published_at": None,
             "body": body.format(yard="Tarn").replace("Kestrel", "Osprey")}]
    qs = [{"id": "q1", "question": "Which shipyard built the Kestrel ferry?", "answer": "Halden",
           "fake_answer": "Marlow", "type": "counterfactual", "evidence": [{"article_id": "q1-a", "text": ""}]},
          {"id": "q2", "question": "Which shipyard built the Osprey ferry?", "answer": "Tarn",
           "type": "counterfactual", "evidence": [{"article_id": "q2-a", "text": ""}]}]
    a, q = tmp_path / "a.jsonl", tmp_path / "q.jsonl"
    a.write_text("".join(json.dumps(x) + "\n" for x in arts))
    q.write_text("".join(json.dumps(x) + "\n" for x in qs))
    report = evaluate(a, q, progress=False)
    assert report["dataset"]["per_question"] and report["ingest"]["index_passages"] == 3
    first, second = report["questions"]
    assert first["ask"]["conflict_stated"] and first["ask"]["sources_differ"] == 1
    assert second["systems"]["newsrag"]["n_hits"] == 1  # only its own passage in its store
    together = evaluate(a, q, progress=False, per_question=False)
    assert not together["dataset"]["per_question"] and together["questions"][1]["systems"]["newsrag"]["n_hits"] == 3
