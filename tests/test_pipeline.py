"""Ingest end to end on a real Chroma in a temp dir with the bundled embedding model."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest import Ingestor
from ingest.chunking import chunk_spans
from rag.core.settings import Settings
from rag.index import Index
from rag.index.sqlite_catalog import SqliteCatalog as Catalog

from .conftest import ROOT, SAMPLE

WIRE = textwrap.dedent("""\
    City council approves new riverside park after two-year debate
    The city council voted seven to two on Tuesday to approve a riverside park on the site of the old grain
    depot, ending a debate that had run for two years. The plan includes a playground, a boat launch and a
    walking path that links the north and south bridges. Council member Dana Ortiz, who led the effort, said
    the vote was "a promise kept to every family on the east side." Opponents had argued that the land should
    be sold to developers to raise money for road repairs. Construction is expected to begin next spring and
    to cost about 4.2 million dollars, paid for by a state grant and a local bond approved by voters last year.
    """)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_twice_added_then_unchanged(tmp_path):
    settings = Settings(home=tmp_path / "h")
    first = Ingestor(settings).ingest([str(SAMPLE)])
    assert first.counts() == {"added": 1, "updated": 0, "unchanged": 0, "duplicates": 0, "failed": 0}
    second = Ingestor(settings).ingest([str(SAMPLE)])
    assert second.counts()["added"] == 0 and second.counts()["unchanged"] == 1
    assert second.passages == 0  # nothing re-embedded


def test_passages_are_exact_offsets_of_the_cleaned_text(sample_settings):
    catalog = Catalog(sample_settings.home)
    (row,) = catalog.articles()
    text = row.article.text
    passages = catalog.passages()
    assert len(passages) == row.passage_count >= 2
    for p in passages:
        assert p.text == text[p.start:p.end]
        assert 0 < len(p.text.split()) <= 320
    # Chroma holds the same text under the same ids.
    store = Index(sample_settings).vectors
    assert store.count() == len(passages)
    assert row.article.credited_source == "TMZ"
    assert "Also Read" not in text and "Explore from around the WEB" not in text


def test_per_question_catalog_reads_use_indexes_not_scans(sample_settings):
    """newest() and has_articles() run for every question, passages_by_id() for every retrieval: none may scan
    the articles table (with its texts), which cost 42 ms a question at 12k articles."""
    from rag.index.sqlite_catalog import (
        HAS_ARTICLES_SQL,
        LIVE_VIDS_SQL,
        NEWEST_SQL,
        PASSAGES_BY_ID_SQL,
    )

    catalog = Catalog(sample_settings.home)
    plans = {"newest": NEWEST_SQL, "has_articles": HAS_ARTICLES_SQL,
             "passages_by_id": PASSAGES_BY_ID_SQL.format(marks="'x', 'y'"),
             "live_vids": LIVE_VIDS_SQL.format(marks="'x', 'y'")}
    for name, sql in plans.items():
        detail = " | ".join(row[-1] for row in catalog._db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "INDEX" in detail or "PRIMARY KEY" in detail, (name, detail)
        assert "SCAN articles" not in detail.replace("SCAN articles USING", ""), (name, detail)
    stats = catalog.stats()
    assert catalog.newest() == stats["newest"] and catalog.has_articles()
    assert [r["title"] for r in catalog.listing()] == [r.article.title for r in catalog.articles(include_duplicates=False)]
    assert catalog.mentions_all("kardashian", "BALENCIAGA") and not catalog.mentions_all("kardashian", "zeppelin")


def test_chunks_never_cut_inside_a_sentence():
    text = " ".join(f"Sentence number {i} says something about the council vote." for i in range(120))
    spans = chunk_spans(text, min_words=150, max_words=300, overlap=1)
    assert len(spans) >= 3
    for s, e in spans:
        assert text[s:e].startswith("Sentence") and text[s:e].endswith(".")
        assert 150 <= len(text[s:e].split()) <= 300 or e == len(text)
    assert spans[1][0] < spans[0][1]  # a small overlap: one sentence repeated


def test_update_replaces_passages_without_stale_ones(tmp_path):
    settings = Settings(home=tmp_path / "h", chunk_min_words=20, chunk_max_words=40)
    folder = tmp_path / "news"
    path = _write(folder, "park.txt", WIRE)
    ing = Ingestor(settings)
    assert ing.ingest([str(path)]).counts()["added"] == 1
    before = Catalog(settings.home).articles()[0].passage_count
    assert before >= 3
    path.write_text("City council approves new riverside park\nThe council approved the park on Tuesday. "
                    "Work starts in spring and will cost 4.2 million dollars.\n", encoding="utf-8")
    report = ing.ingest([str(path)])
    assert report.counts()["updated"] == 1
    rows = Catalog(settings.home).articles()
    assert len(rows) == 1 and rows[0].passage_count == 1
    store = Index(settings).vectors
    assert store.count() == 1  # the stale tail is gone from Chroma
    assert "grain depot" not in rows[0].article.text


def test_near_duplicate_wire_copy_is_recorded_not_embedded(tmp_path):
    settings = Settings(home=tmp_path / "h")
    records = [
        {"id": "site-a-1", "title": "Council approves riverside park", "body": WIRE, "source": "Daily Ledger",
         "url": "https://ledger.example/park", "published_at": "2024-03-05"},
        {"id": "site-b-9", "title": "Riverside park approved", "body": WIRE.replace("Tuesday", "Tuesday night"),
         "source": "Evening Post", "url": "https://post.example/park", "published_at": "2024-03-06"},
    ]
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    report = Ingestor(settings).ingest([str(path)])
    assert report.counts()["added"] == 1 and report.counts()["duplicates"] == 1
    catalog = Catalog(settings.home)
    dup = catalog.get("site-b-9")
    assert dup.duplicate_of == "site-a-1" and dup.passage_count == 0
    assert [d.article.source for d in catalog.duplicates_of("site-a-1")] == ["Evening Post"]
    assert {v.split(":")[0] for v in Index(settings).vectors.ids()} == {"site-a-1"}


def test_bad_inputs_fail_one_by_one_and_harm_nothing(tmp_path, sample_settings):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "random.html").write_bytes(bytes(range(256)) * 16)
    (bad / "broken.json").write_text("{not json", encoding="utf-8")
    (bad / "empty.txt").write_text("", encoding="utf-8")
    good = _write(tmp_path / "good", "park.txt", WIRE)
    before = Catalog(sample_settings.home).stats()
    report = Ingestor(sample_settings).ingest([str(bad), str(tmp_path / "missing.txt"), str(good),
                                               "http://127.0.0.1:9/nothing-listens-here"])
    reasons = {Path(f["origin"]).name: f["reason"] for f in report.failed}
    assert report.counts()["added"] == 1
    assert set(reasons) >= {"random.html", "broken.json", "empty.txt", "missing.txt", "nothing-listens-here"}
    assert all(r and "\n" not in r for r in reasons.values())
    after = Catalog(sample_settings.home).stats()
    assert after["articles"] == before["articles"] + 1 and after["passages"] > before["passages"]


def test_cli_ingest_exit_code_json_and_list(tmp_path):
    env = {"NEWSRAG_HOME": str(tmp_path / "h"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "rag.frontends.cli"]
    ok = subprocess.run(cmd + ["ingest", "--json", str(SAMPLE)], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["added"] == 1
    again = subprocess.run(cmd + ["ingest", str(SAMPLE), str(tmp_path / "nope.txt")], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 1
    assert "added 0" in again.stdout and "unchanged 1" in again.stdout and "nope.txt" in again.stdout
    listed = subprocess.run(cmd + ["list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "Kim Kardashian Balenciaga" in listed.stdout


KILL_SCRIPT = """
import os, sys
from ingest import Ingestor
from rag.index import index
from rag.core.settings import Settings
def dying(self, stage):
    if stage == "vectors":  # the first batch's vectors are in Chroma; die before they are made live
        os._exit(9)
