"""Writers killed with SIGKILL at each stage of an add, an update, a removal and a duplicate pair: afterwards every
article is stored exactly once and answerable (the old version or the new one, never neither), no duplicate
points at a missing original, and the vector store holds exactly the live versions once repaired."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.core.settings import Settings
from rag.index import Index

from .conftest import ROOT
from .fake_embedder import FakeEmbedder


def _story(topic: str, marker: str) -> str:
    sentences = [f"The {topic} board met on day {i} and the {marker} proposal was read aloud to residents."
                 for i in range(12)]
    return f"The {topic} decision\n" + " ".join(sentences) + "\n"


def _writer(home: Path, stage: str | None, *args: str) -> None:
    """Run a writer process; with a stage, kill it there with SIGKILL (it must get there)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    if stage:
        env["NEWSRAG_TEST_PAUSE_AT"] = stage
    proc = subprocess.Popen([sys.executable, "-m", "tests.index_scenarios", str(home), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not stage:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        return
    marker = home / f"paused-at-{stage}"
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert proc.poll() is None, f"the writer ended before {stage}: {proc.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, f"the writer never reached {stage}"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    marker.unlink()


def _check(home: Path, expect: dict[str, str | None], dups: dict[str, str] | None = None) -> None:
    """expect: article id -> a word only its expected version holds. Every article once, each answerable by that
    word from both searches, duplicates pointing at live originals, the vector store holding the live versions."""
    index = Index(Settings(home=home))
    index.repair()
    rows = index.articles()
    ids = [r.article.id for r in rows]
    assert len(ids) == len(set(ids)), ids
    assert set(ids) == set(expect) | set(dups or {}), ids
    fake = FakeEmbedder()
    for row in rows:
        if row.duplicate_of:
            assert index.get(row.duplicate_of) is not None, f"{row.article.id} copies a missing article"
            assert (dups or {}).get(row.article.id) == row.duplicate_of
            continue
        word = expect[row.article.id]
        assert word in row.article.text
        found = {pid.split(":")[0] for pid, _ in index.keyword(word, 5)}
        assert row.article.id in found, (word, found)
        dense = {h.article_id for h in index.dense(fake.embed_one(f"The decision {word} proposal"), 50)}
        assert row.article.id in dense
    passages = index.passages()
    assert len(passages) == sum(r.passage_count for r in rows)
    live = set(index.catalog.vids_of([p.id for p in passages]).values())
    assert index.vectors.ids() == live  # no staged, retired or removed vector left behind


STAGES = ["staged", "embedded", "vectors", "committed"]


@pytest.mark.parametrize("stage", STAGES)
def test_add_killed_at_each_stage(tmp_path, stage):
    home, news = tmp_path / "h", tmp_path / "news"
    news.mkdir()
    (news / "harbour.txt").write_text(_story("harbour", "quayside"))
    _writer(home, None, "ingest", str(news))
    (news / "library.txt").write_text(_story("library", "bookbinding"))
    _writer(home, stage, "ingest", str(news))
    ids = {r.article.id: r.article.title for r in Index(Settings(home=home)).articles()}
    harbour = next(i for i, t in ids.items() if "harbour" in t)
    expect = {harbour: "quayside"}
    if stage == "committed":
        expect[next(i for i, t in ids.items() if "library" in t)] = "bookbinding"
    _check(home, expect)
    _writer(home, None, "ingest", str(news))
    ids = {r.article.title: r.article.id for r in Index(Settings(home=home)).articles()}
    _check(home, {ids["The harbour decision"]: "quayside", ids["The library decision"]: "bookbinding"})


@pytest.mark.parametrize("stage", STAGES)
def test_update_killed_at_each_stage_keeps_the_old_or_the_new_version(tmp_path, stage):
    home, path = tmp_path / "h", tmp_path / "stadium.txt"
    path.write_text(_story("stadium", "floodlight"))
    _writer(home, None, "ingest", str(path))
    (row,) = Index(Settings(home=home)).articles()
    path.write_text(_story("stadium", "scoreboard") + "A second paragraph adds the scoreboard budget.\n")
    _writer(home, stage, "ingest", str(path))
    _check(home, {row.article.id: "scoreboard" if stage == "committed" else "floodlight"})
    _writer(home, None, "ingest", str(path))
    _check(home, {row.article.id: "scoreboard"})


@pytest.mark.parametrize("stage", ["embedded", "vectors", "committed"])
def test_duplicate_pair_killed_never_points_at_a_missing_original(tmp_path, stage):
    home, path = tmp_path / "h", tmp_path / "wire.jsonl"
    story = _story("ferry", "gangway")
    records = [{"id": "ledger-1", "title": "Ferry decision", "body": story, "source": "Ledger"},
               {"id": "post-9", "title": "Ferry decided", "body": story.replace("day 3", "day three"),
                "source": "Post"}]
    path.write_text("\n".join(json.dumps(r) for r in records))
    _writer(home, stage, "ingest", str(path))
    if stage == "committed":
        _check(home, {"ledger-1": "gangway"}, {"post-9": "ledger-1"})
    else:
        _check(home, {})
    _writer(home, None, "ingest", str(path))
    _check(home, {"ledger-1": "gangway"}, {"post-9": "ledger-1"})


def test_removal_killed_after_its_step_leaves_it_gone_and_its_vectors_cleaned(tmp_path):
    home, path = tmp_path / "h", tmp_path / "wire.jsonl"
    story = _story("tram", "pantograph")
    records = [{"id": "tram-1", "title": "Tram decision", "body": story},
               {"id": "tram-copy", "title": "Tram decided", "body": story.replace("day 3", "day three")},
               {"id": "bridge-2", "title": "Bridge decision", "body": _story("bridge", "girder")}]
    path.write_text("\n".join(json.dumps(r) for r in records))
    _writer(home, None, "ingest", str(path))
    _check(home, {"tram-1": "pantograph", "bridge-2": "girder"}, {"tram-copy": "tram-1"})
    _writer(home, "removed", "remove", "tram-1")
    _check(home, {"bridge-2": "girder"})  # the copy went with its original


def _own_story(topic: str, marker: str) -> str:
    """A story no other topic's story is a near-duplicate of (its words drawn by a generator seeded by the topic)."""
    import random

    rng = random.Random(topic)
    nouns = ["budget", "council", "river", "school", "market", "railway", "museum", "harvest", "tunnel", "choir",
             "festival", "clinic", "stadium", "garden", "archive", "lantern", "pier", "mill", "bakery", "court"]
    sentences = [f"The {topic} {rng.choice(nouns)} met the {rng.choice(nouns)} {rng.choice(nouns)} on day {i} and "
                 f"the {marker} {rng.choice(nouns)} was read aloud." for i in range(12)]
    return f"The {topic} decision\n" + " ".join(sentences) + "\n"


@pytest.mark.parametrize("stage", STAGES)
def test_a_batch_of_many_articles_killed_at_each_stage_is_old_or_new_as_one(tmp_path, stage):
    """One write of many articles (a JSONL ingested as one batch: one generation, one catalog transaction, one
    vector batch), two of them updates: killed anywhere, every article is its old version or, at once, all new."""
    home, path = tmp_path / "h", tmp_path / "wire.jsonl"
    topics = ["canal", "orchard", "foundry", "quarry", "ferry", "abbey"]
    old = [{"id": f"{t}-1", "title": f"The {t} decision", "body": _own_story(t, f"{t}draft")} for t in topics[:2]]
    path.write_text("\n".join(json.dumps(r) for r in old))
    _writer(home, None, "ingest", str(path))
    new = [{"id": f"{t}-1", "title": f"The {t} decision", "body": _own_story(t, f"{t}vote")} for t in topics]
    path.write_text("\n".join(json.dumps(r) for r in new))
    _writer(home, stage, "ingest", str(path))
    if stage == "committed":
        _check(home, {f"{t}-1": f"{t}vote" for t in topics})
    else:
        _check(home, {f"{t}-1": f"{t}draft" for t in topics[:2]})
    _writer(home, None, "ingest", str(path))
    _check(home, {f"{t}-1": f"{t}vote" for t in topics})
