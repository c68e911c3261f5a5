"""The Index: the only code that touches sqlite3, chromadb and bm25s; keywords grow and shrink per article; a
reader in one process sees what another process committed; a store from before generations opens as before."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest import Ingestor
from rag.core.settings import Settings
from rag.index import Index

from .conftest import ROOT
from .fake_embedder import FakeEmbedder

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

_STORAGE_IMPORT = re.compile(r"^\s*(import|from)\s+(sqlite3|chromadb|bm25s|psycopg|psycopg_pool)\b", re.M)


def _story(topic: str, marker: str) -> str:
    return f"The {topic} decision\n" + " ".join(
        f"The {topic} board met on day {i} and the {marker} proposal was read aloud." for i in range(12)) + "\n"


def _settings(home: Path) -> Settings:
    return Settings(home=home, chunk_min_words=20, chunk_max_words=40)


def test_only_the_index_package_imports_storage_libraries():
    offenders = []
    for path in [*ROOT.glob("rag/**/*.py"), *ROOT.glob("ingest/**/*.py"), *ROOT.glob("benchmarks/*.py"),
                 ROOT / "app.py"]:
        if path.exists() and "rag/index/" not in path.as_posix() and _STORAGE_IMPORT.search(path.read_text()):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_keywords_follow_each_add_update_and_removal_without_a_rebuild(tmp_path):
    settings = _settings(tmp_path / "h")
    ing = Ingestor(settings, embedder=FakeEmbedder())
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(_story("harbour", "quayside"))
    b.write_text(_story("library", "bookbinding"))
    ing.ingest([str(a), str(b)])
    index = ing.index
    rows = index.catalog._all("SELECT COUNT(*) FROM keywords_docsize")[0][0]
    assert rows == index.stats()["passages"]
    assert index.keyword("bookbinding", 5) and index.keyword("quayside", 5)
    a.write_text(_story("harbour", "lighthouse"))
    ing.ingest([str(a)])
    assert index.keyword("quayside", 5) == [] and index.keyword("lighthouse", 5)
    assert index.catalog._all("SELECT COUNT(*) FROM keywords_docsize")[0][0] == index.stats()["passages"]
    harbour = next(r.article.id for r in index.articles() if "harbour" in r.article.title)
    ing.remove(harbour)
    assert index.keyword("lighthouse", 5) == [] and index.keyword("bookbinding", 5)
    # built again from nothing, the index ranks the same
    before = index.keyword("library bookbinding proposal", 10)
    assert index.rebuild_keywords() == index.stats()["passages"]
    assert index.keyword("library bookbinding proposal", 10) == before


def test_keyword_filters_apply_inside_the_search(tmp_path):
    settings = _settings(tmp_path / "h")
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": "x1", "title": "Tram plan", "body": _story("tram", "pantograph"), "source": "Ledger",
         "published_at": "2024-03-01"},
        {"id": "y2", "title": "Tram vote", "body": _story("tram", "pantograph").replace("board", "council"),
         "source": "Post", "published_at": "2024-05-01"}]))
    ing = Ingestor(settings.replace(near_duplicate_threshold=0.99), embedder=FakeEmbedder())
    ing.ingest([str(path)])
    ids = lambda hits: {p.split(":")[0] for p, _ in hits}  # noqa: E731
    assert ids(ing.index.keyword("pantograph", 50)) == {"x1", "y2"}
    assert ids(ing.index.keyword("pantograph", 50, sources=["Post"])) == {"y2"}
    from rag.index import day_number

    assert ids(ing.index.keyword("pantograph", 50, until_day=day_number("2024-04-01"))) == {"x1"}
    assert ids(ing.index.keyword("pantograph", 50, since_day=day_number("2024-04-01"))) == {"y2"}


_WRITE = """
import sys
import numpy as np

from ingest import Ingestor
from rag.core.settings import Settings
from tests.fake_embedder import FakeEmbedder
ing = Ingestor(Settings(home=sys.argv[1], chunk_min_words=20, chunk_max_words=40), embedder=FakeEmbedder())
if sys.argv[2] == "remove":
    ing.remove(sys.argv[3])
else:
    ing.ingest(sys.argv[3:])
