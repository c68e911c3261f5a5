"""Many processes on one PostgreSQL catalog and one Chroma server (each with a NEWSRAG_HOME of its own, as on
separate machines): a worker SIGKILLed at each stage of a job leaves every article stored once, old or new, and
the next worker finishes the job after the lease; two replicas see a committed article within 2 s; PostgreSQL
stopped for 5 s under questions, ingests and a worker gives clear errors, then everything recovers by itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest import Ingestor
from rag.core.errors import StoreError
from rag.core.settings import Settings
from rag.index import Index
from rag.jobs.worker import JobWorker, ingest_as_job

from .conftest import ROOT
from .fake_embedder import FakeEmbedder
from .test_chroma_server import chroma_server  # noqa: F401 - a `chroma run` on 127.0.0.1 for this module

pytestmark = pytest.mark.slow
STAGES = ["staged", "embedded", "vectors", "committed"]


def _story(topic: str, marker: str) -> str:
    sentences = [f"The {topic} board met on day {i} and the {marker} proposal was read aloud to residents."
                 for i in range(12)]
    return f"The {topic} decision\n" + " ".join(sentences) + "\n"


def _settings(home: Path, url: str, chroma: int, collection: str) -> Settings:
    return Settings(home=home, catalog_url=url, chroma_host="127.0.0.1", chroma_port=chroma, collection=collection,
                    chunk_min_words=20, chunk_max_words=40, job_lease_seconds=1.0, llm="extractive")


def _env(s: Settings, stage: str | None = None) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "NEWSRAG_CATALOG_URL": s.catalog_url,
           "NEWSRAG_CHROMA_HOST": s.chroma_host, "NEWSRAG_CHROMA_PORT": str(s.chroma_port),
           "NEWSRAG_COLLECTION": s.collection, "NEWSRAG_JOB_LEASE_SECONDS": "1.0"}
    if stage:
        env["NEWSRAG_TEST_PAUSE_AT"] = stage
    return env


def _process(s: Settings, stage: str | None, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.index_scenarios", str(s.home), *args], cwd=ROOT,
                            env=_env(s, stage), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_at(proc: subprocess.Popen, home: Path, stage: str) -> None:
    marker = home / f"paused-at-{stage}"
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert proc.poll() is None, f"the worker ended before {stage}: {proc.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, f"the worker never reached {stage}"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    marker.unlink()


def _finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-3000:]
    return out


def _check(replicas: list[Index], expect: dict[str, str]) -> None:
    """Each replica: every expected article once, found by its word in both searches; nothing staged; the
    vector store holding the live versions (after the retired ones were deleted)."""
    fake = FakeEmbedder()
    for index in replicas:
        rows = index.articles()
        assert sorted(r.article.id for r in rows) == sorted(expect)
        assert index.catalog.pending_ids() == []
        for row in rows:
            word = expect[row.article.id]
            assert word in row.article.text
            assert row.article.id in {p.split(":")[0] for p, _ in index.keyword(word, 5)}, word
            assert row.article.id in {h.article_id for h in index.dense(fake.embed_one(f"The decision {word}"), 50)}
    index = replicas[0]
    live = set(index.catalog.vids_of([p.id for p in index.passages()]).values())
    assert index.vectors.count() == len(live) + index.catalog.trash_count()


def test_a_worker_killed_at_each_stage_leaves_each_article_once_and_the_job_is_finished(
        pg_url, chroma_server, tmp_path):  # noqa: F811
    s = {name: _settings(tmp_path / name, pg_url, chroma_server, "killed") for name in ("cli", "w1", "w2", "r1", "r2")}
    news = tmp_path / "news"
    news.mkdir()
    (news / "harbour.txt").write_text(_story("harbour", "quayside"))
    _finish(_process(s["cli"], None, "ingest", str(news)))  # a CLI ingest on a third "machine"
    replicas = [Index(s["r1"], vectors=None), Index(s["r2"], vectors=None)]
    harbour = replicas[0].articles()[0].article.id
    expect = {harbour: "quayside"}
    queue = replicas[0].job_queue()
    for n, stage in enumerate(STAGES):
        marker = f"marker{n}"
        (news / "harbour.txt").write_text(_story("harbour", marker))  # an update
        (news / f"new{n}.txt").write_text(_story(f"topic{n}", f"fresh{n}"))  # an addition
        job_id = queue.submit([str(news)])
        _kill_at(_process(s["w1"], stage, "work"), s["w1"].home, stage)
        row = queue.get(job_id)
        assert row.state == "running" and row.attempts == 1  # held by the dead worker until its lease runs out
        out = _finish(_process(s["w2"], None, "work"))
        assert f"{job_id} done" in out
        row = queue.get(job_id)
        assert row.state == "done" and row.attempts == 2
        news_ids = {r.article.title: r.article.id for r in replicas[1].articles()}
        expect[harbour] = marker
        expect[news_ids[f"The topic{n} decision"]] = f"fresh{n}"
        if stage == "committed":  # the dead worker had made its write live: the second found it unchanged
            assert row.report["unchanged"] == n + 2 and row.report["added"] == 0
        else:
            assert row.report["updated"] == 1 and row.report["added"] == 1
        _check(replicas, expect)
    # a CLI ingest (a job its own process holds) killed mid-write: a worker finishes it once its lease runs out
    (news / "harbour.txt").write_text(_story("harbour", "lastword"))
    _kill_at(_process(s["cli"], "embedded", "ingest-job", str(news)), s["cli"].home, "embedded")
    (cli_job,) = [j for j in range(1, 20) if (row := queue.get(j)) is not None and row.state == "running"]
    assert f"{cli_job} done" in _finish(_process(s["w2"], None, "work"))
    expect[harbour] = "lastword"
    _check(replicas, expect)
    for index in replicas:
        index.close()


def _watch(settings: Settings, word: str, seen: dict, stop: threading.Event) -> None:
    """A replica asking every 20 ms until both searches find `word`; records when."""
    index, fake = Index(settings), FakeEmbedder()
    try:
        _ask_until(index, fake, settings, word, seen, stop)
    finally:
        index.close()


def _ask_until(index, fake, settings, word, seen, stop) -> None:
    while not stop.is_set():
        try:
            if index.keyword(word, 5) and any(h.article_id.startswith("fresh") for h in index.dense(
                    fake.embed_one(f"The decision {word}"), 5)):
                seen[settings.home.name] = time.monotonic()
                return
        except Exception as exc:  # noqa: BLE001 - reported by the test if it never sees the article
            seen["error"] = repr(exc)
        time.sleep(0.02)


def test_two_replicas_see_a_committed_article_within_two_seconds(pg_url, chroma_server, tmp_path):  # noqa: F811
    s = {name: _settings(tmp_path / name, pg_url, chroma_server, "fresh") for name in ("writer", "r1", "r2")}
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "fresh-1", "title": "Canal", "body": _story("canal", "lockkeeper")}) + "\n")
    writer = Ingestor(s["writer"], embedder=FakeEmbedder())
    writer.ingest([str(tmp_path / "nothing-yet")])  # opened and warm, like a running process
    seen: dict[str, float] = {}
    stop = threading.Event()
    threads = [threading.Thread(target=_watch, args=(s[r], "lockkeeper", seen, stop)) for r in ("r1", "r2")]
    for t in threads:
        t.start()
    time.sleep(1.0)
    assert seen == {}
    report = writer.ingest([str(path)])
    committed = time.monotonic()
    assert report.counts()["added"] == 1, report.to_dict()
    for t in threads:
        t.join(10)
    stop.set()
    writer.index.close()
    assert {"r1", "r2"} <= set(seen), seen
    assert max(seen["r1"], seen["r2"]) - committed < 2.0, seen


def test_postgresql_stopped_for_five_seconds_then_everything_recovers(pg_server, pg_url, chroma_server,
                                                                       tmp_path):  # noqa: F811
    s = {name: _settings(tmp_path / name, pg_url, chroma_server, "restart") for name in ("writer", "r1", "w")}
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(_story("orchard", "cider"))
    b.write_text(_story("foundry", "anvil"))
    writer = Ingestor(s["writer"], embedder=FakeEmbedder())
    writer.ingest([str(a)])
    reader = Index(s["r1"])
    assert reader.keyword("cider", 5)
    worker_ingestor = Ingestor(s["w"], embedder=FakeEmbedder())
    worker = JobWorker(worker_ingestor.index.job_queue(), worker_ingestor.ingest, lease_s=1.0)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        pg_server.stop()
        t0 = time.monotonic()
        with pytest.raises(StoreError, match="not answering.*try again"):
            reader.keyword("cider", 5)  # a question: a clear error, quickly
        assert time.monotonic() - t0 < 10
        with pytest.raises(StoreError, match="PostgreSQL"):
            writer.ingest([str(b)])  # a write: a clear error
        time.sleep(max(0.0, 5.0 - (time.monotonic() - t0)))
        pg_server.start()
        assert reader.keyword("cider", 5)  # recovered by itself, same objects
        report = ingest_as_job(writer, [str(b)])  # an ingest, as a job, after the restart
        assert report.counts()["added"] == 1
        assert reader.keyword("anvil", 5)
        job_id = writer.index.job_queue().submit(["https://127.0.0.1:9/nothing-here"])
        deadline = time.monotonic() + 30
        while writer.index.job_queue().get(job_id).state in ("waiting", "running"):
            assert time.monotonic() < deadline, "the worker did not take a job after the restart"
            time.sleep(0.1)
        assert writer.index.job_queue().get(job_id).worker == worker.name  # its loop outlived the outage
    finally:
        stop.set()
        thread.join(30)
        for index in (reader, writer.index, worker_ingestor.index):
            index.close()


def test_a_replica_answers_from_its_read_copy_while_postgresql_is_stopped(pg_server, pg_url, chroma_server,
                                                                          tmp_path):  # noqa: F811
    from rag.answer.answerers.extractive import ExtractiveAnswerer
    from rag.answer.assistant import Assistant
    from rag.answer.retriever import Retriever
    from rag.index.read_mirror import MirroredCatalog

    s = {name: _settings(tmp_path / name, pg_url, chroma_server, "mirror") for name in ("writer", "replica")}
    stories = {name: tmp_path / f"{name}.txt" for name in ("orchard", "foundry", "harbour", "quarry")}
    for (name, path), marker in zip(stories.items(), ("cider", "anvil", "ferry", "granite")):
        path.write_text(_story(name, marker))
    writer = Ingestor(s["writer"], embedder=FakeEmbedder())
    writer.ingest([str(stories["orchard"]), str(stories["foundry"])])
    index = Index(s["replica"])
    assistant = Assistant(Retriever(s["replica"], index=index, embedder=FakeEmbedder()), ExtractiveAnswerer(),
                          settings=s["replica"])
    assert index.keep_read_mirror() and isinstance(index.catalog, MirroredCatalog)
    mirrored = index.catalog
    deadline = time.monotonic() + 30
    while mirrored.mirror.mirrored_version() != mirrored.primary.version():  # the first copy, in the background
        assert time.monotonic() < deadline, "the read copy was not made"
        time.sleep(0.1)
    gone = [r.article.id for r in writer.index.articles() if "orchard" in r.article.title.lower()]
    writer.index.remove(gone)  # a removal reaches the copy too
    writer.ingest([str(stories["harbour"])])
    while mirrored.mirror.mirrored_version() != mirrored.primary.version():
        assert time.monotonic() < deadline, "the read copy did not follow the catalog"
        time.sleep(0.1)
    question = "What happened to the ferry proposal?"
    before = assistant.ask(question)
    want_keywords, want_stats = index.keyword("ferry proposal", 5), index.stats()
    assert not before.refused and "ferry" in before.text
    try:
        pg_server.stop()
        t0 = time.monotonic()
        during = assistant.ask(question)  # answered from the copy, not an error
        assert time.monotonic() - t0 < 10
        assert mirrored.answering_from_copy()
        assert during.text == before.text and [c.passage_id for c in during.citations] == \
            [c.passage_id for c in before.citations]
        got = index.keyword("ferry proposal", 5)  # FTS5 in the copy ranks as PostgreSQL did
        assert [p for p, _ in got] == [p for p, _ in want_keywords] and got
        assert index.stats() == want_stats
        assert gone and not [p for p, _ in index.keyword("cider", 5) if p.split(":")[0] in gone]  # removed, in the copy too
        with pytest.raises(StoreError, match="PostgreSQL"):
            writer.ingest([str(stories["quarry"])])  # a write: the catalog's clear error, nothing half-written
    finally:
        pg_server.start()
    deadline = time.monotonic() + 30
    while mirrored.answering_from_copy():  # the sync thread reaches PostgreSQL again; reads go back to it
        assert time.monotonic() < deadline, "reads never went back to PostgreSQL"
        time.sleep(0.1)
    assert writer.ingest([str(stories["quarry"])]).counts()["added"] == 1  # writes work again
    assert assistant.ask(question).text == before.text
    for i in (index, writer.index):
        i.close()


def test_migrate_copies_an_embedded_store_without_embedding_again(sample_settings, pg_url, chroma_server,
                                                                   tmp_path, capsys):  # noqa: F811
    from rag.answer.assistant import Assistant
    from rag.frontends.cli import main

    from .conftest import SEED_QUESTION

    extra = tmp_path / "wire.jsonl"
    story = _story("ferry", "gangway")
    extra.write_text("\n".join(json.dumps(r) for r in [
        {"id": "ledger-1", "title": "Ferry decision", "body": story, "source": "Ledger"},
        {"id": "post-9", "title": "Ferry decided", "body": story.replace("day 3", "day three"), "source": "Post"}]))
    assert Ingestor(sample_settings).ingest([str(extra)]).counts()["duplicates"] == 1
    argv = ["--home", str(sample_settings.home), "migrate", "--to", pg_url, "--chroma", f"127.0.0.1:{chroma_server}",
            "--collection", "migrated"]
    assert main(argv) == 0
    assert "copied 3 articles" in capsys.readouterr().err
    target = sample_settings.replace(catalog_url=pg_url, chroma_host="127.0.0.1", chroma_port=chroma_server,
                                     collection="migrated", home=tmp_path / "elsewhere")
    before, after = Index(sample_settings), Index(target)
    assert after.stats() == before.stats()
    assert after.get("post-9").duplicate_of == "ledger-1" and after.quotes_indexed()
    assert after.vectors.count() == before.stats()["passages"]
    got, want = after.keyword("gangway proposal", 10), before.keyword("gangway proposal", 10)
    assert [p for p, _ in got] == [p for p, _ in want] and got  # scores agree to float rounding
    assert all(abs(a - b) < 1e-9 for (_, a), (_, b) in zip(got, want))
    answer = Assistant.from_settings(target).ask(SEED_QUESTION)
    assert not answer.refused and answer.citations
    before.close()
    after.close()
    assert main(argv) == 0  # run again: everything is already there
    assert "copied 0 articles" in capsys.readouterr().err


def test_two_served_replicas_share_ingest_jobs_and_coverage(sample_settings, pg_url, chroma_server,
                                                             tmp_path):  # noqa: F811
    """Two web chats (real HTTP) on one catalog: a file uploaded to the first becomes a job in the catalog,
    and the second answers from the article it added."""
    from gradio_client import Client, handle_file

    from rag.answer.assistant import Assistant
    from rag.frontends.web.page import launch, shutdown
    from rag.index.copy_store import copy_store

    from .pg_server import _free_port

    shared = dict(catalog_url=pg_url, chroma_host="127.0.0.1", chroma_port=chroma_server, collection="served")
    copy_store(sample_settings, sample_settings.replace(**shared))
    demos = []
    try:
        for name in ("r1", "r2"):
            settings = sample_settings.replace(home=tmp_path / name, host="127.0.0.1", port=_free_port(), **shared)
            demos.append(launch(Assistant.from_settings(settings), settings, prevent_thread_lock=True, quiet=True))
        first, second = (Client(d.local_url, verbose=False, download_files=False) for d in demos)
        path = tmp_path / "harbour.jsonl"
        path.write_text(json.dumps({"id": "harbour-1", "title": "Harbour vote", "source": "Ledger",
                                    "body": "The Wrenmouth harbour board voted on Tuesday to build a floating "
                                            "library on the old ferry Gull. " * 3}) + "\n")
        report = first.predict([handle_file(str(path))], "", api_name="/ingest")
        assert "Added 1" in report
        catalog = Index(sample_settings.replace(home=tmp_path / "r3", **shared))
        job = catalog.job_queue().get(1)  # the upload went through the catalog's job table
        catalog.close()
        assert job.state == "done" and job.report["added"] == 1 and job.worker
        answer = second.predict("What will the Wrenmouth harbour board build?", api_name="/ask")
        assert any(c["title"] == "Harbour vote" for c in answer["citations"]), answer
        status = second.predict(api_name="/ingest_status")
        assert status["running"] is None and status["waiting"] == 0
    finally:
        for demo in demos:
            shutdown(demo, timeout=30)


class _SlowEmbedder(FakeEmbedder):
    """Embeds like FakeEmbedder, taking `seconds` a call: two writers' embedding shows up as overlap in time."""

    def __init__(self, seconds: float, spans: list) -> None:
        self.seconds, self.spans = seconds, spans

    def embed(self, texts):
        start = time.monotonic()
        time.sleep(self.seconds)
        self.spans.append((start, time.monotonic()))
        return super().embed(texts)


