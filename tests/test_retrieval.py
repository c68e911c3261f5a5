"""Hybrid retrieval on a small made-up corpus: filters inside retrieval, date words, diversity, who said what,
conflicting figures, and the LangChain surfaces."""

from __future__ import annotations

from datetime import date

import pytest

from rag.answer.assistant import Assistant
from rag.attribution.speakers import asked_speaker
from rag.core.errors import SettingsError
from rag.core.settings import Settings
from rag.jobs.ingestor import ingestor_for
from rag.nlp.dates import parse_dates

from .conftest import ingested_home

ARTICLES = [
    ("bridge-1", "Ledger", "2024-03-01", "Mayor opens the new bridge",
     "The new Elm Street bridge opened on Friday after three years of work. Mayor Lena Ruiz cut the ribbon. "
     "\"This bridge joins two halves of one city,\" Ruiz said at the ceremony. The bridge cost 48 million dollars."),
    ("bridge-2", "Courier", "2024-03-02", "Bridge opening draws crowds",
     "Hundreds of residents walked across the Elm Street bridge on its first day. The project cost 52 million "
     "dollars, according to the city budget office. Engineer Tom Baker said the steel arch was the hardest part."),
    ("bridge-3", "Ledger", "2024-04-20", "Bridge closed for repairs",
     "The Elm Street bridge closed for two days of repairs in April after inspectors found a loose joint. "
     "Ruiz told reporters: \"Safety comes first, and we will reopen it as soon as the joint is fixed.\""),
    ("transit-1", "Courier", "2024-04-25", "Bus fares to rise in May",
     "Bus fares will rise by 25 cents in May, the transit authority said. Riders groups criticised the rise. "
     "The authority said fuel costs had climbed for a second year."),
    ("long-1", "Gazette", "2024-02-10", "A long history of the bridges",
     " ".join(f"Chapter {i}: the city built bridge number {i} over the river in year {1900 + i}, and residents "
              f"crossed it for decades before the Elm Street bridge plan was drawn." for i in range(40))),
]


@pytest.fixture(scope="module")
def corpus_home(tmp_path_factory):
    records = ({"id": i, "source": s, "published_at": d, "title": t, "body": b,
                "url": f"https://{s.lower()}.example/{i}"} for i, s, d, t, b in ARTICLES)
    return ingested_home(tmp_path_factory.mktemp("corpus"), records, chunk_min_words=30, chunk_max_words=60)


@pytest.fixture
def assistant(corpus_home):
    return Assistant.from_settings(Settings(home=corpus_home, llm="extractive", max_per_article=2, top_k=6))


def _retrieve(assistant, question, **filters):
    r = assistant.retriever
    return r.retrieve(r.plan(question, **filters))


def test_source_filter_is_applied_inside_retrieval(assistant):
    hits = _retrieve(assistant, "How much did the bridge cost?", sources=["Courier"])
    assert hits and {h.passage.source for h in hits} == {"Courier"}


def test_date_range_filter(assistant):
    hits = _retrieve(assistant, "bridge", since="2024-04-01", until="2024-04-30")
    assert hits and all("2024-04-01" <= h.passage.published_at <= "2024-04-30" for h in hits)


def test_date_words_become_a_filter_relative_to_the_coverage():
    newest = date(2024, 4, 25)
    intent = parse_dates("What happened to the bridge in April 2024?", newest)
    assert (intent.since, intent.until) == (date(2024, 4, 1), date(2024, 4, 30))
    last_week = parse_dates("what happened last week?", newest)
    assert last_week.until == newest and last_week.since < newest
    assert parse_dates("what is the latest on the bridge?", newest).recent


def test_date_words_in_a_question_rank_those_dates_first(assistant):
    answer = assistant.ask("What happened to the Elm Street bridge in April 2024?")
    assert answer.passages[0].passage.published_at.startswith("2024-04")
    assert any("read as 2024-04-01 to 2024-04-30" in n for n in answer.notices)
    # A preference, not a filter: a question whose date words describe the facts, not the coverage's dates,
    # still finds the March articles.
    hits = _retrieve(assistant, "Which bridge opened in 2019 after three years of work?")
    assert any(h.passage.article_id == "bridge-1" for h in hits)