"""


def test_a_reader_sees_another_process_add_and_remove_without_reopening(tmp_path):
    home = tmp_path / "h"
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(_story("harbour", "quayside"))
    second.write_text(_story("library", "bookbinding"))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    run = lambda *a: subprocess.run([sys.executable, "-c", _WRITE, str(home), *a], cwd=ROOT, env=env,  # noqa: E731
                                    check=True, timeout=120)
    run("ingest", str(first))
    reader, fake = Index(_settings(home)), FakeEmbedder()
    query = fake.embed_one("library bookbinding proposal")
    assert {h.article_id for h in reader.dense(query, 50)} == {reader.articles()[0].article.id}
    run("ingest", str(second))
    library = next(r.article.id for r in reader.articles() if "library" in r.article.title)
    assert library in {h.article_id for h in reader.dense(query, 50)}  # reloaded on its own
    assert library in {p.split(":")[0] for p, _ in reader.keyword("bookbinding", 5)}
    run("remove", library)
    assert library not in {h.article_id for h in reader.dense(query, 50)}
    assert reader.keyword("bookbinding", 5) == [] and reader.get(library) is None
    assert reader.refresh() is False  # nothing new: one pragma, no reload


_V1_SCHEMA = """
CREATE TABLE articles (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, url TEXT, published_at TEXT, author TEXT,
  credited_source TEXT, ingested_at TEXT NOT NULL, content_hash TEXT NOT NULL, origin TEXT, text TEXT NOT NULL,
  state TEXT NOT NULL, duplicate_of TEXT, passage_count INTEGER NOT NULL DEFAULT 0, signature BLOB);
CREATE INDEX articles_hash ON articles(content_hash);
CREATE TABLE passages (id TEXT PRIMARY KEY, article_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL,
  end INTEGER NOT NULL);
CREATE INDEX passages_article ON passages(article_id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def test_a_store_from_before_generations_is_migrated_in_place(tmp_path):
    """A catalog written by the previous code (no generations, vectors keyed by passage id) opens: its article
    stays answerable from both searches, what a killed old ingest left pending is cleaned, an update replaces it."""
    import sqlite3

    from rag.core.schema import Passage

    home = tmp_path / "h"
    settings = _settings(home)
    vectors = Index(settings).vectors
    for suffix in ("", "-wal", "-shm"):
        (home / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    text = _story("ferry", "gangway")
    cut = text.index(" The ferry board met on day 6")
    spans = [(0, cut), (cut + 1, len(text))]
    db = sqlite3.connect(str(home / "catalog.sqlite"))
    db.executescript(_V1_SCHEMA)
    for aid, state in (("old-1", "ready"), ("half-2", "pending")):
        db.execute("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (aid, "Ferry decision", "Ledger", f"https://x.example/{aid}", "2024-03-01", None, None,
                    "2024-03-02", f"h-{aid}", "", text, state, None, 2, None))
        db.executemany("INSERT INTO passages VALUES (?,?,?,?,?)", [(f"{aid}:{i}", aid, i, s, e)
                                                                   for i, (s, e) in enumerate(spans)])
    db.execute("INSERT INTO meta VALUES ('version', '7')")
    db.commit()
    db.close()
    fake = FakeEmbedder()
    for aid in ("old-1", "half-2"):
        ps = [Passage(f"{aid}:{i}", aid, i, s, e, text[s:e], "Ferry decision", "Ledger", "2024-03-01")
              for i, (s, e) in enumerate(spans)]
        vectors.upsert([p.id for p in ps], ps, fake.embed([p.text for p in ps]))

    index = Index(settings)
    index.repair()
    assert [r.article.id for r in index.articles()] == ["old-1"] and index.version() == 7
    assert {p.split(":")[0] for p, _ in index.keyword("gangway", 5)} == {"old-1"}
    assert {h.article_id for h in index.dense(fake.embed_one("ferry gangway"), 10)} == {"old-1"}
    assert index.vectors.ids() == {"old-1:0", "old-1:1"}  # the old ingest's pending vectors are gone
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"id": "old-1", "title": "Ferry decision", "body": _story("ferry", "hawser")}))
    Ingestor(settings, index=index, embedder=fake).ingest([str(path)])
    assert index.keyword("gangway", 5) == [] and index.keyword("hawser", 5)
    assert not index.vectors.ids() & {"old-1:0", "old-1:1"}


