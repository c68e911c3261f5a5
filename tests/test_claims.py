"""The claim check catches what it says it catches: each hole of issue 11 as a case (written here, no
publishers' text), the supported rewordings it must keep, drop reasons on the Answer, and streaming."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rag.answer.answerers.extractive import ExtractiveAnswerer
from rag.check.citations import Checker, check, checked_stream, unconfirmed_mark
from rag.check.claims import judge, quantities
from rag.core.schema import Answer, Hit, Passage

from .conftest import ROOT

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

PASSAGE = (
    "The harbour festival drew 40,000 visitors on Saturday, organisers said. The city spent $2.5 million on "
    "the new pier, and the ferry added 1,100 extra crossings. Tickets sold out in 48% of the venues.\n\n"
    '"We have never seen crowds like this," Mayor Lena Ruiz said. "The pier will stay open all winter."\n\n'
    "Council member Tom Baker said the budget had not been approved. The festival has not sparked any "
    "complaints, according to the police."
)


def _hit(text: str, n: int = 0) -> Hit:
    p = Passage(id=f"a{n}:0", article_id=f"a{n}", index=0, start=0, end=len(text), text=text, title="Festival",
                source="Ledger", published_at="2024-05-01")
    return Hit(passage=p, score=1.0, rank=n + 1)


@pytest.mark.parametrize("claim,rule,detail", [
    ("The festival has sparked complaints, according to the police.", "polarity", "not"),
    ("The budget had been approved, Council member Tom Baker said.", "polarity", "not"),
    ("The festival drew 45,000 visitors on Saturday, organisers said.", "number", "45,000"),
    ("The city spent $2.5 billion on the new pier.", "number", "$2.5 billion"),
    ("Tickets sold out in 48 venues.", "number", "48"),
    ("The festival drew 40,000 visitors on Sunday, organisers said.", "date", "Sunday"),
    ("Council member Ada Quinn said the budget had not been approved.", "name", "Ada"),
    # too little of it lines up to be read as stated (below the support threshold since session 25): unconfirmed,
    # the name among the words no passage holds
    ("Mayor Ada Quinn said the pier will stay open all winter.", "words", "ada"),
    ('"We have never seen crowds like this," Tom Baker said.', "attribution", "Tom Baker"),
    ('Mayor Lena Ruiz was arrested after shouting "We have never seen crowds like this".', "frame", "arrest"),
    ('"We have never seen crowds like these," Mayor Lena Ruiz said.', "quote", "these"),
    ("Note: the airport will close for repairs next spring.", "words", ""),
    ("I could not find the ferry timetable, but the airport will close next spring.", "words", ""),
])
def test_each_unsupported_kind_is_rejected_with_its_reason(claim, rule, detail):
    v = judge(claim, PASSAGE)
    assert not v.ok and v.rule == rule, v
    assert detail.lower() in v.detail.lower()


@pytest.mark.parametrize("claim", [
    "The harbour festival drew 40,000 visitors on Saturday, organisers said.",
    "The festival drew 40,000 visitors on Saturday.",  # trimmed
    "The harbour festival drew 40,000 visitors on Saturday, organisers stated.",  # a speech verb reworded
    "The city spent 2.5 million dollars on the new pier.",  # a unit written another way
    "Tickets sold out in 48 percent of the venues.",
    "The city spent $2.5 million on the new pier, and tickets sold out in 48% of the venues.",  # merged
    '"We have never seen crowds like this," Mayor Lena Ruiz said.',
    '"The pier will stay open all winter," said Ruiz.',  # the second quote is hers too
    "Council member Tom Baker said the budget had not been approved.",
    "The festival has not sparked any complaints, according to the police.",
])
def test_supported_statements_are_kept(claim):
    assert judge(claim, PASSAGE).ok, judge(claim, PASSAGE)


def test_numbers_keep_unit_and_scale():
    found = {q.text: (q.value, q.unit) for q in quantities("$48 million, 48% and 1,100 flights, three boats")}
    assert found == {"$48 million": (48e6, "usd"), "48%": (48.0, "%"), "1,100": (1100.0, None),
                     "three": (3.0, None)}


def test_a_year_after_mid_pre_or_post_is_a_number_and_a_name_with_digits_is_not():
    assert [q.value for q in quantities("since the mid-1970s, pre-2020 levels")] == [1970.0, 2020.0]
    assert quantities("COVID-19 cases on the A320") == []
    assert judge("The group has clashed with Marlow over the valley since the 1970s.",
                 "The group has clashed with Marlow over the valley since the mid-1970s, officials said.").ok


def test_a_short_verbatim_quote_does_not_approve_the_sentence_around_it():
    # The old check approved any sentence holding a verbatim quote of three words or more.
    v = judge('The mayor resigned on Friday after saying "the pier will stay open".', PASSAGE)
    assert not v.ok


def test_no_sentence_is_exempt_and_reasons_are_kept():
    hits = [_hit(PASSAGE)]
    text = ("Note: the airport will close next spring. Sources differ on the crowd. However, the passages say "
            "the mayor resigned. The festival drew 40,000 visitors on Saturday [1].")
    checked = check(text, hits, strict=True)
    assert checked.text == "The festival drew 40,000 visitors on Saturday [1]."
    assert checked.claims_checked == 4 and checked.claims_dropped == 3
    assert {d["sentence"][:7] for d in checked.dropped} == {"Note: t", "Sources", "However"}
    assert all(d["rule"] and d["verdict"] == "unconfirmed" for d in checked.dropped)
    # by default the unconfirmed sentences stay, uncited and marked, and the verdict list says why
    marked = check(text, hits)
    assert marked.claims_dropped == 0 and len(marked.citations) == 1
    assert marked.text.count(unconfirmed_mark()) == 3 and marked.text.count("[1]") == 1
    assert [v["verdict"] for v in marked.verdicts] == ["unconfirmed"] * 3 + ["supported"]


def test_drop_reasons_reach_the_answer_json():
    answer = Answer(text="x", dropped=[{"sentence": "s", "rule": "number", "detail": "45", "passage": 1}])
    assert answer.to_dict()["dropped"] == [{"sentence": "s", "rule": "number", "detail": "45", "passage": 1}]


def test_a_bad_marker_is_removed_and_the_sentence_judged_as_uncited():
    checked = check("The festival drew 40,000 visitors [7]. The mayor resigned [7].", [_hit(PASSAGE)], strict=True)
    assert checked.text == "The festival drew 40,000 visitors [1]."  # passage 1 states it, so it cites [1]
    assert checked.dropped[0]["rule"] == "marker" and checked.dropped[0]["detail"] == "[7]"


def test_uncited_sentence_is_held_to_the_same_standard():
    checked = check("The festival drew 40,000 visitors on Saturday. The festival drew 90,000 visitors.",
                    [_hit(PASSAGE)])
    assert checked.text == "The festival drew 40,000 visitors on Saturday [1]."
    assert checked.dropped[0]["rule"] == "number"


def test_checker_numbers_citations_in_order_for_streaming():
    hits = [_hit("The bridge opens in June, the council said."), _hit(PASSAGE, 1)]
    checker = Checker(hits)
    first = checker.add("Tickets sold out in 48% of the venues [2].")
    second = checker.add("Tickets sold out in 60% of the venues [2].")
    third = checker.add("The bridge opens in June [1].")
    assert first.kept.endswith("[1].") and first.citations[0].article_id == "a1"
    assert second.kept == "" and second.dropped["rule"] == "number" and second.dropped["detail"] == "60%"
    assert third.kept.endswith("[2].") and third.citations[0].article_id == "a0"
    pieces = ["The bridge op", "ens in June [1]. The bri", "dge opens in May [1]. The co", "uncil said so [1]."]
    results = list(checked_stream(iter(pieces), Checker(hits)))
    assert [bool(r.kept) for r in results] == [True, False, True]


MISATTRIBUTED = (
    "Mayor Ann Smith said the council would vote on Monday.\n\n"
    '"We will fight this ruling in every court, and we will win," read a statement from the developer, '
    "Harbor Corp."
)


def test_extractive_answer_never_names_a_speaker_the_passage_does_not_credit():
    # The old answerer took "Ann Smith" from the previous paragraph and wrote 'Mayor Ann Smith said: "We will…'.
    hits = [_hit(MISATTRIBUTED)]
    text = ExtractiveAnswerer().answer("What did the developer say about the ruling?", hits)
    assert "We will fight this ruling" in text
    assert "Smith said:" not in text


def test_the_check_drops_a_misattributed_quote():
    hits = [_hit(MISATTRIBUTED)]
    claim = 'Mayor Ann Smith said: "We will fight this ruling in every court, and we will win." [1]'
    checked = check(claim, hits, strict=True)
    assert checked.text == "" and checked.dropped[0]["rule"] == "attribution"
    # the passage credits the words to nobody it names: not stated, but not shown to be false either
    assert checked.dropped[0]["detail"] == "Ann Smith" and checked.dropped[0]["verdict"] == "unconfirmed"
    marked = check(claim, hits)
    assert not marked.citations and marked.text.endswith(unconfirmed_mark())


def test_pronoun_attribution_is_resolved_to_the_person_named():
    passage = 'Dana Cole spoke after the vote. "We lost this round," she said. Ed Fox disagreed.'
    assert judge('"We lost this round," Dana Cole said.', passage).ok
    assert judge('"We lost this round," Ed Fox said.', passage).rule == "attribution"


def test_eval_claims_cli_reports_the_documented_keys(tmp_path):
    rows = [{"id": "1", "passage": PASSAGE, "claim": "The festival drew 40,000 visitors on Saturday.",
             "supported": True, "kind": "supported"},
            {"id": "2", "passage": PASSAGE, "claim": "The festival drew 41,000 visitors on Saturday.",
             "supported": False, "kind": "number"}]
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "rag.frontends.cli", "eval", "--claims", str(path), "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["rejected_unsupported"] == 1.0 and report["kept_supported"] == 1.0
    assert set(report["by_kind"]) == {"supported", "number"} and report["ms_p95"] >= 0
    assert "passage" not in json.dumps(report["wrong"])  # ids and numbers only


def test_eval_claims_bad_file_says_what_to_do(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"claim": "x"}\n')
    proc = subprocess.run([sys.executable, "-m", "rag.frontends.cli", "eval", "--claims", str(bad)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "bad.jsonl:1" in proc.stderr and "supported" in proc.stderr


def test_two_negations_close_together_cancel():
    passage = '"I have been quiet, not because I haven\'t been upset by the campaign, but to listen," she wrote.'
    assert judge('She was "upset by the campaign".', passage).ok
    assert judge("She has been upset by the campaign.", "She has not been upset by the campaign.").rule == "polarity"


def test_the_claims_eval_llm_pass_reads_each_responses_unconfirmed_claims_once_and_records_its_reading() -> None:
    """`newsrag eval --claims --llm`: one call per response for the claims the rules leave unconfirmed; the
    model's reading turns them supported or contradicted, never a rule's verdict; the report lists, per claim
    sent, the reading and the verdict it led to (ids only, no text)."""
    from types import SimpleNamespace

    from langchain_core.language_models import FakeListChatModel

    from rag.eval.claims import format_claims_report, score_claims

    passage = "The ferry entered service on Monday. It carries 300 passengers across the bay each hour."
    rows = [{"id": "a", "response_id": "r1", "passage": passage, "claim": "The ferry carries 300 passengers.",
             "supported": True, "kind": "summary"},  # the rules confirm it: never sent
            {"id": "b", "response_id": "r1", "passage": passage, "kind": "summary", "supported": True,
             "claim": "The new ferry started sailing on Monday."},
            {"id": "c", "response_id": "r1", "passage": passage, "kind": "summary", "supported": False,
             "claim": "Tourists praised the quiet engines of the vessel."},
            {"id": "d", "response_id": "r1", "passage": passage, "kind": "summary", "supported": True,
             "claim": "Hundreds of riders cross the water hourly on the new vessel."}]
    reply = json.dumps({"verdicts": [{"sentence": 1, "verdict": "supported", "passage": 1},
                                     {"sentence": 2, "verdict": "none", "passage": 0},
                                     {"sentence": 3, "verdict": "supported", "passage": 1}]})
    model = FakeListChatModel(responses=[reply])
    report = score_claims(rows, llm=SimpleNamespace(chat_model=model, name="fake"))
    assert report["llm"]["calls"] == 1
    read = {r["id"]: r for r in report["llm"]["read"]}
    assert set(read) == {"b", "c", "d"}  # only what the rules left unconfirmed
    assert read["b"]["llm"] == "supported" and read["b"]["verdict"] == "supported"
    assert read["c"]["llm"] is None and read["c"]["verdict"] == "unconfirmed"
    # a reading that confirms a sentence most of whose words no stretch of the passage holds is not taken
    assert read["d"]["llm"] == "supported" and read["d"]["verdict"] == "unconfirmed"
    assert "Hundreds" not in json.dumps(report["llm"]) and "'read'" not in format_claims_report(report)