def test_two_workers_embed_side_by_side_and_store_each_article_once(pg_url, chroma_server, tmp_path):  # noqa: F811
    """Two ingests of overlapping inputs at once (two workers): their embedding overlaps (the writer lock is held
    per batch write only) and every article is stored once: the same record, or the same text at another url."""
    s = {n: _settings(tmp_path / n, pg_url, chroma_server, "side") for n in ("w1", "w2")}
    records = [{"id": f"story-{t}", "title": f"The {t} decision", "body": _story(t, f"{t}mark"),
                "url": f"https://one.example/{t}"} for t in ("canal", "orchard", "foundry")]
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("\n".join(json.dumps(r) for r in records))
    moved = [{**r, "id": r["id"] + "-copy", "url": r["url"].replace("one", "two")} for r in records]
    second.write_text("\n".join(json.dumps(r) for r in [records[0], *moved[1:]]))  # same record, same texts elsewhere
    spans: list[tuple[float, float]] = []
    ingestors = [Ingestor(s[n], embedder=_SlowEmbedder(2.0, spans)) for n in ("w1", "w2")]
    reports: dict[int, object] = {}

    def run(i: int, path: Path) -> None:
        reports[i] = ingestors[i].ingest([str(path)])

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    counts = [reports[i].counts() for i in (0, 1)]
    assert counts[0]["added"] + counts[1]["added"] == 3, counts
    assert counts[0]["unchanged"] + counts[1]["unchanged"] == 3, counts
    index = ingestors[0].index
    assert sorted(r.article.content_hash for r in index.articles()) == sorted(
        {r.article.content_hash for r in index.articles()})  # no text stored twice
    assert len(index.articles()) == 3
    (a0, a1), (b0, b1) = sorted(spans)
    assert b0 < a1, f"the two embeddings ran one after the other: {spans}"  # side by side, not in turn
    for ing in ingestors:
        ing.index.close()