def test_keyword_search_past_its_postings_budget_ranks_and_scores_as_fts5_does(tmp_path, monkeypatch):
    """Past the budget only the rarest words are matched; their best passages are scored over every word, with
    FTS5's own BM25 (same scores), so the top of the ranking stays the exhaustive one's."""
    settings = _settings(tmp_path / "h")
    path = tmp_path / "many.jsonl"
    rows = []
    for i in range(30):
        extra = (" The harbour pilots objected." if i % 2 else "") + (" A lighthouse keeper spoke." if i % 10 == 3
                                                                         else "")
        body = " ".join(f"The council met on day {d} about item {i * 7 + d} and voted.{extra if d == i % 5 else ''}"
                        for d in range(6))
        rows.append({"id": f"c{i}", "title": f"Council notes {i}", "body": body, "source": "Ledger",
                     "published_at": f"2024-03-{1 + i % 28:02d}"})
    path.write_text("\n".join(json.dumps(r) for r in rows))
    ing = Ingestor(settings.replace(near_duplicate_threshold=0.99), embedder=FakeEmbedder())
    ing.ingest([str(path)])
    catalog = ing.index.catalog
    question = "What did the council hear from the harbour pilots and the lighthouse keeper?"
    exact = catalog.keyword_search(question, 10, budget=10**9)
    from rag.index import keywords

    rescored = []
    real = keywords._rescore
    monkeypatch.setattr(keywords, "_rescore", lambda *a: rescored.append(a[3]) or real(*a))
    pruned = catalog.keyword_search(question, 3, budget=5)  # the rarest word alone is matched
    assert len(rescored) == 1 and 3 <= len(rescored[0]) < catalog.stats()["passages"] / 4  # the rare words only
    assert [p for p, _ in pruned] == [p for p, _ in exact[:3]]  # the lighthouse passages lead both rankings
    for (pid, score), (_, want) in zip(pruned, exact):
        assert abs(score - want) <= 1e-6 * max(1.0, abs(want)), pid  # FTS5's bm25(), to rounding
    # under a filter: only passages in range, scored as the exhaustive search scores them, its best first
    from rag.index import day_number

    day = day_number("2024-03-20")
    filtered = catalog.keyword_search(question, 5, since_day=day, budget=5)
    everything = dict(catalog.keyword_search(question, 50, since_day=day, budget=10**9))
    assert filtered and set(dict(filtered)) <= set(everything)
    assert filtered[0][0] == max(everything, key=everything.get)
    assert all(abs(score - everything[pid]) <= 1e-6 * max(1.0, score) for pid, score in filtered)
    # the setting reaches the search, and is bounded
    assert ing.index.settings.keyword_postings == keywords.POSTINGS_BUDGET == 80_000


def test_word_counts_and_indexed_words_follow_every_add_update_and_removal(tmp_path):
    """`keyword_df` (passages per word, read by every search) equals what FTS5 itself counts, and
    `keyword_terms` holds exactly the indexed passages, after adds, an update, a removal and a duplicate; a store
    indexed before these tables gets them filled when opened, with the same counts."""
    import sqlite3

    from rag.index.sqlite_catalog import SqliteCatalog

    def check(db) -> None:
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.v USING fts5vocab(main, keywords, row)")
        assert dict(db.execute("SELECT term, doc FROM keyword_df")) == dict(db.execute("SELECT term, doc FROM temp.v"))
        indexed = {r[0] for r in db.execute(
            "SELECT p.rid FROM passages p JOIN articles a ON a.id=p.article_id AND a.gen=p.gen"
            " WHERE a.state='ready' AND a.duplicate_of IS NULL")}
        assert {r[0] for r in db.execute("SELECT rid FROM keyword_terms")} == indexed and indexed

    settings = _settings(tmp_path / "h")
    ing = Ingestor(settings.replace(near_duplicate_threshold=0.9), embedder=FakeEmbedder())
    files = []
    for i, (topic, marker) in enumerate([("bridge", "granite"), ("ferry", "timber"), ("library", "vellum")]):
        files.append(tmp_path / f"{i}.json")
        files[-1].write_text(json.dumps({"id": f"s{i}", "title": topic, "body": _story(topic, marker)}))
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps({"id": "copy", "title": "bridge", "body": _story("bridge", "granite")}))
    ing.ingest([str(f) for f in files] + [str(copy)])
    db = ing.index.catalog._db
    assert db.execute("SELECT duplicate_of FROM articles WHERE id='copy'").fetchone()[0] == "s0"
    check(db)
    files[1].write_text(json.dumps({"id": "s1", "title": "ferry", "body": _story("ferry", "cobalt")}))
    ing.ingest([str(files[1])])  # an update: the old words leave, the new ones come
    check(db)
    assert db.execute("SELECT doc FROM keyword_df WHERE term='cobalt'").fetchone()[0] > 0
    assert db.execute("SELECT 1 FROM keyword_df WHERE term='timber'").fetchone() is None
    ing.remove("s2")
    check(db)
    assert [p for p, _ in ing.index.catalog.keyword_search("vellum library", 5)] == []
    ing.index.close()

    raw = sqlite3.connect(str(settings.home / "catalog.sqlite"))  # as a store from before the tables left it
    raw.execute("DROP TABLE keyword_terms")
    raw.execute("DROP TABLE keyword_df")
    raw.execute("DELETE FROM meta WHERE key='keyword_side'")
    raw.commit()
    raw.close()
    reopened = SqliteCatalog(settings.home)
    check(reopened._db)
    assert reopened.keyword_search("granite bridge", 3)


