"""benchmarks/llm_judge.py on a made-up question, with a scripted judge in place of SmolLM2: the counts follow
the order the weights give (the model itself is measured in docs/EVALUATION.md, not here)."""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
from pathlib import Path

from rag.core.schema import Hit, Passage

from .conftest import ROOT

_PATH = ROOT / "benchmarks" / "llm_judge.py"
_spec = importlib.util.spec_from_file_location("llm_judge", _PATH)
lj = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("llm_judge", lj)
_spec.loader.exec_module(lj)

QUESTION = "Which shipyard built the Kestrel ferry?"
TEXTS = ["The Kestrel ferry entered service on Monday at the Halden port, the port office said.",
         "Work on the new ferry took two years at the Marlow yard, its owners said."]


def _files(tmp_path: Path) -> tuple[Path, Path]:
    hits = [Hit(Passage(f"a{i}:0", f"a{i}", 0, 0, len(t), t, "Ferry news", "Test Wire", "2024-03-01"), 1.0 - i / 10)
            for i, t in enumerate(TEXTS)]
    cache = tmp_path / "hits.pkl"
    cache.write_bytes(pickle.dumps({(QUESTION, "2024-03-02", None): hits}))
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": QUESTION, "answer": "Marlow", "type": "news_quiz",
                                     "question_date": "2024-03-02", "answer_in_retrieved_articles": True}) + "\n")
    return cache, questions


def test_the_judges_score_reorders_the_statements(tmp_path: Path, monkeypatch) -> None:
    cache, questions = _files(tmp_path)
    asked = []

    class Scripted:
        def __call__(self, question: str, sentence: str) -> float:
            asked.append(sentence)
            return 5.0 if "Marlow" in sentence else -5.0

    monkeypatch.setattr(lj, "Judge", Scripted)
    out = tmp_path / "r.json"
    monkeypatch.setattr(sys, "argv", ["llm_judge.py", "--hits", str(cache), "--questions", str(questions),
                                      "--weights", "0,1", "--scores", str(tmp_path / "s.pkl"), "--json", str(out)])
    assert lj.main() == 0
    report = json.loads(out.read_text())
    assert report["gold_in_top"] == 1 and report["judge_alone"] == 1
    assert report["first_by_weight"]["0"] == 0  # the lexical order puts the Kestrel sentence first ...
    assert report["first_by_weight"]["1"] == 1  # ... and a judge this sure outweighs it
    assert len(asked) == 2
    # a rerun reads the kept scores: the judge is not asked again
    asked.clear()
    assert lj.main() == 0 and asked == []


def test_the_lexical_order_alone_is_w_zero(tmp_path: Path, monkeypatch) -> None:
    cache, questions = _files(tmp_path)
    monkeypatch.setattr(lj, "Judge", lambda: (lambda q, s: 0.0))
    out = tmp_path / "r.json"
    monkeypatch.setattr(sys, "argv", ["llm_judge.py", "--hits", str(cache), "--questions", str(questions),
                                      "--weights", "0", "--json", str(out)])
    assert lj.main() == 0
    from rag.answer.answerers.extractive import ExtractiveAnswerer

    hits = pickle.loads(cache.read_bytes())[(QUESTION, "2024-03-02", None)]
    lexical_first = ExtractiveAnswerer()._ranked(QUESTION, hits)[0].text
    assert json.loads(out.read_text())["first_by_weight"]["0"] == int("Marlow" in lexical_first)
