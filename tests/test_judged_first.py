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


def test_the_committed_verdicts_load_and_judge_each_sentence_once_with_a_reason() -> None:
    rows = load_jsonl(VERDICTS)
    assert len({(r["id"], r["first_sha1"]) for r in rows}) == len(rows)  # a question's other first sentences too
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


def _llm_judged():
    spec = importlib.util.spec_from_file_location("llm_judged_first", ROOT / "benchmarks" / "llm_judged_first.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_local_llm_report_is_judged_per_answerer_and_the_rest_listed_to_judge(tmp_path: Path, capsys) -> None:
    lj = _llm_judged()
    melanoma, skin = af.first_sha1("The soap treats melanoma."), af.first_sha1("It treats skin cancer.")
    def answer(first: bool, sha: str, refused: bool = False) -> dict:
        return {"first_sentence": first, "first_sha1": sha, "refused": refused}
    report = {"questions": [
        {"id": "q1", "extractive": answer(True, skin), "llm": answer(False, melanoma)},  # right in other words
        {"id": "q2", "extractive": answer(False, "", refused=True), "llm": answer(True, "feedbeef0001")},
    ]}
    (tmp_path / "r.json").write_text(json.dumps(report))
    verdicts = tmp_path / "v.jsonl"
    verdicts.write_text("".join(json.dumps({"id": "q1", "first_sha1": sha, "correct": True, "why": "names it"}) + "\n"
                                for sha in (melanoma, skin)))
    todo = tmp_path / "todo.jsonl"
    assert lj.main([str(tmp_path / "r.json"), "--verdicts", str(verdicts), "--todo", str(todo)]) == 0
    figures, missing = lj.judged(report, af.load_verdicts(str(verdicts)))
    assert figures["llm"] == {"n": 2, "string_match": 1, "judged_correct": 1, "unjudged": 1,
                              "string_match_but_wrong": 0, "right_but_no_string_match": 1}
    assert figures["extractive"]["judged_correct"] == 1 and figures["extractive"]["unjudged"] == 0  # a refusal: wrong
    assert [(t["id"], t["answerer"]) for t in load_jsonl(todo)] == [("q2", "llm")]
    assert "1 first sentences to judge" in capsys.readouterr().out


def test_a_file_that_is_not_a_report_is_refused_with_its_name(tmp_path: Path) -> None:
    lj = _llm_judged()
    verdicts = tmp_path / "v.jsonl"
    verdicts.write_text("")
    for body in ('{"questions": 3}', "[1, 2]", '{"questions": [{"id": "q1"}]}'):
        odd = tmp_path / "odd.json"
        odd.write_text(body)
        with pytest.raises(SystemExit, match="odd.json: not a report of benchmarks/local_llm_answers.py"):
            lj.main([str(odd), "--verdicts", str(verdicts)])


def test_a_report_from_before_the_hashes_is_refused_with_what_to_do(tmp_path: Path) -> None:
    lj = _llm_judged()
    report = {"questions": [{"id": "q1", "extractive": {"first_sentence": True, "refused": False},
                             "llm": {"first_sentence": True, "refused": False}}]}
    with pytest.raises(SystemExit, match="q1: the report has no first_sha1"):
        lj.judged(report, {})


def test_the_claims_halves_split_by_source_and_the_llm_half_is_named(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("claims_halves", ROOT / "benchmarks" / "claims_halves.py")
    halves = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(halves)
    passage = "The ferry entered service on Monday. It carries 300 passengers."
    rows = [{"id": f"r{i}", "article_id": f"src{i}", "passage": passage, "claim": claim, "supported": ok,
             "kind": "summary", "response_id": f"resp{i}"}
            for i, (claim, ok) in enumerate([("The ferry carries 300 passengers.", True),
                                             ("The ferry carries 500 passengers.", False)] * 3)]
    path, out = tmp_path / "claims.jsonl", tmp_path / "halves.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert {halves.half(r) for r in rows} == {"dev", "held-out"}  # six sources, both halves
    assert halves.main([str(path), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report) == {"dev", "held-out"}
    assert sum(r["claims"] for r in report.values()) == 6 and all("wrong" not in r for r in report.values())
    # --limit / --skip pick whole responses in file order: an earlier run's responses are not read again
    two = [dict(r, response_id=f"resp{i // 2}") for i, r in enumerate(rows)]
    assert [r["id"] for r in halves.responses(two, limit=1)] == ["r0", "r1"]
    assert [r["id"] for r in halves.responses(two, limit=1, skip=1)] == ["r2", "r3"]
    assert [r["id"] for r in halves.responses(two, skip=2)] == ["r4", "r5"]
    assert halves.responses(two) == two
    with pytest.raises(SystemExit):
        halves.main([str(path), "--llm", "local", "--llm-half", "test"])  # only dev or held-out
    assert "invalid choice" in capsys.readouterr().err


def test_llm_pass_replay_applies_todays_combination_to_recorded_readings(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("llm_pass_replay", ROOT / "benchmarks" / "llm_pass_replay.py")
    replay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(replay)
    passage = "The ferry entered service on Monday. It carries 300 passengers across the bay each hour."
    rows = [{"id": f"r{i}", "article_id": "src0", "passage": passage, "claim": claim, "supported": ok,
             "kind": "summary", "response_id": f"resp{i}"}
            for i, (claim, ok) in enumerate([("The ferry carries 300 passengers.", True),
                                             ("The new ferry started sailing on Monday.", True),
                                             ("Hundreds of riders cross the water hourly on the new vessel.", False),
                                             ("The ferry sank on its first crossing.", False)])]
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    half = replay.halves.half(rows[0])
    # as the run combined them: both readings confirmed, and the model's "contradicted" removed r3
    read = [{"id": "r1", "llm": "supported", "verdict": "supported"},
            {"id": "r2", "llm": "supported", "verdict": "supported"},
            {"id": "r3", "llm": "contradicted", "verdict": "contradicted"}]
    report = tmp_path / "report.json"
    report.write_text(json.dumps({half: {"claims": 4, "llm": {"read": read}}}))
    out = tmp_path / "out.json"
    assert replay.main([str(path), str(report), "--half", half, "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["as_run"]["false_confirmed"] == 0.5 and got["as_run"]["kept_supported"] == 1.0
    # today: the reading of r2 is not taken (the passage holds too little of it), r3 stays marked
    assert got["now"]["false_confirmed"] == 0.0 and got["now"]["kept_supported"] == 1.0
    assert got["rules"]["kept_supported"] == 0.5 and got["now"]["true_removed"] == 0.0
    with pytest.raises(SystemExit, match="picks 2|pick 2"):
        replay.main([str(path), str(report), "--half", half, "--limit", "2"])
    with pytest.raises(SystemExit, match="pick 0"):  # --task keeps RAGTruth's rows of that task only
        replay.main([str(path), str(report), "--half", half, "--task", "qa"])
    with pytest.raises(SystemExit, match="readings"):
        replay.main([str(path), str(path), "--half", half])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(SystemExit, match="holds no claims"):  # one line, not a traceback
        replay.main([str(empty), str(report), "--half", half])