def test_quotes_of_a_store_from_before_generations_are_derived_again_and_live_with_their_article(tmp_path):
    """A catalog from main's code with its quote index (quotes without generations) opens; its quotes are
    derived again by the next ingest; an update replaces them and a removal takes them away, with the article."""
    import sqlite3

    home = tmp_path / "h"
    settings = _settings(home)
    Index(settings).close()
    for suffix in ("", "-wal", "-shm"):
        (home / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    text = ('The ferry decision\n"We will rebuild the gangway before the winter storms," said Mara Lindqvist, the '
            'harbour master, on Monday. ' + " ".join(f"The ferry board met on day {i}." for i in range(12)))
    db = sqlite3.connect(str(home / "catalog.sqlite"))
    db.executescript(_V1_SCHEMA + "CREATE TABLE quotes (article_id TEXT NOT NULL, start INTEGER NOT NULL, end"
                     " INTEGER NOT NULL, speaker TEXT, surname TEXT, description TEXT, kind TEXT NOT NULL, cue_start"
                     " INTEGER, cue_end INTEGER, via_pronoun INTEGER NOT NULL, norm TEXT NOT NULL);")
    db.execute("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               ("old-1", "Ferry decision", "Ledger", "https://x.example/old-1", "2024-03-01", None, None,
                "2024-03-02", "h-old-1", "", text, "ready", None, 1, None))
    db.execute("INSERT INTO passages VALUES (?,?,?,?,?)", ("old-1:0", "old-1", 0, 0, len(text)))
    db.execute("INSERT INTO quotes VALUES ('old-1', 1, 9, 'Someone Else', 'else', NULL, 'direct', -1, -1, 0, 'x')")
    db.execute("INSERT INTO meta VALUES ('quotes_indexed', '1')")
    db.commit()
    db.close()

    index = Index(settings)
    assert not index.quotes_indexed() and index.quotes_by_speaker("Else") == []  # the old rows are gone
    ing = Ingestor(settings, index=index, embedder=FakeEmbedder())
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"id": "lib-2", "title": "Library hours", "body": _story("library", "bookbinding")}))
    ing.ingest([str(other)])  # any ingest fills the quote index in first
    assert index.quotes_indexed()
    said = index.quotes_by_speaker("Lindqvist")
    assert [q.quote.article_id for q in said] == ["old-1"] and "gangway" in said[0].quote.text
    assert index.passage_at("old-1", said[0].quote.start, said[0].quote.end).article_id == "old-1"
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"id": "old-1", "title": "Ferry decision",
                                "body": text.replace("rebuild the gangway", "paint the hawser posts")}))
    ing.ingest([str(path)])  # the update's quotes replace the old version's, in the same commit
    assert index.find_quote_text(["hawser"]) and not index.find_quote_text(["gangway"])
    ing.remove("old-1")
    assert index.quotes_by_speaker("Lindqvist") == [] and index.quotes_indexed()


