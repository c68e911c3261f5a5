"""What replicas share through the PostgreSQL catalog: ingest jobs taken once each (FOR UPDATE SKIP LOCKED),
leases that hand a dead worker's job on, jobs pinned to the machine holding their files, and one login
throttle for every replica."""

from __future__ import annotations

import threading
import time

import pytest

from rag.frontends.web.login import BASE_LOCK_SECONDS, MAX_FAILURES, LoginGuard
from rag.index.pg.catalog import PgCatalog
from rag.index.pg.jobs import MAX_ATTEMPTS
from rag.jobs.queue import QueueFull

pytestmark = pytest.mark.slow


@pytest.fixture
def catalogs(pg_url):
    """Two catalogs on one database: two replicas' views."""
    a, b = PgCatalog(pg_url), PgCatalog(pg_url)
    yield a, b
    a.close()
    b.close()


def test_workers_never_take_the_same_job(catalogs):
    queues = [c.job_queue() for c in catalogs]
    ids = [queues[0].submit([f"https://example.org/{i}"]) for i in range(30)]
    taken: dict[str, list[int]] = {"a": [], "b": [], "c": [], "d": []}

    def take(name: str, queue) -> None:
        while (job := queue.take(name)) is not None:
            taken[name].append(job.id)

    threads = [threading.Thread(target=take, args=(n, queues[i % 2])) for i, n in enumerate(taken)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    got = [i for ids_ in taken.values() for i in ids_]
    assert sorted(got) == ids  # every job once, none twice
    assert sum(bool(v) for v in taken.values()) >= 2  # shared out, not all by one


def test_a_job_whose_lease_ran_out_is_taken_again_then_failed_after_max_attempts(catalogs):
    q, other = (c.job_queue() for c in catalogs)
    job_id = q.submit(["https://example.org/a"])
    first = q.take("w1", lease_s=0.5)
    assert first.id == job_id and first.attempts == 1
    assert other.take("w2", lease_s=0.5) is None  # leased
    time.sleep(0.7)
    again = other.take("w2", lease_s=0.5)
    assert again.id == job_id and again.attempts == 2
    assert q.renew(job_id, "w1") is False and q.finish(job_id, "w1", "done", report={}) is False  # not w1's now
    assert other.renew(job_id, "w2", lease_s=0.5, done_inputs=3, label="x") is True
    assert other.get(job_id).done_inputs == 3
    for n in range(MAX_ATTEMPTS - 2):
        time.sleep(0.7)
        assert q.take(f"w{n + 3}", lease_s=0.5).id == job_id
    time.sleep(0.7)
    assert q.take("last") is None
    row = q.get(job_id)
    assert row.state == "failed" and "stopped answering" in row.error


def test_released_and_finished_jobs(catalogs):
    q = catalogs[0].job_queue()
    a, b = q.submit(["x"]), q.submit(["y"])
    assert q.ahead_of(b) == 1
    assert q.take("w").id == a
    q.release(a, "w")  # a worker shutting down hands its job back at once
    assert q.take("w2").id == a
    assert q.finish(a, "w2", "done", report={"added": 1})
    assert q.get(a).state == "done" and q.get(a).report == {"added": 1}
    assert q.status()["waiting"] == 1 and q.ahead_of(b) == 0
    with catalogs[0]._conn() as conn:  # a week later, finished jobs are forgotten at the next submit
        conn.execute("UPDATE jobs SET finished_at = now() - interval '8 days' WHERE id=%s", (a,))
    q.submit(["z"])
    assert q.get(a) is None and q.get(b) is not None


def test_jobs_naming_local_files_stay_on_their_machine_and_the_queue_is_bounded(catalogs):
    q = catalogs[0].job_queue()
    pinned = q.submit(["/data/a.txt"], host="machine-1")
    assert q.take("w", host="machine-2") is None
    assert q.take("w", host="machine-1").id == pinned
    for i in range(3):
        q.submit([f"u{i}"], max_waiting=3)
    with pytest.raises(QueueFull, match="try again"):
        q.submit(["one more"], max_waiting=3)


def test_the_login_throttle_is_one_for_every_replica(catalogs):
    now = [1000.0]
    a, b = (LoginGuard("editor", "pw", clock=lambda: now[0], store=c.login_store()) for c in catalogs)
    for i in range(MAX_FAILURES):  # wrong passwords spread over two replicas count as one run
        assert (a if i % 2 else b)("editor", "nope") is False
    assert a("editor", "pw") is False and b("editor", "pw") is False  # locked on both
    now[0] += BASE_LOCK_SECONDS + 0.01
    assert b("editor", "pw") is True
    assert a("editor", "nope") is False  # the count started again after the right password
    assert a("editor", "pw") is True


def test_newsrag_worker_takes_jobs_and_stops_on_sigterm(pg_url, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "NEWSRAG_HOME": str(tmp_path / "w"),
           "NEWSRAG_CATALOG_URL": pg_url}
    catalog = PgCatalog(pg_url)
    queue = catalog.job_queue()
    job_id = queue.submit(["https://127.0.0.1:9/not-public"])  # refused by the fetch policy: fails fast, no model
    proc = subprocess.Popen([sys.executable, "-m", "rag.frontends.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while queue.get(job_id).state in ("waiting", "running"):
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "the worker took no job"
            time.sleep(0.1)
        job = queue.get(job_id)
        assert job.state == "done" and job.report["failed"] == 1 and job.attempts == 1
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        catalog.close()
    no_catalog = subprocess.run([sys.executable, "-m", "rag.frontends.cli", "worker"], cwd=ROOT, capture_output=True, text=True,
                                env={**env, "NEWSRAG_CATALOG_URL": ""}, timeout=120)
    assert no_catalog.returncode != 0 and "NEWSRAG_CATALOG_URL" in no_catalog.stderr


def test_the_web_chats_job_queue_on_a_shared_catalog(catalogs):
    """IngestJobs with shared=: jobs go to the catalog, this server's thread works them (as one worker), `get`
    and `after` (the JSON API's job status and its temp-file cleanup) follow the catalog's record."""
    from rag.jobs.queue import IngestJobs

    ran, cleaned = [], threading.Event()

    def ingest(targets, progress):
        ran.append(targets)
        progress(1, targets[0])
        return {"added": 1, "items": {}}

    jobs = IngestJobs(ingest, shared=catalogs[0].job_queue(), lease_s=5.0)
    try:
        job = jobs.submit(["https://example.org/feed"], after=lambda j: cleaned.set())
        assert job.wait(30) and job.state == "done" and job.report == {"added": 1, "items": {}}
        assert cleaned.wait(10)
        again = jobs.get(job.id)
        assert again.state == "done" and again.targets == ["https://example.org/feed"] and again.done_inputs == 1
        assert jobs.get(job.id + 100) is None
        assert ran == [["https://example.org/feed"]]
        assert jobs.status()["running"] is None and "idle" in jobs.status_line()
    finally:
        assert jobs.shutdown(10)
