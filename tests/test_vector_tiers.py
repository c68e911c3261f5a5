"""The embedded vector store in two tiers: new vectors go to a small fresh index (a writer never loads the main
one to add an article), a full fresh index is moved into the main one, deletions from a large main index wait
for that move, and a reader reloads the main index only when it was written. Real Chroma in a temp dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import Ingestor
from rag.core.settings import Settings
from rag.index import Index, vectors

from .fake_embedder import FakeEmbedder

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

def _story(topic: str, marker: str) -> str:
    return f"The {topic} decision\n" + " ".join(
        f"The {topic} board met on day {i} and the {marker} proposal was read aloud." for i in range(12)) + "\n"


def _write(path: Path, aid: str, topic: str, marker: str) -> str:
    path.write_text(json.dumps({"id": aid, "title": topic, "body": _story(topic, marker)}))
    return str(path)


def _live(index: Index) -> set[str]:
    return {r[0] for r in index.catalog._all(
        "SELECT p.vid FROM passages p JOIN articles a ON a.id=p.article_id AND a.gen=p.gen WHERE a.state='ready'")}


def _found(index: Index, text: str) -> list[str]:
    return [h.article_id for h in index.dense(FakeEmbedder().embed_one(text), 50)]


@pytest.fixture
def small_tiers(monkeypatch):
    monkeypatch.setattr(vectors, "FRESH_MAX", 25)  # a compaction every few articles (11 passages each)
    monkeypatch.setattr(vectors, "EAGER_MAIN", 0)  # every main-index deletion waits for the next compaction


def test_adds_go_to_the_fresh_index_and_move_into_the_main_one_when_it_is_full(tmp_path, small_tiers):
    settings = Settings(home=tmp_path / "h", chunk_min_words=20, chunk_max_words=40)
    ing = Ingestor(settings, embedder=FakeEmbedder())
    ing.ingest([_write(tmp_path / "a.json", "a", "harbour", "quayside")])
    store = ing.index.vectors
    assert store._fresh.col.count() == len(_live(ing.index)) and not store._main_open  # main never opened
    ing.ingest([_write(tmp_path / "b.json", "b", "library", "bookbinding"),
                _write(tmp_path / "c.json", "c", "tram", "pantograph")])
    assert store._fresh.col.count() == 0 and store._main.col.count() == len(_live(ing.index))  # compacted
    assert store.ids() == _live(ing.index)

    # an update: the old version's vectors are in the large main index, so they wait in the trash ...
    ing.ingest([_write(tmp_path / "a.json", "a", "harbour", "lighthouse")])
    old = store.ids() - _live(ing.index)
    assert old and set(ing.index.catalog.trash()) == old
    hits = ing.index.dense(FakeEmbedder().embed_one("harbour quayside proposal"), 50)
    assert {h.vid for h in hits} <= _live(ing.index)  # ... never returned
    assert len({h.vid for h in hits}) == len(hits)
    # ... and go with the next compaction
    ing.ingest([_write(tmp_path / f"d{i}.json", f"d{i}", f"depot {i}", f"marker{i}") for i in range(3)])
    assert ing.index.catalog.trash() == [] and store.ids() == _live(ing.index)
    ing.remove("b")
    assert "b" not in _found(ing.index, "library bookbinding proposal")


def test_a_reader_reloads_only_the_fresh_index_until_the_main_one_is_written(tmp_path, small_tiers):
    settings = Settings(home=tmp_path / "h", chunk_min_words=20, chunk_max_words=40)
    ing = Ingestor(settings, embedder=FakeEmbedder())
    ing.ingest([_write(tmp_path / f"s{i}.json", f"s{i}", f"topic{i}", f"word{i}") for i in range(3)])
    reader = Index(settings)
    assert "s1" in _found(reader, "topic1 word1 proposal")
    main_before = reader.vectors._main.col
    ing.ingest([_write(tmp_path / "n.json", "n", "ferry", "gangway")])  # into the fresh index only
    assert "n" in _found(reader, "ferry gangway proposal")  # seen after the catalog moved on
    assert reader.vectors._main.col is main_before  # the main index was not loaded again
    ing.ingest([_write(tmp_path / f"m{i}.json", f"m{i}", f"mill {i}", f"grain{i}") for i in range(3)])  # compacts
    assert "m2" in _found(reader, "mill 2 grain2 proposal") and "n" in _found(reader, "ferry gangway proposal")
    assert reader.vectors._main.col is not main_before  # written by the compaction: loaded again


def test_a_compaction_stopped_part_way_loses_nothing_and_the_next_one_finishes(tmp_path, small_tiers,
                                                                              monkeypatch):
    settings = Settings(home=tmp_path / "h", chunk_min_words=20, chunk_max_words=40)
    ing = Ingestor(settings, embedder=FakeEmbedder())
    ing.ingest([_write(tmp_path / "a.json", "a", "harbour", "quayside")])
    store = ing.index.vectors
    real_delete = vectors._Tier.delete

    def dies_leaving_the_fresh_copy(tier, vids):
        if tier is store._fresh and tier.col.count() and store._main_open and store._main.col.count():
            raise KeyboardInterrupt  # as a kill after the main index took the vectors
        return real_delete(tier, vids)

    monkeypatch.setattr(vectors._Tier, "delete", dies_leaving_the_fresh_copy)
    with pytest.raises(KeyboardInterrupt):
        ing.ingest([_write(tmp_path / f"b{i}.json", f"b{i}", f"library {i}", f"binding{i}") for i in range(3)])
    monkeypatch.setattr(vectors._Tier, "delete", real_delete)
    both = store._fresh.ids() & store._main.ids()
    assert both  # in both for now ...
    reader = Index(settings)
    assert {r.article.id for r in reader.articles()} == {"a", "b0", "b1", "b2"}  # the articles were committed
    hits = reader.dense(FakeEmbedder().embed_one("library harbour quayside binding proposal"), 50)
    assert {h.vid for h in hits} == _live(reader) and len(hits) == len(_live(reader))  # each vector once
    assert store.compact(ing.index.catalog.trash()) > 0  # the next compaction finishes the move
    assert store._fresh.col.count() == 0 and store.ids() == _live(ing.index)


def test_a_filtered_dense_search_read_unfiltered_first_finds_what_chroma_filtering_finds(tmp_path):
    """The dense search reads WIDEN x k unfiltered neighbours and filters them itself (Chroma's own filter is slow
    on a large collection), falling back to Chroma's filter when too few pass: the same vectors either way."""
    settings = Settings(home=tmp_path / "h", chunk_min_words=20, chunk_max_words=40)
    rows = [{"id": f"a{i}", "title": f"topic{i}", "body": _story(f"topic{i}", f"word{i % 3}"),
             "source": ["Ledger", "Courier"][i % 2], "published_at": f"2024-03-{1 + i:02d}"} for i in range(8)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    ing = Ingestor(settings.replace(near_duplicate_threshold=0.99), embedder=FakeEmbedder())
    ing.ingest([str(path)])
    store = ing.index.vectors
    tier = store._fresh if store._fresh.col.count() else store._main
    vector = FakeEmbedder().embed_one("topic3 word0 proposal")
    from rag.index import day_number

    day = day_number("2024-03-05")
    for where in ({"source": {"$in": ["Courier"]}}, {"day": {"$lte": day}},
                  {"$and": [{"day": {"$gte": day}}, {"source": {"$in": ["Ledger"]}}]},
                  {"source": {"$in": ["Nobody"]}}):
        for k in (3, 10, 40):
            ours = tier.query(vector, k, where)
            chroma = [h for h, _ in tier._query(vector, k, where)]
            # the same distances in the same order (passages of one story can tie: which of them is a coin toss)
            assert [round(h.similarity, 5) for h in ours] == [round(h.similarity, 5) for h in chroma], (where, k)
            passed = {h.vid for h, meta in tier._query(vector, 1000, None) if vectors._matches(meta, where)}
            assert {h.vid for h in ours} <= passed
    assert vectors._matches({"day": 3, "source": "x"}, {"$and": [{"day": {"$gte": 3}}, {"source": "x"}]})
    assert not vectors._matches({"day": -1}, {"day": {"$gte": 0}})