def test_near_duplicates_of_stored_stories_are_found_through_the_band_table(tmp_path):
    """A copy ingested in a later run is matched by the MinHash band table (not by reading every signature);
    the table follows updates and removals, and a catalog without it gets it filled when opened."""
    from rag.index.sqlite_catalog import SqliteCatalog

    settings = _settings(tmp_path / "h")
    ing = Ingestor(settings, embedder=FakeEmbedder())
    wire, other = _story("ferry", "gangway"), _story("museum", "tapestry")
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(json.dumps(r) for r in [
        {"id": "ledger-1", "title": "Ferry decision", "body": wire, "source": "Ledger"},
        {"id": "gazette-4", "title": "Museum decision", "body": other, "source": "Gazette"}]))
    ing.ingest([str(first)])
    catalog = ing.index.catalog
    bands = lambda: catalog._all("SELECT COUNT(*) FROM signature_bands")[0][0]  # noqa: E731
    assert bands() == 2 * 16
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"id": "post-9", "title": "Ferry decided", "body": wire.replace("day 3", "day three"),
                                 "source": "Post"}))
    report = Ingestor(settings, embedder=FakeEmbedder()).ingest([str(later)])
    assert [d["duplicate_of"] for d in report.duplicates] == ["ledger-1"]
    assert bands() == 2 * 16  # a duplicate is not banded
    # the original rewritten: its old text's bands go, so a copy of the old text is no longer its duplicate
    first.write_text(json.dumps({"id": "ledger-1", "title": "Ferry decision", "body": _story("bakery", "sourdough"),
                                 "source": "Ledger"}))
    Ingestor(settings, embedder=FakeEmbedder()).ingest([str(first)])
    stale = tmp_path / "stale.jsonl"
    stale.write_text(json.dumps({"id": "herald-2", "title": "Ferry", "body": wire, "source": "Herald"}))
    report = Ingestor(settings, embedder=FakeEmbedder()).ingest([str(stale)])
    assert report.duplicates == [] and [a["id"] for a in report.added] == ["herald-2"]
    assert bands() == 3 * 16
    Ingestor(settings, embedder=FakeEmbedder()).remove("gazette-4")
    assert bands() == 2 * 16
    # an older catalog: no table filled, no recipe recorded -> filled when opened
    catalog._db.execute("DELETE FROM signature_bands")
    catalog._db.execute("DELETE FROM meta WHERE key='bands'")
    assert SqliteCatalog(settings.home)._all("SELECT COUNT(*) FROM signature_bands")[0][0] == 2 * 16
    found, _ = SqliteCatalog(settings.home).near_candidates(np.frombuffer(
        catalog._all("SELECT signature FROM articles WHERE id='herald-2'")[0][0], dtype=np.uint32))
    assert found == ["herald-2"]


def test_keyword_words_split_where_fts5_splits_them(tmp_path):
    """An underscore joins no words: FTS5's unicode61 tokenizer would count "ap_sport" as two and "___" as none,
    so its BM25 lengths and totals would drift from the words indexed (and from PostgreSQL's counts)."""
    from rag.index import keywords

    assert keywords.terms("AP_Sport ___ by michaela_ramm, 19_666") == ["ap", "sport", "michaela", "ramm", "19", "666"]
    assert keywords.terms("Gaudí's Café") == keywords.terms("Gaudi's cafe")  # unicode61 folds diacritics too
    settings = Settings(home=tmp_path, chunk_min_words=20, chunk_max_words=40)
    path = tmp_path / "a.txt"
    path.write_text("Harbour vote\n" + " ".join(f"The harbour_board met on day {i}; staff_writer ___ reported the "
                                                 "ferry vote at the Café Gaudí." for i in range(12)))
    ing = Ingestor(settings, embedder=FakeEmbedder())
    ing.ingest([str(path)])
    db = ing.index.catalog._db
    fts_tokens = keywords._totals(db)[0] * keywords._totals(db)[1]
    words = sum(len(b.split()) for (b,) in db.execute("SELECT body FROM keyword_terms"))
    assert round(fts_tokens) == words  # FTS5 counted exactly the words it was given
    assert ing.index.keyword("harbour board", 3)


def test_the_rare_words_past_the_budget_are_the_same_in_every_process():
    code = ("from rag.index import keywords; print(keywords.rare_words(['harbour', 'ferry', 'midnight', 'stop', "
            "'pier', 'tide'], {'harbour': 40, 'ferry': 40, 'midnight': 40, 'pier': 40, 'tide': 40, "
            "'stop': 30000}, budget=200))")
    picks = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                            env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout.strip() for seed in range(6)}
    assert picks == {"['ferry']"}  # equal counts: the word decides, not the hash order of a set
