"""The PostgreSQL catalog (NEWSRAG_CATALOG_URL) against a real server: schema steps applied and recorded, the
same keyword ranking as FTS5 (scores, pruning, filters), the staged writes through the Index, the same answers,
and clear errors when PostgreSQL is away."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ingest import Ingestor
from ingest.chunking import chunk_article
from rag.answer.assistant import Assistant
from rag.core.errors import SettingsError, StoreError
from rag.core.schema import Article
from rag.core.settings import Settings
from rag.index import Index, Staged
from rag.index.pg.catalog import PgCatalog
from rag.index.pg.schema import LATEST, STEPS, migrate
from rag.index.sqlite_catalog import SqliteCatalog

from .conftest import SAMPLE, SEED_QUESTION, SHARED
from .pg_server import _free_port

pytestmark = pytest.mark.slow

QUESTIONS = ["Taylor Swift Travis Kelce Chiefs game", "hurricane landfall Florida evacuation", "new president said",
             "the the of", "inflation interest rates federal reserve", "strike union workers agreement",
             "new new york new deal", "earthquake Morocco death toll", "Kim Kardashian Balenciaga ad campaign"]


def _made_up(n: int) -> list[dict]:
    """Articles written by a seeded generator from the questions' words and common news words (used when the
    eval data beside the checkout is not there, as on a bare CI clone)."""
    import random

    rng = random.Random(7)
    vocab = sorted({w for q in QUESTIONS for w in q.split()} | set(
        "council budget vote police report storm city officials said market prices week company workers "
        "school court judge minister election campaign team season game players fans health hospital"
        " ap_sport staff_writer ___".split()))  # bylines and rules with underscores, as scraped pages hold
    rows = []
    for i in range(n):
        sentences = [" ".join(rng.choice(vocab) for _ in range(rng.randint(6, 14))).capitalize() + "."
                     for _ in range(rng.randint(30, 60))]
        rows.append({"id": f"made-{i}", "title": " ".join(rng.sample(vocab, 4)).title(), "body": " ".join(sentences),
                     "source": rng.choice(["Coast Gazette", "Valley Ledger", "Metro Daily"])})
    return rows


def _articles(n: int = 60) -> list[Article]:
    path = SHARED / "eval" / "realtimeqa" / "articles.jsonl"
    rows = [json.loads(line) for line in path.open()][:n] if path.is_file() else _made_up(n)
    out = []
    for i, r in enumerate(rows):
        day = f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}"
        out.append(Article(id=r["id"], title=r["title"], text=r["body"], source=r.get("source") or None,
                           url=r.get("url"), published_at=day, author=None, credited_source=None,
                           ingested_at="2024-01-01T00:00:00+00:00",
                           content_hash=r["id"], origin="rtqa"))
    return out


def _fill(catalog, articles) -> None:
    catalog.commit(catalog.stage([Staged(a, chunk_article(a, min_words=60, max_words=120)) for a in articles]))


@pytest.fixture(scope="module")
def both(tmp_path_factory, pg_server):
    """The same 60 real articles in a SQLite catalog and a PostgreSQL one."""
    sqlite = SqliteCatalog(tmp_path_factory.mktemp("sqlite-catalog"))
    pg = PgCatalog(pg_server.new_database())
    articles = _articles()
    for c in (sqlite, pg):
        _fill(c, articles[:40])
        _fill(c, articles[40:])
    yield sqlite, pg
    sqlite.close()
    pg.close()


def _same(a: list[tuple[str, float]], b: list[tuple[str, float]], sqlite: SqliteCatalog) -> None:
    """The same passages in the same order (or in another among equal scores), each with the same score to 1 part
    in 10^5: both count the same words, since the analysis splits words where FTS5's unicode61 does."""
    assert [p for p, _ in a] == [p for p, _ in b] or _tied(a, b)
    theirs = dict(b)
    for p, x in a:
        assert abs(x - theirs[p]) <= 1e-5 * max(1.0, abs(x)), p


def _tied(a, b) -> bool:
    """The same passages with the same scores, in another order among equal scores only."""
    return sorted((round(s, 3), p) for p, s in a) == sorted((round(s, 3), p) for p, s in b)


def test_schema_steps_are_applied_once_and_recorded(pg_url):
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:  # a catalog written by the first release
        migrate(conn, STEPS[:1])
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version")] == [1]
    PgCatalog(pg_url).close()  # opened by this release: the later steps are applied in place
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")] == \
            list(range(1, LATEST + 1))
        assert conn.execute("SELECT to_regclass('jobs')").fetchone()[0] == "jobs"
        assert migrate(conn) == []  # current: nothing to do
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (LATEST + 1,))
    with pytest.raises(StoreError, match="newer newsrag"):
        PgCatalog(pg_url)


def test_keyword_ranking_equals_fts5(both):
    sqlite, pg = both
    assert pg.stats()["passages"] == sqlite.stats()["passages"] > 100
    found = 0
    for q in QUESTIONS:
        _same(pg.keyword_search(q, 20), sqlite.keyword_search(q, 20), sqlite)
        found += bool(pg.keyword_search(q, 20))
    assert found == len(QUESTIONS) - 1  # all but the one of function words alone


