"""benchmarks/carryover_sets.py: others' labelled summaries read into claims rows with the labels their authors
meant (FaithBench's "Unwanted" spans per sentence, SummEdits' label per summary) and scored per summary."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

_spec = importlib.util.spec_from_file_location("carryover_sets", ROOT / "benchmarks" / "carryover_sets.py")
co = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("carryover_sets", co)
_spec.loader.exec_module(co)

SOURCE = ("The harbour board approved a new ferry terminal on Monday. It will cost 40 million dollars. "
          "Construction starts in May, the board's chair, Lena Ortiz, said.")


def _span(summary: str, part: str) -> tuple[int, int]:
    start = summary.index(part)
    return start, start + len(part)


def _batch(tmp_path: Path) -> Path:
    s1 = "The board approved a ferry terminal on Monday. It will cost 60 million dollars. Work starts in May."
    s2 = "The terminal will cost 40 million dollars. Lena Ortiz chairs the board."
    a, b = _span(s1, "60 million")
    c, d = _span(s1, "Work starts in May.")
    e, f = _span(s2, "Lena Ortiz chairs the board.")
    samples = [
        {"sample_id": 0, "source": SOURCE, "summary": s1, "metadata": {"summarizer": "org/model-a", "gpt_4o": 0},
         "annotations": [{"label": ["Unwanted", "Unwanted.Intrinsic"], "summary_start": a, "summary_end": b},
                         {"label": ["Questionable"], "summary_start": c, "summary_end": d}]},
        {"sample_id": 1, "source": SOURCE, "summary": s2, "metadata": {"summarizer": "org/model-b", "gpt_4o": 1},
         "annotations": [{"label": ["Benign"], "summary_start": e, "summary_end": f}]},
    ]
    (tmp_path / "batch_1.json").write_text(json.dumps({"samples": samples}))
    return tmp_path


def test_a_sentence_is_unsupported_where_an_unwanted_span_falls_and_left_out_where_only_a_questionable_one_does(
        tmp_path: Path) -> None:
    rows = co.faithbench_rows(_batch(tmp_path))
    by_claim = {r["claim"]: r for r in rows}
    assert by_claim["It will cost 60 million dollars."]["supported"] is False
    assert by_claim["The board approved a ferry terminal on Monday."]["supported"] is True
    assert "Work starts in May." not in by_claim  # only a Questionable span: neither label
    assert by_claim["Lena Ortiz chairs the board."]["supported"] is True  # Benign is not a hallucination
    assert {r["response_id"] for r in rows} == {"fb_batch_1_0", "fb_batch_1_1"}
    assert by_claim["Lena Ortiz chairs the board."]["model"] == "model-b"


def test_the_shipped_detectors_are_scored_per_summary_on_the_same_labels(tmp_path: Path) -> None:
    figs = co.faithbench_detectors(_batch(tmp_path))["gpt_4o"]
    # summary 0 has an Unwanted span and gpt_4o flagged it (0 < 0.5); summary 1 has none and it passed it
    assert figs == {"summaries": 2, "flagged_hallucinated": 1.0, "passed_faithful": 1.0, "balanced_accuracy": 1.0}


def test_a_summary_is_flagged_when_any_of_its_sentences_is_not_confirmed() -> None:
    rows = [{"id": "a0", "response_id": "a", "supported": True}, {"id": "a1", "response_id": "a", "supported": False},
            {"id": "b0", "response_id": "b", "supported": True}, {"id": "c0", "response_id": "c", "supported": True}]
    # wrong verdicts: a1 confirmed (a hallucination passed), c0 not confirmed (a faithful summary flagged)
    got = co.response_level(rows, {"a1", "c0"})
    assert got["hallucinated"] == 1 and got["flagged_hallucinated"] == 0.0
    assert got["passed_faithful"] == 0.5 and got["balanced_accuracy"] == 0.25


def test_summedits_rows_carry_their_summarys_label_and_the_check_scores_them(tmp_path: Path) -> None:
    path = tmp_path / "summedits_news.json"
    path.write_text(json.dumps([
        {"id": "x_og", "doc": SOURCE, "summary": "The harbour board approved a new ferry terminal on Monday.",
         "label": 1},
        {"id": "x_1", "doc": SOURCE, "summary": "The harbour board rejected a new ferry terminal on Monday. "
         "It will cost 90 million dollars.", "label": 0},
    ]))
    rows = co.summedits_rows(path)
    assert [r["supported"] for r in rows] == [True, False, False]
    assert len({r["response_id"] for r in rows}) == 2
    rep = co.scored(rows, co.SUPPORT_THRESHOLD, 0.85)
    assert rep["response_level"]["balanced_accuracy"] == 1.0  # the faithful one confirmed, the edited one flagged


def test_a_broken_or_empty_input_stops_with_what_to_give(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    broken = tmp_path / "summedits_news.json"
    broken.write_text('[{"id": "x", "doc": ')
    with pytest.raises(SystemExit) as stop:
        co.main(["--summedits", str(broken)])
    assert stop.value.code == 2
    assert "could not be read as SummEdits" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        co.main(["--faithbench", str(tmp_path / "nothing-here")])
    assert "holds no rows" in capsys.readouterr().err
