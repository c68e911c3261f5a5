"""benchmarks/answer_first.py --verdicts: a hand verdict counts only for the first sentence it was given on, and
the verdict file that docs/EVALUATION.md reports from is well-formed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from rag.eval.metrics import load_jsonl

from .conftest import ROOT

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

_PATH = ROOT / "benchmarks" / "answer_first.py"
_spec = importlib.util.spec_from_file_location("answer_first", _PATH)
af = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("answer_first", af)
_spec.loader.exec_module(af)

VERDICTS = ROOT / "benchmarks" / "first_sentence_judged.jsonl"


def test_the_key_ignores_spacing_but_not_words() -> None:
    a = af.first_sha1("The ferry  entered service\non Monday.")
    assert a == af.first_sha1(" The ferry entered service on Monday. ")
    assert a != af.first_sha1("The ferry entered service on Tuesday.")
    assert len(a) == 12


def test_a_verdict_is_found_only_under_the_sentence_it_judged(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    judged = af.first_sha1("Four tests per household can be ordered.")
    path.write_text(json.dumps({"id": "q1", "first_sha1": judged, "correct": True, "why": "in words"}) + "\n")
    verdicts = af.load_verdicts(str(path))
    assert verdicts.get(("q1", judged)) is True
    assert verdicts.get(("q1", af.first_sha1("Tests can be ordered online."))) is None  # changed: unjudged
    assert verdicts.get(("q2", judged)) is None


def test_a_row_without_a_verdict_is_refused_with_its_id(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps({"id": "q7", "first_sha1": "abc", "correct": None}) + "\n")
    with pytest.raises(SystemExit, match="q7"):
        af.load_verdicts(str(path))


def test_the_committed_verdicts_load_and_judge_each_question_once_with_a_reason() -> None:
    rows = load_jsonl(VERDICTS)
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(set(r) == {"id", "first_sha1", "correct", "why"} and r["why"] for r in rows)
    assert all(isinstance(r["correct"], bool) for r in rows)
    assert af.load_verdicts(str(VERDICTS))  # the file the docs' figure comes from is one the benchmark accepts


def test_a_broken_or_missing_verdict_file_stops_with_its_name(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "q1", "first_sha1"\n')
    with pytest.raises(SystemExit, match="broken.jsonl:1: not JSON"):
        af.load_verdicts(str(broken))
    with pytest.raises(SystemExit, match="missing.jsonl"):
        af.load_verdicts(str(tmp_path / "missing.jsonl"))
