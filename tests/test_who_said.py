"""Who said what, answers that answer, refusals that read the evidence, follow-ups only when they refer back,
and conflicts only between like things. Every article here is written for these tests."""

from __future__ import annotations

import pytest

from rag.answer.assistant import Assistant
from rag.answer.conflicts import disagree
from rag.answer.followup import refers_back
from rag.attribution.speakers import mentions, speaker_terms
from rag.core.settings import Settings

from .conftest import ingested_home

ARTICLES = [
    {"id": "rail", "title": "Minister defends the northern rail plan", "source": "Nordic Daily",
     "published_at": "2026-03-02",
     "body": "Henrik Lund, the transport minister, defended the northern rail plan on Monday.\n\n"
             "\"We are not asking for the moon,\" Lund said. \"We are asking for trains that run on time.\"\n\n"
             "He added that the line would open in 2028 and cost 4 billion crowns.\n\n"
             "Opposition leader Petra Vik said the plan ignored rural towns."},
    {"id": "wage", "title": "Senate passes the wage bill", "source": "Capitol Wire", "published_at": "2026-03-05",
     "body": "The Senate passed the minimum wage bill by 52 votes to 48 on Thursday.\n\n"
             "Senator Maria Harris, who wrote the bill, said workers had waited long enough. "
             "\"Nobody who works full time should live in poverty,\" Harris said.\n\n"
             "Senator Tom Sanders voted against it. \"This bill will cost small shops their staff,\" Sanders told "
             "reporters."},
    {"id": "cup", "title": "Riverside lift the Regional Cup", "source": "Valley Sport", "published_at": "2026-03-08",
     "body": "Riverside beat Hillport 2-1 in the Regional Cup final at the county ground on Saturday.\n\n"
             "The goalkeeper made four saves in the first half and the crowd of 6,000 sang throughout.\n\n"
             "Ada Okafor scored the winner in the 88th minute with a low shot from the edge of the box.\n\n"
             "It was the club's first trophy since it was founded 19 years ago."},
    {"id": "snow-a", "title": "Snow grounds flights at Northfield", "source": "Metro Post",
     "published_at": "2026-03-09",
     "body": "Heavy snow cancelled 1,100 flights at Northfield airport on Friday, the airport said.\n\n"
             "Travellers slept in the terminal as crews cleared the runways."},
    {"id": "snow-b", "title": "Northfield airport storm", "source": "City Herald", "published_at": "2026-03-09",
     "body": "Northfield airport, which opened 19 years ago, cancelled flights on Friday after heavy snow.\n\n"
             "Crews worked through the night to clear the runways."},
    {"id": "snow-c", "title": "Northfield cancellations", "source": "Evening Star", "published_at": "2026-03-09",
     "body": "Heavy snow cancelled 900 flights at Northfield airport on Friday, airport officials said.\n\n"
             "Airlines offered refunds to passengers."},
    {"id": "brand", "title": "Nimbus apologises for its campaign", "source": "Style Wire", "published_at": "2026-03-10",
     "body": "Singer Lena Marr said she was rethinking her ties with the fashion house Nimbus.\n\n"
             "\"I have stayed silent for a few days, not because I did not care,\" Marr wrote on Instagram.\n\n"
             "Nimbus apologised on Tuesday for its holiday campaign. In a statement, Nimbus said it was "
             "\"deeply sorry for the offence caused\" and had withdrawn the photographs."},
]


@pytest.fixture(scope="module")
def news_home(tmp_path_factory):
    return ingested_home(tmp_path_factory.mktemp("who"), ARTICLES)


@pytest.fixture
def news(news_home):
    return Assistant.from_settings(Settings(home=news_home, llm="extractive"))


def _first_sentence(text: str) -> str:
    return text.split(" [", 1)[0]


# -- refusal reads the evidence ------------------------------------------------------------------------------
@pytest.mark.parametrize("question", ["What did Henrik Lund say?", "What did the transport minister say?",
                                      'Who said "We are not asking for the moon"?',
                                      "Who scored the winner in the Regional Cup final?",
                                      "What happened last week?"])
