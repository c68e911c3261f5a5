"""Conflicts only between like things, with both sides cited; refusals that read where a question says its facts
come from. Every article here is written for these tests."""

from __future__ import annotations

import re

import pytest

from rag.answer.answerers.extractive import ExtractiveAnswerer
from rag.answer.assistant import Assistant
from rag.answer.conflicts import conflict, find_conflicts, rival_values
from rag.answer.refusal import named_outlets, should_answer, unknown_outlets
from rag.core.schema import Hit, Passage
from rag.core.settings import Settings

from .conftest import ingested_home

ARTICLES = [
    {"id": "ferry-a", "title": "Kestrel ferry enters service", "source": "Harbour Times", "published_at": "2026-04-06",
     "body": "The new Kestrel ferry was built by Halden Yards and entered service on Monday, the port authority "
             "said.\n\nCrews trained on the vessel for a month before the first crossing."},
    {"id": "ferry-b", "title": "First crossing for the Kestrel", "source": "Coast Courier",
     "published_at": "2026-04-06",
     "body": "The new Kestrel ferry was built by Marlow Shipworks and entered service on Monday, the port authority "
             "said.\n\nPassengers queued from dawn to board the first crossing."},
    {"id": "tram", "title": "Lakeside tram line opens", "source": "Harbour Times", "published_at": "2026-04-07",
     "body": "The Lakeside tram line cost $300 million, the city said on Friday.\n\nIts first trams run every "
             "ten minutes between the station and the university."},
    {"id": "bus", "title": "Lakeside bus line opens", "source": "Coast Courier", "published_at": "2026-04-07",
     "body": "The Lakeside bus line cost $120 million, the city said on Friday.\n\nIts buses run every fifteen "
             "minutes between the station and the hospital."},
]


@pytest.fixture(scope="module")
def news_home(tmp_path_factory):
    return ingested_home(tmp_path_factory.mktemp("conflicts"), ARTICLES)


@pytest.fixture
def news(news_home):
    return Assistant.from_settings(Settings(home=news_home, llm="extractive"))


# -- conflicts --------------------------------------------------------------------------------------------
def test_the_same_statement_with_another_name_is_a_conflict():
    q = "Who built the Kestrel ferry?"
    a = "The new Kestrel ferry was built by Halden Yards and entered service on Monday, the port authority said."
    b = "The new Kestrel ferry was built by Marlow Shipworks and entered service on Monday, the port authority said."
    r = rival_values(q, a, b)
    assert r is not None and (r.a_value, r.b_value) == ("Halden Yards", "Marlow Shipworks")
    assert a[slice(*r.a_span)] == "Halden Yards" and b[slice(*r.b_span)] == "Marlow Shipworks"
    # another ordinary word beside the name: the texts say different things
    assert rival_values(q, a, b.replace("built", "repaired")) is None
    # a date for a question that asks who: another event, not another answer
    assert rival_values(q, a, a.replace("Monday", "Tuesday")) is None


def test_dates_and_figures_are_compared_whole_and_only_when_asked():
    a = "The fourth season premiered on November 15, 2020, on the network, its makers said."
    b = "The fourth season premiered on November 5, 2021, on the network, its makers said."
    r = rival_values("When did the fourth season premiere?", a, b)
    assert r is not None and (r.a_value, r.b_value) == ("November 15, 2020", "November 5, 2021")
    assert rival_values("What is the premiere date of the fourth season?", a, b) is not None
    assert rival_values("Who made the fourth season?", a, b) is None  # two dates: two events
    c = "The Lakeside tram line cost $300 million, the city said on Friday."
    r = rival_values("How much did the Lakeside tram line cost?", c, c.replace("$300", "$320"))
    assert r is not None and (r.a_value, r.b_value) == ("$300 million", "$320 million")


def test_unlike_figures_never_make_a_line():
    tram = "The Lakeside tram line cost $300 million, the city said on Friday."
    bus = "The Lakeside bus line cost $120 million, the city said on Friday."
    assert rival_values("How much did the Lakeside line cost?", tram, bus) is None
    assert conflict("How much did the Lakeside line cost?", tram, bus) is None  # a tram and a bus line
    # two seasons of one show, years only: no line even for a question asking when
    assert conflict("When did The Crown premiere?", "Season 3 of The Crown premiered on November 17, 2019.",
                    "The fourth season of The Crown was released by Netflix on November 15, 2020.") is None


def test_conflict_between_like_statements_is_stated_with_both_sides_cited(news):
    answer = news.ask("Who built the Kestrel ferry?")
    lines = answer.text.split("Sources differ")[1:]
    assert len(lines) == 1, answer.text
    assert "Halden Yards" in lines[0] and "Marlow Shipworks" in lines[0]
    cited = {c.article_id for c in answer.citations}
    assert {"ferry-a", "ferry-b"} <= cited, answer.text
    marks = {int(n) for n in re.findall(r"\[(\d+)\]", lines[0])}
    assert {c.article_id for c in answer.citations if c.n in marks} == {"ferry-a", "ferry-b"}


def test_unlike_things_in_the_store_give_no_line(news):
    answer = news.ask("How much did the Lakeside line cost?")
    assert not answer.refused and "Sources differ" not in answer.text, answer.text