def test_only_a_few_passages_per_article(assistant):
    hits = _retrieve(assistant, "the city built bridges over the river for decades")
    per_article = {}
    for h in hits:
        per_article[h.passage.article_id] = per_article.get(h.passage.article_id, 0) + 1
    assert per_article.get("long-1", 0) <= 2 and len(per_article) >= 3


def test_earlier_passages_of_an_article_get_a_position_prior(corpus_home):
    """News put the main facts first: passage i scores x(1 + lead_prior/(1+i)), the same candidates otherwise."""
    question = "When did the city build a bridge over the river?"

    def scores(prior):
        a = Assistant.from_settings(Settings(home=corpus_home, llm="extractive", max_per_article=100,
                                             lead_prior=prior))
        return {h.passage.id: h for h in a.retriever.retrieve(a.retriever.plan(question), k=100)}

    flat, led = scores(0.0), scores(0.5)
    assert set(flat) == set(led) and len({h.passage.index for h in led.values()}) > 3
    for pid, h in led.items():
        assert h.score == pytest.approx(flat[pid].score * (1 + 0.5 / (1 + h.passage.index)))
    rank = lambda hits, pid: sorted(hits, key=lambda p: -hits[p].score).index(pid)
    assert rank(led, "long-1:0") < rank(flat, "long-1:0")  # the long article's lead moves up
    with pytest.raises(SettingsError, match="NEWSRAG_LEAD_PRIOR=-1"):
        Settings(lead_prior=-1)
    for word in ("nan", "inf"):  # would make every score nan or inf: the ranking would be arbitrary
        with pytest.raises(SettingsError, match=f"NEWSRAG_LEAD_PRIOR={word} is not a finite number"):
            Settings.from_env({"NEWSRAG_LEAD_PRIOR": word})


def test_who_said_what_ranks_the_speakers_words_first(assistant):
    assert asked_speaker("What did Ruiz say about the bridge?") == "Ruiz"
    assert asked_speaker("How did Tom Baker respond?") == "Tom Baker"
    hits = _retrieve(assistant, "What did Ruiz say about the bridge?")
    assert hits[0].speaker and "Ruiz" in hits[0].passage.text
    answer = assistant.ask("What did Ruiz say about the bridge?")
    assert "This bridge joins two halves of one city" in answer.text or "Safety comes first" in answer.text


def test_conflicting_figures_are_flagged_and_both_cited(assistant):
    answer = assistant.ask("How much did the Elm Street bridge cost?")
    assert "48 million" in answer.text and "52 million" in answer.text
    assert "Sources differ" in answer.text
    cited_articles = {c.article_id for c in answer.citations}
    assert {"bridge-1", "bridge-2"} <= cited_articles


def test_keyword_index_follows_removals(corpus_home, tmp_path):
    import shutil

    home = tmp_path / "copy"
    shutil.copytree(corpus_home, home)
    settings = Settings(home=home, llm="extractive")
    assistant = Assistant.from_settings(settings)
    assert any(h.passage.article_id == "transit-1" for h in _retrieve(assistant, "bus fares rise"))
    ingestor_for(assistant).remove("transit-1")
    assert all(h.passage.article_id != "transit-1" for h in _retrieve(assistant, "bus fares rise"))


def test_langchain_retriever_and_runnable(assistant):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.runnables import RunnableLambda

    from rag.answer.answerers.llm import LLMAnswerer
    from rag.answer.retriever import as_langchain_retriever

    lc = as_langchain_retriever(assistant.retriever, sources=["Ledger"])
    docs = lc.invoke("bridge ceremony")
    assert docs and all(d.metadata["source"] == "Ledger" for d in docs)
    assert docs[0].metadata["passage_id"].startswith(docs[0].metadata["article_id"] + ":")
    answerer = LLMAnswerer(FakeListChatModel(responses=["The bridge opened on Friday [1]."]), "fake")
    chain = RunnableLambda(lambda q: {"question": q, "hits": _retrieve(assistant, q)}) | answerer.as_runnable()
    assert "[1]" in chain.invoke("When did the bridge open?")