def test_short_questions_with_a_matching_passage_are_answered(news, question):
    answer = news.ask(question, as_of="2026-03-12")  # the week the test coverage was published
    assert not answer.refused, (question, answer.text)
    assert answer.citations


def test_what_happened_in_a_week_without_coverage_is_refused(news):
    answer = news.ask("What happened last week?", as_of="2026-06-30")  # nothing published June 16-23
    assert answer.refused, answer.text


def test_unrelated_questions_are_still_refused(news):
    for q in ("Who won the 2022 World Cup?", "What is the population of Brazil?", "Who directed the film Solaris?"):
        assert news.ask(q).refused, q


# -- follow-ups --------------------------------------------------------------------------------------------
def test_self_contained_question_after_history_is_asked_as_it_stands(news):
    history = [{"role": "user", "content": "What did Lena Marr say about Nimbus?"},
               {"role": "assistant", "content": "She said she had stayed silent for a few days [1]."}]
    answer = news.ask("Who won the 2022 World Cup?", history=history)
    assert answer.standalone_question == "Who won the 2022 World Cup?"
    assert answer.refused and "Marr" not in answer.text


def test_follow_up_that_refers_back_is_rewritten(news):
    history = [{"role": "user", "content": "What did Henrik Lund say about the rail plan?"},
               {"role": "assistant", "content": "He said they were not asking for the moon [1]."}]
    answer = news.ask("when will it open?", history=history)
    assert "Lund" in answer.standalone_question
    assert not answer.refused and "2028" in answer.text


def test_refers_back():
    for q in ("what about her kids?", "when was that?", "And the second one?", "Why?", "What did he add?"):
        assert refers_back(q), q
    for q in ("Who won the 2022 World Cup?", "What happened this year?", "Who voted for the law that passed?",
              "How many flights were cancelled at Northfield?"):
        assert not refers_back(q), q


# -- answers that answer -------------------------------------------------------------------------------------
def test_who_answer_puts_the_name_first(news):
    answer = news.ask("Who scored the winner in the Regional Cup final?")
    assert "Okafor" in _first_sentence(answer.text), answer.text
    assert "goalkeeper" not in answer.text  # shares no answer, only the match


def test_who_voted_against_names_him_first(news):
    answer = news.ask("Who voted against the wage bill?")
    assert "Sanders" in _first_sentence(answer.text), answer.text


def test_how_many_puts_the_figure_first(news):
    answer = news.ask("How many votes did the wage bill get in the Senate?")
    assert "52" in _first_sentence(answer.text), answer.text


def test_did_question_opens_with_the_evidence_that_answers_it(news):
    answer = news.ask("Did Nimbus apologise?")
    first = _first_sentence(answer.text)
    assert "apologised" in first or "sorry" in first, answer.text
    assert "stayed silent" not in first


# -- speakers ---------------------------------------------------------------------------------------------
def test_names_ending_in_s_are_not_stemmed():
    assert speaker_terms("Maria Harris")[1] == "harris"
    assert mentions("Harris said so.", "Harris") and not mentions("Harri said so.", "Harris")
    assert speaker_terms("Sanders's") == ["sanders"]


def test_harris_and_sanders_each_get_their_own_words(news):
    harris = news.ask("What did Harris say?")
    sanders = news.ask("What did Sanders say?")
    assert "poverty" in harris.text and "cost small shops" not in harris.text, harris.text
    assert "cost small shops" in sanders.text and "poverty" not in sanders.text, sanders.text


# -- conflicts --------------------------------------------------------------------------------------------
def test_unlike_figures_are_not_a_conflict():
    a = "Heavy snow cancelled 1,100 flights at Northfield airport on Friday, the airport said."
    b = "Northfield airport, which opened 19 years ago, cancelled flights on Friday after heavy snow."
    assert not disagree(a, b)
    assert disagree(a, "Heavy snow cancelled 900 flights at Northfield airport on Friday, airport officials said.")