index.Index._pause = dying
Ingestor(Settings(home=sys.argv[1])).ingest([sys.argv[2]])
"""


def test_killed_ingest_rerun_stores_each_article_once(tmp_path):
    folder = tmp_path / "news"
    topics = ["harbour", "library", "stadium"]
    for i, topic in enumerate(topics):
        body = " ".join(f"Paragraph {j} on the {topic}: residents number {i * 100 + j} met to discuss the {topic} "
                        f"plan {topic}-{j} and voted on item {j * 7 + i}." for j in range(20))
        _write(folder, f"story{i}.txt", f"The {topic} question\n{body}\n")
    home = tmp_path / "h"
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    died = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(home), str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert died.returncode == 9, died.stderr
    settings = Settings(home=home)
    catalog = Catalog(home)
    assert catalog.articles() == [] and catalog.pending_ids()  # half-written: pending, so nothing visible
    report = Ingestor(settings).ingest([str(folder)])
    assert report.counts()["added"] == 3 and not report.failed
    rows = Catalog(home).articles()
    assert len(rows) == 3
    store = Index(settings).vectors
    assert store.count() == sum(r.passage_count for r in rows)
    assert Ingestor(settings).ingest([str(folder)]).counts()["unchanged"] == 3


def test_remove_by_id_and_url(tmp_path):
    settings = Settings(home=tmp_path / "h")
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"title": "Park", "body": WIRE, "url": "https://ledger.example/park"}))
    ing = Ingestor(settings)
    ing.ingest([str(path)])
    removed = ing.remove("https://ledger.example/park")
    assert removed is not None and removed.title == "Park"
    assert Catalog(settings.home).articles() == [] and Index(settings).vectors.count() == 0
    assert ing.remove("no-such-id") is None


@pytest.mark.skipif(not (ROOT.parent / "shared" / "eval" / "multihop_rag").exists(), reason="no shared eval data")
def test_eval_articles_load_as_they_are(tmp_path):
    from ingest.loaders import iter_inputs
    from rag.core.schema import LoadFailure

    path = ROOT.parent / "shared" / "eval" / "multihop_rag" / "articles.jsonl"
    items = list(iter_inputs([str(path)]))
    assert items and not [i for i in items if isinstance(i, LoadFailure)]


def test_every_stored_vector_is_its_own_passages_although_embedded_shortest_first(tmp_path):
    """The ingest embeds a batch's passages ordered by length (less padding) and puts the vectors back in the
    passages' order: each stored vector is the embedding of its own passage's text."""
    from .fake_embedder import FakeEmbedder

    settings = Settings(home=tmp_path / "h", chunk_min_words=8, chunk_max_words=30)
    folder = tmp_path / "news"
    _write(folder, "park.txt", WIRE)
    _write(folder, "short.txt", "Ferry fares fall\nThe harbour ferry will cost one euro from Monday, the port said.\n")
    embedder = FakeEmbedder()
    report = Ingestor(settings, embedder=embedder).ingest([str(folder)])
    assert report.counts()["added"] == 2
    index = Index(settings)
    passages = index.catalog.passages()
    lengths = {len(p.text) for p in passages}
    assert len(passages) >= 4 and len(lengths) > 2  # passages of several lengths, so the order did change
    stored = index.passage_vectors([p.id for p in passages])
    for p in passages:
        want = embedder.embed([f"{p.title}\n{p.text}"])[0]
        assert float(stored[p.id] @ want) > 0.999, p.id
