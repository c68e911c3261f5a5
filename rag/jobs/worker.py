"""Ingest as jobs in a shared catalog: `newsrag worker` takes them, and so does each web replica's worker thread.

With a catalog of one machine (SQLite) there is no job table: ingests run where they are asked (`ingest_as_job`
just ingests). With a shared catalog (NEWSRAG_CATALOG_URL) every ingest is a job: a worker takes the oldest open
one, renews its lease while it works (a heartbeat thread, so a long embedding batch does not lose it) and records
progress; if it dies, the lease runs out and another worker takes the job again. The Index's staged writes make
that safe: an article is stored whole or not at all, and the second worker finds what the first stored unchanged.
A CLI ingest or `watch` round is a job its own process works (`ingest_as_job`), so it is recorded, leased and,
if the process is killed, finished by a worker. Jobs naming local files are pinned to the machine holding them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any, Callable, Sequence

from rag.core.errors import NewsragError, StoreError

__all__ = ["JobWorker", "ingest_as_job", "pinned_host", "LEASE_SECONDS", "main"]

LEASE_SECONDS = 30.0  # a worker silent this long is presumed dead and its job taken again
POLL_SECONDS = 0.5  # an idle worker looks for a job this often
log = logging.getLogger("newsrag.worker")


class _Stopped(Exception):
    """This worker is shutting down: the job goes back to the queue (released, not failed)."""


class _LeaseLost(Exception):
    """Another worker took this job over: stop working on it, record nothing."""


def pinned_host(targets: Sequence[str]) -> str | None:
    """This machine's name when a target is a local file or folder (only a worker here can read it), else None."""
    return socket.gethostname() if any(os.path.exists(t) for t in targets) else None


def _portable(targets: Sequence[str]) -> list[str]:
    """Local paths made absolute (a worker on this machine may run in another folder); URLs unchanged."""
    return [os.path.abspath(t) if os.path.exists(t) else t for t in targets]