def test_sources_differ_only_for_the_same_count(news):
    answer = news.ask("How many flights did the snow cancel at Northfield airport?")
    lines = [s for s in answer.text.split("Sources differ")[1:]]
    assert len(lines) == 1, answer.text
    assert "19" not in lines[0] and "1100" in lines[0].replace(",", "") and "900" in lines[0]


# -- who said what, from the quote index ------------------------------------------------------------------
def test_what_did_x_say_lists_quotes_with_date_and_outlet(news):
    answer = news.ask("What did Henrik Lund say?")
    assert answer.text.startswith("Henrik Lund said")
    assert answer.citations[0].source == "Nordic Daily" and answer.citations[0].published_at == "2026-03-02"
    assert "We are not asking for the moon" in answer.text and "trains that run on time" in answer.text
    assert "rural towns" not in answer.text  # Petra Vik's words, not his
    assert all(c.article_id == "rail" for c in answer.citations) and answer.claims_dropped == 0


def test_role_question_finds_the_person_with_that_title(news):
    answer = news.ask("What did the transport minister say?")
    assert "Henrik Lund" in answer.text and "not asking for the moon" in answer.text


def test_who_said_names_the_credited_speaker_also_when_quoted_loosely(news):
    exact = news.ask('Who said "We are not asking for the moon"?')
    assert exact.text.startswith("Henrik Lund") and exact.citations, exact.text
    loose = news.ask("Who said trains should run on time?")
    assert loose.text.startswith("Henrik Lund"), loose.text
    nobody = news.ask('Who said "the goalkeeper was the best player on the pitch"?')
    assert "Lund" not in nobody.text and "Okafor" not in nobody.text


def test_did_x_comment_on_y_says_no_and_shows_what_they_did_say(news):
    answer = news.ask("Did Sanders comment on the rail plan?")
    assert answer.text.startswith("I could not find anything Sanders said about the rail plan")
    assert "cost small shops" in answer.text and answer.citations
    yes = news.ask("Did Harris comment on poverty?")
    assert yes.text.startswith("Yes:") and "poverty" in yes.text


def test_about_y_keeps_only_the_quotes_on_y(news):
    answer = news.ask("What did Harris say about poverty?")
    assert "poverty" in answer.text and "waited long enough" not in answer.text


def test_who_said_reaches_every_front_end_through_ask(news_home, monkeypatch):
    import rag.answer.assistant as assistant_module

    monkeypatch.setenv("NEWSRAG_HOME", str(news_home))
    monkeypatch.setattr(assistant_module, "_default", None)
    answer = assistant_module.ask("What did Sanders say?")
    assert answer.text.startswith("Tom Sanders said") and "cost small shops" in answer.text


def test_conflicting_answers_to_a_who_question_are_stated_but_different_events_are_not():
    from rag.answer.conflicts import conflict

    q = "Who won the women's singles title at the Hillcrest Open in 2019?"
    a = "Mara Voss won the 2019 Hillcrest Open women's singles title in straight sets."
    b = "Lena Ortiz won the 2019 Hillcrest Open women's singles title in straight sets."
    assert conflict(q, a, b) == ("Mara Voss", "Lena Ortiz")
    # Two seasons, two days, two counts of different things: unlike things, no line.
    assert conflict("Which team won the Hillcrest Cup?", "1986 — The Rovers won the Hillcrest Cup final in Game 7.",
                    "1903 — The Pilgrims won the first Hillcrest Cup final in Game 7.") is None
    assert not disagree("A ticket sold on Tuesday won the $2.04 billion Hillcrest lottery jackpot in Altadena.",
                        "A ticket sold in Altadena won Wednesday's $1.7 billion Hillcrest lottery jackpot.")
    assert not disagree("More than 60% of residents agreed that the flu shot prevents deaths, a survey of adults found.",
                        "Only 43% of adults got the flu shot last winter, the survey found.")
