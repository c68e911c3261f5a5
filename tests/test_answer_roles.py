"""Answers a newcomer expects (issue 27): questions that name a person by role, follow-ups that switch the person
or the topic, "when" and "why" answered in the first sentence, reported speech without a stray capital. The
three articles in tests/fixtures/roles/ were written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.assistant import Assistant
from rag.attribution.answerer import (
    _reported_start,
    parse_quote_question,
    quote_followup,
)
from rag.core.settings import Settings
from rag.jobs.ingestor import ingestor_for

ROLES = Path(__file__).resolve().parent / "fixtures" / "roles"
COACH_Q = "What did the coach of the robotics team say?"


@pytest.fixture(scope="module")
def roles_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("roles") / "home"
    assistant = Assistant.from_settings(Settings(home=home, llm="extractive"))
    report = ingestor_for(assistant).ingest([str(p) for p in sorted(ROLES.glob("*.txt"))])
    assert report.counts()["added"] == 3, report.to_dict()
    return home


@pytest.fixture
def assistant(roles_home):
    return Assistant.from_settings(Settings(home=roles_home, llm="extractive"))


def _first_sentence(text: str) -> str:
    return text.split(" [")[0]


def test_a_role_with_more_words_than_the_article_gives_finds_the_person(assistant):
    answer = assistant.ask(COACH_Q)  # the article calls her "the team's coach", not the robotics team's
    assert "Maria Delgado said" in answer.text and "never gave up" in answer.text
    assert "won the regional championship" not in answer.text  # not a general sentence instead of her words


def test_a_role_given_before_the_name_is_the_persons_description(assistant):
    answer = assistant.ask("What did the principal say?")  # "The school's principal, Thomas Reyes, praised ..."
    assert answer.text.startswith("Thomas Reyes said") and "community backs its kids" in answer.text


def test_a_follow_up_naming_another_role_asks_about_that_person(assistant):
    first = assistant.ask(COACH_Q)
    history = [{"role": "user", "content": COACH_Q}, {"role": "assistant", "content": first.text}]
    answer = assistant.ask("and the principal?", history=history)
    assert answer.standalone_question == "What did the principal say?"
    assert "Thomas Reyes said" in answer.text and "Delgado" not in answer.text


def test_a_follow_up_naming_a_topic_keeps_the_person():
    assert quote_followup("what about her kids?", "What did Kardashian say about Balenciaga?") == \
        "What did Kardashian say about her kids?"
    assert quote_followup("And Reyes?", COACH_Q) == "What did Reyes say?"
    assert quote_followup("and when was that?", COACH_Q) is None  # a question of its own
    assert quote_followup("and ???", COACH_Q) is None and quote_followup("and the", COACH_Q) is None  # nothing asked
    assert quote_followup("and the principal?", "How many students are on the team?") is None  # not who-said-what


def test_what_the_person_said_about_the_asked_thing_comes_first(assistant):
    assert parse_quote_question("What did the economist say caused the rise?").said == "caused the rise"
    answer = assistant.ask("What did the economist say caused the rise?")
    assert "insurance costs and a shortage of steel caused the rise" in _first_sentence(answer.text)


def test_when_opens_with_the_date_of_the_thing_asked(assistant):
    for q in ("When does the harbor bridge work begin?", "When does the bridge work start?"):
        first = _first_sentence(assistant.ask(q).text)
        assert "April 2027" in first, (q, first)  # not the vote "on Monday night"
    assert "Monday night" in _first_sentence(assistant.ask("When did the council vote on the bridge?").text)


def test_why_opens_with_the_reason(assistant):
    for q in ("Why did the council delay the budget vote?", "Why was the budget vote delayed?"):
        first = _first_sentence(assistant.ask(q).text)
        assert "because two members were ill" in first, (q, first)


def test_reported_speech_loses_the_capital_its_sentence_gave_it():
    passage = "Work on the bridge will begin in March, engineer Paul Nakamura said. Nakamura said Reyes agreed."
    assert _reported_start("Work on the bridge will begin in March", passage) == "work on the bridge will begin in March"
    assert _reported_start("Reyes agreed", passage) == "Reyes agreed"  # a name the passage capitalises mid-sentence
    assert _reported_start("I will stay", passage) == "I will stay"
    assert _reported_start("New York will pay", passage) == "New York will pay"


def test_a_reported_statement_reads_said_that_in_lower_case(assistant):
    answer = assistant.ask("What did Lena Ortiz say?")
    assert "Lena Ortiz said that higher insurance costs" in answer.text or "Nobody should expect" in answer.text
    assert "said that Higher" not in answer.text