def test_find_conflicts_needs_the_value_inside_each_cited_quote():
    from rag.core.schema import Citation

    pa = ARTICLES[0]["body"]
    pb = ARTICLES[1]["body"]

    def cite(n, aid, passage, quote):
        s = passage.index(quote)
        return Citation(n, aid, f"{aid}:0", "t", None, None, None, passage, quote, s, s + len(quote))

    both = [cite(1, "ferry-a", pa, pa.split("\n\n")[0]), cite(2, "ferry-b", pb, pb.split("\n\n")[0])]
    notes = find_conflicts(both, "Who built the Kestrel ferry?")
    assert notes == ["Sources differ: [1] gives Halden Yards, while [2] gives Marlow Shipworks."]
    # the second citation quotes the other paragraph only: the answer does not state that side
    other = [both[0], cite(2, "ferry-b", pb, pb.split("\n\n")[1])]
    assert find_conflicts(other, "Who built the Kestrel ferry?") == []


# -- refusals -----------------------------------------------------------------------------------------------
def _hit(text: str, *, dense: float, source: str = "Harbour Times", aid: str = "ferry-a") -> Hit:
    p = Passage(f"{aid}:0", aid, 0, 0, len(text), text, "Kestrel ferry", source, "2026-04-06")
    return Hit(passage=p, score=dense, dense=dense)


def test_outlets_a_question_names():
    q = ("Considering a Bloomberg article on the Kestrel ferry and an article from The New York Times about its "
         "builder, which town will it serve?")
    assert named_outlets(q) == ["Bloomberg", "New York Times"]
    assert named_outlets("According to the port authority, when did the ferry enter service?") == []
    assert named_outlets("What did the 'Harbour Times' report say about the Kestrel ferry?") == ["Harbour Times"]
    hits = [_hit(ARTICLES[0]["body"], dense=0.5)]
    assert unknown_outlets(q, ["Harbour Times", "Coast Courier"], hits) == ["Bloomberg", "New York Times"]
    assert unknown_outlets("What did a Harbour Times article say about the Kestrel ferry?", ["Harbour Times"],
                           hits) == []


def test_null_question_citing_coverage_the_store_lacks_is_refused():
    hits = [_hit(ARTICLES[0]["body"], dense=0.5), _hit(ARTICLES[1]["body"], dense=0.48, source="Coast Courier",
                                                       aid="ferry-b")]
    sources = ["Harbour Times", "Coast Courier"]
    null = ("Considering a Bloomberg article on the Kestrel ferry and a Reuters report on its route to Oslo, which "
            "letter starts the name of its captain?")
    assert not should_answer(null, hits, refuse_below=0.4, sources=sources)
    # the same reading without the outlet check, or naming outlets the store holds: answered on its cosine
    assert should_answer(null, hits, refuse_below=0.4)
    held = null.replace("a Bloomberg article", "a Harbour Times article").replace("a Reuters report",
                                                                                  "a Coast Courier report")
    assert should_answer(held, hits, refuse_below=0.4, sources=sources)
    # every name of the question in the passages: the missing outlet alone does not refuse
    named = "Considering a Bloomberg article, who built the Kestrel ferry that Halden Yards delivered?"
    assert should_answer(named, hits, refuse_below=0.4, sources=sources)
    # a passage close in meaning beyond doubt answers, whatever outlet the question names
    assert should_answer(null, [_hit(ARTICLES[0]["body"], dense=0.7)], refuse_below=0.4, sources=sources)


def test_assistant_refuses_a_question_on_coverage_it_does_not_hold(news):
    answer = news.ask("Considering a Bloomberg article on the Kestrel ferry and a Reuters report on its route "
                      "to Oslo, which letter starts the name of its captain?")
    assert answer.refused, answer.text
    assert not news.ask("Who built the Kestrel ferry?").refused


def test_figures_that_count_different_things_are_no_conflict():
    """Written for this test: a count of all vacant posts and a count of one kind of them are not two answers to
    one question; the same count of the same thing still is."""
    q = "Why does the mayor want to cut jobs at city hall?"
    assert conflict(q, "The mayor of Dunmore proposes cutting 29 vacant positions at city hall.",
                    "The mayor of Dunmore said his proposal to cut 16 vacant firefighter positions at city hall "
                    "is part of a plan.") is None
    assert conflict("How many flights were cancelled?",
                    "Airlines cancelled 1,100 flights on Monday because of the storm.",
                    "Airlines cancelled 900 flights on Monday because of the storm.") == ("1,100 (flight)", "900 (flight)")


def test_a_rival_figure_that_does_not_bear_on_the_question_makes_no_line():
    """Two polls' margins of error differ (4.9 and 6.1 points), and the statements look alike, but neither
    answers "what share backed Ortega?": a statement that does not bear on the question stays out of the answer,
    and with it the line comparing it. A rival that does answer (another share for Ortega) still goes in beside it."""
    poll_a = ("Mayor Lena Ortega leads the field with 38% of likely voters naming her as their first choice. "
              "The poll of 512 likely voters in the county was conducted over five days and has a margin of error "
              "of plus or minus 4.9 percentage points.")
    poll_b = ("Questions asked only of party members have a margin of error of plus or minus 6.1 "
              "percentage points. The survey was paid for by the county newspaper group.")
    q = "What share of likely voters named Mayor Lena Ortega as their first choice in the county poll?"
    hits = [_hit(poll_a, dense=0.6, aid="poll-a"), _hit(poll_b, dense=0.55, aid="poll-b", source="Valley Post")]
    text = ExtractiveAnswerer().answer(q, hits)
    assert text.startswith("Mayor Lena Ortega leads the field with 38%"), text
    assert "Sources differ" not in text and "6.1" not in text, text
    rival = "Mayor Lena Ortega leads the field with 31% of likely voters naming her as their first choice, a new poll finds."
    text = ExtractiveAnswerer().answer(q, hits + [_hit(rival, dense=0.58, aid="poll-c", source="Valley Post")])
    assert "31%" in text and "38%" in text, text  # both sides, for the assistant's "Sources differ" line