class JobWorker:
    """Takes jobs from a JobQueue and runs `ingest(targets, progress=...)` -> IngestReport for each."""

    def __init__(self, queue, ingest: Callable[..., Any], *, name: str | None = None,
                 lease_s: float = LEASE_SECONDS) -> None:
        self.queue, self.ingest, self.lease_s = queue, ingest, lease_s
        self.host = socket.gethostname()
        self.name = name or f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def run(self, stop: threading.Event) -> None:
        """Take and work jobs until `stop` is set; a catalog outage is waited out (logged), not fatal."""
        log.info("worker %s: taking jobs", self.name)
        while not stop.is_set():
            try:
                job = self.queue.take(self.name, lease_s=self.lease_s, host=self.host)
            except StoreError as exc:
                log.warning("worker %s: %s", self.name, exc)
                stop.wait(2.0)
                continue
            if job is None:
                stop.wait(POLL_SECONDS)
                continue
            log.info("worker %s: job %d: %d input(s)", self.name, job.id, len(job.targets))
            state, detail = self.work(job.id, job.targets, stop)
            log.info("worker %s: job %d %s%s", self.name, job.id, state, f": {detail}" if state == "failed" else "")

    def work(self, job_id: int, targets: Sequence[str], stop: threading.Event | None = None,
             **ingest_kw: Any) -> tuple[str, Any]:
        """Run one job this worker holds: ("done", report) | ("failed", message) | ("stopped" or "lost", None)."""
        lost, done = threading.Event(), threading.Event()
        seen = {"n": None, "label": None}

        def heartbeat() -> None:
            while not done.wait(self.lease_s / 3):
                try:
                    if not self.queue.renew(job_id, self.name, lease_s=self.lease_s, done_inputs=seen["n"],
                                            label=seen["label"]):
                        lost.set()
                        return
                except StoreError as exc:  # the catalog is away: keep trying; the lease may run out meanwhile
                    log.warning("worker %s: lease of job %d not renewed: %s", self.name, job_id, exc)

        def progress(n: int, label: str) -> None:
            seen["n"], seen["label"] = n, label
            outer = ingest_kw.get("progress")
            if outer is not None:
                outer(n, label)
            if lost.is_set():
                raise _LeaseLost
            if stop is not None and stop.is_set():
                raise _Stopped

        beat = threading.Thread(target=heartbeat, name=f"newsrag-lease-{job_id}", daemon=True)
        beat.start()
        kw = {k: v for k, v in ingest_kw.items() if k != "progress"}
        try:
            report = self.ingest(list(targets), progress=progress, **kw)
        except _Stopped:
            done.set()
            self._quietly(self.queue.release, job_id, self.name)
            return "stopped", None
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM in a CLI ingest: the user stopped it, nobody goes on with it
            done.set()
            self._quietly(self.queue.finish, job_id, self.name, "stopped", error="Stopped by its user.")
            raise
        except _LeaseLost:
            log.warning("worker %s: job %d was taken over by another worker; stopped working on it", self.name,
                        job_id)
            return "lost", None
        except NewsragError as exc:
            done.set()
            self._quietly(self.queue.finish, job_id, self.name, "failed", error=str(exc))
            return "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - the worker must outlive one bad ingest
            log.exception("worker %s: job %d failed", self.name, job_id)
            message = (f"Something went wrong while ingesting ({type(exc).__name__}); the worker's log has the "
                       "details.")
            done.set()
            self._quietly(self.queue.finish, job_id, self.name, "failed", error=message)
            return "failed", message
        finally:
            done.set()
        result = report.to_dict() if hasattr(report, "to_dict") else report
        if not self._quietly(self.queue.finish, job_id, self.name, "done", report=result, done_inputs=seen["n"]):
            log.warning("worker %s: job %d finished after another worker took it over", self.name, job_id)
        return "done", report

    def _quietly(self, call, *args, **kw) -> bool:
        try:
            return call(*args, **kw) is not False
        except StoreError as exc:  # the job's record waits for the catalog; its lease then hands it on
            log.warning("worker %s: could not record the job's end: %s", self.name, exc)
            return False


def ingest_as_job(ingestor, targets: Sequence[str], **kw: Any):
    """Ingest `targets` with `ingestor` (progress= and embed_progress= as Ingestor.ingest takes them). With a
    shared catalog the ingest is a job this process holds and works; killed, a worker finishes it."""
    index = getattr(ingestor, "index", None)
    queue = index.job_queue() if index is not None else None
    if queue is None:
        return ingestor.ingest(targets, **kw)
    targets = _portable(targets)
    worker = JobWorker(queue, ingestor.ingest, lease_s=ingestor.settings.job_lease_seconds)
    job_id = queue.submit(targets, worker=worker.name, lease_s=worker.lease_s, host=pinned_host(targets))
    state, result = worker.work(job_id, targets, **kw)
    if state == "failed":
        raise NewsragError(result)
    if state != "done":
        raise NewsragError(f"Ingest job {job_id} was taken over by a worker before it finished; it goes on there.")
    return result


def main(settings, *, stop: threading.Event | None = None) -> int:
    """`newsrag worker`: work ingest jobs from the shared catalog until stopped (SIGTERM, Ctrl-C)."""
    from ingest import Ingestor

    ingestor = Ingestor(settings)
    queue = ingestor.index.job_queue()
    if queue is None:
        from rag.core.errors import SettingsError

        raise SettingsError("`newsrag worker` takes jobs from a shared catalog: set NEWSRAG_CATALOG_URL=postgresql://"
                            "… (docs/DEPLOY.md). With the default SQLite catalog, ingest runs where it is asked.")
    stop = stop or threading.Event()
    JobWorker(queue, ingestor.ingest, lease_s=settings.job_lease_seconds).run(stop)
    return 0