def test_rare_word_pruning_and_filters_equal_fts5(both):
    sqlite, pg = both
    from rag.index import day_number

    for q in QUESTIONS:
        # a budget small enough that common words are left to the rescoring
        _same(pg.keyword_search(q, 10, budget=100), sqlite.keyword_search(q, 10, budget=100), sqlite)
        for f in ({"since_day": day_number("2023-06-01")}, {"until_day": day_number("2023-03-31")},
                  {"as_of_day": day_number("2023-05-01")}, {"sources": ["usatoday.com", "cnn.com"]}):
            _same(pg.keyword_search(q, 10, **f), sqlite.keyword_search(q, 10, **f), sqlite)


def test_keywords_follow_updates_and_removals(pg_url):
    pg = PgCatalog(pg_url)
    a = _articles(2)
    _fill(pg, a)
    assert pg.keyword_search("zanzibarquay", 5) == []
    changed = replace(a[0], text=a[0].text + " The zanzibarquay project was approved.", content_hash="x")
    _fill(pg, [changed])
    assert {p.split(":")[0] for p, _ in pg.keyword_search("zanzibarquay", 5)} == {a[0].id}
    pg.remove([a[0].id])
    assert pg.keyword_search("zanzibarquay", 5) == [] and pg.get(a[0].id) is None
    totals = pg._one("SELECT docs FROM keyword_totals")[0]
    assert totals == pg.stats()["passages"] == pg._one("SELECT COUNT(*) FROM keywords")[0]
    assert pg.rebuild_keywords() == totals
    assert len(pg.trash()) > 0  # the retired versions' vectors, for the vector store to forget
    pg.close()


def test_ingest_and_answer_through_the_index(pg_url, tmp_path):
    settings = Settings(home=tmp_path / "h", catalog_url=pg_url, llm="extractive")
    report = Ingestor(settings).ingest([str(SAMPLE)])
    assert report.counts()["added"] == 1
    assert Ingestor(settings).ingest([str(SAMPLE)]).counts()["unchanged"] == 1
    assert not (tmp_path / "h" / "catalog.sqlite").exists()  # nothing went to the SQLite catalog
    answer = Assistant.from_settings(settings).ask(SEED_QUESTION)
    assert not answer.refused and answer.citations
    assert all(c.quote in c.passage for c in answer.citations)
    index = Index(settings)
    assert index.quotes_indexed() and index.quotes_by_speaker("Kardashian")


def test_a_writer_whose_staged_rows_vanished_commits_nothing(pg_url, tmp_path):
    settings = Settings(home=tmp_path / "h", catalog_url=pg_url, chunk_min_words=20, chunk_max_words=40)
    index = Index(settings, vectors=None)
    a = _articles(1)[0]
    gen = index.catalog.stage([Staged(a, chunk_article(a))])
    index.catalog.discard_pending()  # what a second writer does when it takes the lock of one presumed dead
    with pytest.raises(StoreError, match="lost its staged articles"):
        index.catalog.commit(gen)
    assert index.get(a.id) is None and index.version() == 0


def test_an_unreachable_or_wrong_catalog_says_what_to_check(tmp_path):
    with pytest.raises(StoreError, match="NEWSRAG_CATALOG_URL"):
        PgCatalog(f"postgresql://postgres@127.0.0.1:{_free_port()}/x", connect_timeout=1)
    with pytest.raises(SettingsError, match="NEWSRAG_CATALOG_URL"):
        Settings.from_env({"NEWSRAG_CATALOG_URL": "mysql://x"})
    assert "secret" not in repr(Settings(catalog_url="postgresql://u:secret@h/db"))


def test_an_eval_never_writes_into_the_shared_catalog(pg_url, tmp_path, monkeypatch):
    from rag.eval.run import evaluate

    articles, questions = tmp_path / "a.jsonl", tmp_path / "q.jsonl"
    articles.write_text(json.dumps({"id": "t1", "title": "Harbor library", "source": "Coast Herald",
                                    "body": "The harbor town of Wrenmouth opened a floating library on Saturday, built "
                                            "on a former ferry named the Gull, the mayor said on Sunday."}) + "\n")
    questions.write_text(json.dumps({"id": "q1", "question": "What was the library built on?", "answer": "a ferry",
                                     "type": "fact", "evidence": [{"article_id": "t1"}]}) + "\n")
    monkeypatch.setenv("NEWSRAG_CATALOG_URL", pg_url)
    evaluate(articles, questions, progress=False)  # a temporary store: local, whatever the environment says
    shared = PgCatalog(pg_url)
    assert shared.stats()["articles"] == 0
    shared.close()


def test_every_replica_shows_a_user_the_same_earlier_chats(pg_url, tmp_path):
    from rag.frontends.web.conversations import ConversationStore

    replicas = [ConversationStore(tmp_path / name, catalog=Index(Settings(home=tmp_path / name, catalog_url=pg_url),
                                                                   vectors=None)) for name in ("r1", "r2")]
    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a [1]"}]
    saved = replicas[0].save("ana", None, chat, chat, ["<div>source</div>"])
    assert [c["id"] for c in replicas[1].list("ana")] == [saved] and replicas[1].list("ben") == []
    replicas[1].save("ana", saved, chat + chat, chat + chat, ["<div>1</div>", "<div>2</div>"])
    assert replicas[0].get("ana", saved)["panels"] == ["<div>1</div>", "<div>2</div>"]


def test_replicas_on_postgresql_share_the_watched_feeds_and_start_each_round_once(pg_url, tmp_path):
    from .test_feed_watch import check_replicas_share_the_list_and_start_each_round_once

    catalog = PgCatalog(pg_url)
    try:
        check_replicas_share_the_list_and_start_each_round_once(catalog, tmp_path)
    finally:
        catalog.close()
