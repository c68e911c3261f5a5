"""Questions answered as of their own day: date words count back from as_of (default today), coverage
published after it is not used, each source shows its date and a many-dated answer names the newest."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from rag.answer.assistant import Assistant, newest_source_notice
from rag.core.errors import InputError, SettingsError
from rag.core.schema import Citation
from rag.core.settings import Settings
from rag.frontends.cli import main as cli_main
from rag.nlp.dates import parse_dates

from .conftest import ingested_home

_SLUG = "https://ledger.example/{d}/{i}"
ARTICLES = [  # (id, date or None, title, body): the same subject on different days
    ("dam-1", "2024-03-01", "Reservoir dam inspection begins",
     "Engineers began inspecting the Corrin reservoir dam on Friday. Water board chair Ilse Varga said the "
     "inspection of the dam would take two weeks and the reservoir level would be lowered by a metre."),
    ("dam-2", "2024-03-12", "Dam inspection finds cracked spillway",
     "The Corrin reservoir dam inspection found a cracked spillway, chair Ilse Varga said on Tuesday. Repairs "
     "to the dam spillway will cost 3 million euros and start in April, the water board said."),
    ("dam-3", "2024-05-20", "Dam spillway repairs finished early",
     "Repairs to the cracked spillway of the Corrin reservoir dam finished early, chair Ilse Varga said on "
     "Monday. The reservoir level will rise again over the summer, the water board said."),
    ("dam-undated", None, "Corrin reservoir: a short history of the dam",
     "The Corrin reservoir dam was built in 1961 to supply the valley towns with water. The water board has "
     "run the reservoir dam since 1990 and inspects it every ten years."),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    records = ({"id": i, "source": "Ledger", "title": t, "body": b,
                **({"url": _SLUG.format(d=d.replace('-', '/'), i=i)} if d else {})} for i, d, t, b in ARTICLES)
    return ingested_home(tmp_path_factory.mktemp("asof"), records, chunk_min_words=20, chunk_max_words=60)


@pytest.fixture
def assistant(home):
    return Assistant.from_settings(Settings(home=home, llm="extractive", top_k=6))


def test_this_week_is_the_seven_days_up_to_as_of_and_defaults_to_today():
    as_of = date(2024, 3, 15)
    week = parse_dates("What happened to the dam this week?", as_of)
    assert (week.since, week.until) == (date(2024, 3, 9), as_of)
    today = parse_dates("What happened to the dam this week?")
    assert today.until == date.today() and today.since == date.today() - timedelta(days=6)


def test_year_words_resolve_against_as_of():
    as_of = date(2024, 3, 15)
    this = parse_dates("Who won this year's harbour regatta?", as_of)
    assert (this.since, this.until) == (date(2024, 1, 1), as_of)
    last = parse_dates("Who won the regatta last year?", as_of)
    assert (last.since, last.until) == (date(2023, 1, 1), date(2023, 12, 31))
    past = parse_dates("How did fares change over the past year?", as_of)
    assert (past.since, past.until) == (date(2023, 3, 16), as_of)
    assert parse_dates("What did she do in the last year of her term?", as_of).since is None


def test_coverage_after_as_of_is_not_used_by_either_search(assistant):
    r = assistant.retriever
    for question in ("Corrin reservoir dam spillway repairs", "What happened to the dam this week?"):
        hits = r.retrieve(r.plan(question, as_of="2024-03-15"), k=10)
        ids = {h.passage.article_id for h in hits}
        assert "dam-3" not in ids and "dam-2" in ids
        assert "dam-undated" in ids  # an undated article may be older: it stays
        later = {h.passage.article_id for h in r.retrieve(r.plan(question), k=10)}
        assert "dam-3" in later  # without as_of nothing is left out
    # The keyword search alone, with the dense list empty, also leaves the later article out.
    q = r.plan("finished early", as_of="2024-03-15")
    assert "dam-3" not in {h.passage.article_id for h in r.retrieve(q, k=10)}


def test_latest_prefers_the_newest_before_as_of(assistant):
    r = assistant.retriever
    hits = r.retrieve(r.plan("What is the latest on the Corrin dam spillway?", as_of="2024-03-15"), k=3)
    assert hits[0].passage.article_id == "dam-2"
    hits = r.retrieve(r.plan("What is the latest on the Corrin dam spillway?", as_of="2024-06-01"), k=3)
    assert hits[0].passage.article_id == "dam-3"


def test_ask_as_of_says_so_and_names_the_newest_source(assistant):
    answer = assistant.ask("What did Ilse Varga say about the Corrin reservoir dam?", as_of="2024-03-15")
    assert not answer.refused
    assert all(c.published_at is None or c.published_at <= "2024-03-15" for c in answer.citations)
    assert any(n.startswith("As of 2024-03-15") for n in answer.notices)
    days = {c.published_at for c in answer.citations if c.published_at}
    assert days == {"2024-03-01", "2024-03-12"}
    assert any("the newest is [1] (2024-03-12)" in n for n in answer.notices)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        assistant.ask("What did Ilse Varga say?", as_of="mid-March")


def test_newest_source_notice():
    def cite(n, day):
        return Citation(n, f"a{n}", f"a{n}:0", "t", "Ledger", None, day, "p", "q", 0, 1)

    assert newest_source_notice([cite(1, "2024-03-01"), cite(2, "2024-03-01")]) == []
    assert newest_source_notice([cite(1, "2024-03-01"), cite(2, None)]) == []
    (notice,) = newest_source_notice([cite(1, "2024-03-01"), cite(2, "2024-03-12"), cite(3, "2024-03-12")])
    assert "2024-03-01 to 2024-03-12" in notice and "[2], [3]" in notice


def test_cli_ask_as_of_shows_each_sources_date(home, capsys):
    code = cli_main(["--home", str(home), "ask", "What did Ilse Varga say about the Corrin dam spillway?",
                     "--as-of", "2024-03-15", "--llm", "extractive"])
    out = capsys.readouterr()
    assert code == 0 and "As of 2024-03-15" in out.err
    assert "2024-05-20" not in out.out and ("2024-03-12" in out.out or "2024-03-01" in out.out)
    assert cli_main(["--home", str(home), "ask", "Varga?", "--as-of", "March", "--llm", "extractive"]) != 0
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_eval_asks_each_question_as_of_its_question_date(home, tmp_path):
    from rag.eval.run import evaluate

    articles = tmp_path / "articles.jsonl"
    articles.write_text("\n".join(json.dumps({"id": i, "source": "Ledger", "title": t, "body": b,
                                              **({"url": _SLUG.format(d=d.replace('-', '/'), i=i)} if d else {})})
                                  for i, d, t, b in ARTICLES))
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"id": "q1", "question": "What did the dam inspection find this week?", "answer": "a cracked spillway",
         "question_date": "2024/03/15", "evidence": [{"article_id": "dam-2"}]},
        {"id": "q2", "question": "When was the Corrin dam built?", "answer": "1961",
         "evidence": [{"article_id": "dam-undated"}]},
    ]))
    report = evaluate(articles, questions, progress=False)
    assert report["dataset"]["as_of"] == 1
    assert [r["as_of"] for r in report["questions"]] == [True, False]
    assert evaluate(articles, questions, progress=False, question_dates=False)["dataset"]["as_of"] == 0


def test_as_of_prior_lifts_the_coverage_just_before_as_of(home):
    """Asked as of a day, passage scores are x(1 + as_of_prior * 2^(-age/half_life)), the same candidates otherwise."""
    from rag.index import day_number as _day_number

    def scores(prior):
        a = Assistant.from_settings(Settings(home=home, llm="extractive", as_of_prior=prior, as_of_half_life_days=10))
        return {h.passage.id: h for h in a.retriever.retrieve(a.retriever.plan("Corrin dam", as_of="2024-03-15"), k=20)}

    flat, near = scores(0.0), scores(0.5)
    assert set(flat) == set(near)
    as_of = _day_number("2024-03-15")
    for pid, h in near.items():
        day = _day_number(h.passage.published_at)
        factor = 1 + 0.5 * 0.5 ** ((as_of - day) / 10) if day >= 0 else 1.0
        assert h.score == pytest.approx(flat[pid].score * factor)
    with pytest.raises(SettingsError, match="NEWSRAG_AS_OF_HALF_LIFE_DAYS=0 is too small"):
        Settings.from_env(as_of_half_life_days=0)


def test_web_as_of_box_and_sources_panel_dates(assistant):
    from rag.frontends.web.page import _Handlers

    h = _Handlers(assistant, None)
    *_, (chat, turns, panel, notice, box, _panels) = list(h.respond(
        "What did Ilse Varga say about the Corrin reservoir dam?", [], [], [], "", "", "2024-03-15"))
    assert "As of 2024-03-15" in notice and "the newest is" in notice
    assert "2024-03-12" in panel and "2024-05-20" not in panel  # each source's date; nothing after as_of
    answer = h.api_ask("What did Ilse Varga say about the Corrin dam spillway?", as_of="2024-03-15")
    assert all((c["published_at"] or "") <= "2024-03-15" for c in answer["citations"])


def test_an_answer_about_this_week_from_older_sources_says_they_are_older(assistant):
    question = "What did the dam inspection find this week?"
    late = assistant.ask(question, as_of="2024-04-20")  # the inspection stories are from March
    assert not late.refused and late.citations
    assert max(c.published_at for c in late.citations) == "2024-03-12"
    assert any(n.startswith('The question asks about "this week"') and "2024-03-12" in n for n in late.notices)
    # who said what, answered from the quote index, says so too
    quoted = assistant.ask("What did Ilse Varga say about the dam this week?", as_of="2024-04-20")
    assert quoted.citations and any(n.startswith('The question asks about "this week"') for n in quoted.notices)
    # asked within the week, or without a relative time, nothing is said
    for answer in (assistant.ask(question, as_of="2024-03-15"),
                   assistant.ask("What did the dam inspection find?", as_of="2024-04-20")):
        assert not any(n.startswith("The question asks about") for n in answer.notices)


def test_sources_before_reach_reads_relative_times_and_the_newest_words():
    from rag.check.recency import sources_before_reach

    today = date(2024, 4, 20)
    assert sources_before_reach("Who won the regatta this week?", ["2024-03-12", "2023-01-02"], today) \
        == ("this week", "2024-03-12")
    assert sources_before_reach("Who leads the water board now?", ["2024-03-12"], today) == ("now", "2024-03-12")
    assert sources_before_reach("Who won the regatta this week?", ["2024-04-15"], today) is None
    assert sources_before_reach("Who won the regatta this week?", ["2024-03-12", None], today) is None  # undated
    assert sources_before_reach("Who won the regatta?", ["2020-03-12"], today) is None
    assert sources_before_reach('Who said "the regatta is on now"?', ["2020-03-12"], today) is None  # quoted
    assert sources_before_reach("What did USA TODAY report on the regatta?", ["2020-03-12"], today) is None
