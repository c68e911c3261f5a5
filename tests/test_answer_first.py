"""Answers that answer (issue 12): the offline answerer opens with the statement that holds what is asked
(the name for which/who/where, the figure for how many, the date for when), wherever it sits in the passages,
and leaves out statements that share the question's words without bearing on it. Articles written for these
tests."""

from __future__ import annotations

import pytest

from rag.answer.answerers.extractive import ExtractiveAnswerer, opens_article
from rag.core.schema import Hit, Passage
from rag.eval.run import _first_sentence
from rag.nlp.answer_type import answer_spans, figure_key, span_kind

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

def _hits(*texts: str, title: str = "Ferry news") -> list[Hit]:
    out = []
    for n, text in enumerate(texts):
        p = Passage(id=f"a{n}:0", article_id=f"a{n}", index=0, start=0, end=len(text), text=text, title=title,
                    source="Bay Ledger", published_at="2026-04-01")
        out.append(Hit(passage=p, score=1.0 - 0.1 * n, rank=n + 1))
    return out


FERRY = [
    # The best-ranked passage says most of the question's words but never names the company.
    "After the sale, the harbour ferry line will keep its timetable and its crews, the council said on Monday. "
    "The harbour ferry line has carried commuters across the bay since 1962.",
    "Coastal Shipping will run the harbour ferry line from June, the company said. "
    "The deal keeps all 12 boats in service.",
    "Coastal Shipping, which already runs two island routes, paid $40 million for the line.",
]
WHICH = "Which company will run the harbour ferry line after the sale?"


def test_which_company_opens_with_the_name_from_a_lower_passage():
    text = ExtractiveAnswerer().answer(WHICH, _hits(*FERRY))
    assert _first_sentence(text).startswith("Coastal Shipping will run"), text


def test_a_sentence_sharing_words_but_not_the_answer_is_left_out():
    text = ExtractiveAnswerer().answer(WHICH, _hits(*FERRY))
    assert "timetable" not in text and "since 1962" not in text, text


TOWERS = [
    "The six planned towers of the cathedral were designed in 1990, and the six towers will rise over the old "
    "city when the cathedral is completed.",
    "Builders have finished five of them, the foundation said on Monday.",
]


def test_how_many_opens_with_a_figure_the_question_does_not_give():
    text = ExtractiveAnswerer().answer("How many of the six planned towers of the cathedral have been completed?",
                                       _hits(*TOWERS, title="Cathedral towers"))
    assert "finished five" in _first_sentence(text), text


LAUNCH = [
    "The river ferry service will be launched after months of delay, the council said. Councillors met last "
    "week to discuss the river ferry service and its launch.",
    "The river ferry service launches on 14 May with four boats, the operator said.",
]


def test_when_opens_with_the_date():
    text = ExtractiveAnswerer().answer("When does the river ferry service launch?", _hits(*LAUNCH))
    assert "14 May" in _first_sentence(text), text


def test_span_kinds():
    assert span_kind("Which company bought the ferry line?") == "who"
    assert span_kind("Where will the next debate take place?") == "who"  # a place name
    assert span_kind("Which type of pet was removed?") is None  # a kind of thing, not a name
    assert span_kind("How many boats does it run?") == "number"
    assert span_kind("When does the service launch?") == "when"


def test_answer_spans_skip_what_the_question_gives():
    q = "How many of the six planned towers have been completed?"
    assert answer_spans("number", "Five of the six towers were completed in 2024.", q) == ["Five"]
    names = answer_spans("who", "Coastal Shipping bought the Harbour line.", "Which company bought the Harbour line?",
                         known={"Coastal"})
    assert names == ["Coastal Shipping"]
    # a sentence's first word is a name only when the passage writes it with a capital elsewhere
    assert answer_spans("who", "Yesterday the Harbour line was sold.", "Who bought the Harbour line?") == []
    assert answer_spans("when", "It launches on 14 May, not next week.", "When does it launch?") == ["May"]


# The lede: a news story states its main fact in its opening sentence; a later passage of an older page that
# happens to repeat the question's words is about something else (an earlier race).
def _passage(article: str, text: str, *, index: int, start: int, title: str) -> Passage:
    return Passage(id=f"{article}:{index}", article_id=article, index=index, start=start, end=start + len(text),
                   text=text, title=title, source="Valley Courier", published_at="2026-05-06")


RACE = [
    _passage("older", "Back then the council race drew few voters. Councillor Tom Reyes won the river ward seat by 40 "
             "votes, a margin not seen in decades.", index=3, start=1450, title="A look back at the river ward"),
    _passage("latest", "Marisol Ortega won the river ward seat on Tuesday with 54% of the vote, the county clerk said. "
             "Turnout was the highest in a decade.", index=0, start=0, title="River ward election result"),
]
WARD = "Who won the river ward seat?"


def test_the_statement_that_opens_its_article_goes_first(monkeypatch):
    # retrieval ranked the older page a little higher, as it does when a page repeats the question's words
    hits = [Hit(passage=p, score=s, rank=n) for n, (p, s) in enumerate(zip(RACE, (0.052, 0.05)), 1)]
    text = ExtractiveAnswerer().answer(WARD, hits)
    assert _first_sentence(text).startswith("Marisol Ortega won the river ward seat"), text
    monkeypatch.setattr("rag.answer.answerers.extractive._OPENING", 0.0)  # without the lede's weight the older page wins
    assert _first_sentence(ExtractiveAnswerer().answer(WARD, hits)).startswith("Councillor Tom Reyes"), text


def test_opens_article_reads_the_offset_in_the_article_not_in_the_passage():
    later, first = RACE
    assert opens_article(first, 0) and not opens_article(first, 300)
    assert not opens_article(later, 0)  # the first sentence of a passage that starts 1,450 characters in


# A figure the passages repeat is a likelier answer, however they spell it: "four" and "4" are one candidate.
BOATS = [
    "The island ferry runs five boats in summer, the operator said.",
    "Five boats were bought for the island route in 1998.",
    "The island ferry now runs four boats on its winter timetable.",
    "Its 4 boats carry about 900 people a day across the strait.",
    "All 4 boats of the island ferry were repainted this spring.",
]
BOATS_Q = "How many boats does the island ferry run in winter?"


def test_a_figure_written_in_words_and_digits_is_one_candidate(monkeypatch):
    text = ExtractiveAnswerer().answer(BOATS_Q, _hits(*BOATS))
    assert _first_sentence(text).startswith("The island ferry now runs four boats"), text
    monkeypatch.setattr("rag.answer.answerers.extractive.figure_key", lambda token: None)  # spellings counted apart
    assert _first_sentence(ExtractiveAnswerer().answer(BOATS_Q, _hits(*BOATS))).startswith("The island ferry runs five")


def test_figure_key():
    assert figure_key("four") == figure_key("4") == "4"
    assert figure_key("75,000") == "75000" and figure_key("$200,000.") == "$200000"
    assert figure_key("50%") == "50%" and figure_key("boats") is None
