"""Ingest work for the web chat, off the request path: a bounded queue and one worker thread.

With a shared catalog (NEWSRAG_CATALOG_URL) the queue is the catalog's job table (`shared`): a job submitted on
one replica may be run by any worker (rag/jobs/worker.py), this server's thread being one of them, and its state is
read back from the catalog.

Questions never wait for an ingest: the worker runs beside them (the store takes one writer at a time anyway),
a full queue is refused with a message instead of piling up, every job reports its progress, and `shutdown`
stops between inputs, so whatever was written stays whole (articles already flushed are kept; the batch in
memory is dropped, never half-written).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from rag.core.errors import NewsragError, QueueFull

__all__ = ["IngestJobs", "Job", "QueueFull", "MAX_WAITING"]

MAX_WAITING = 8  # ingests queued behind the running one; more are refused (the message says to retry)
KEEP_FINISHED = 100  # finished jobs kept for `get` (the JSON API's GET /api/jobs/{id}); older ones are forgotten
log = logging.getLogger("newsrag.web")


class _Stopped(Exception):
    """Raised from the progress callback to stop an ingest between two inputs."""


@dataclass
class Job:
    id: int
    targets: list[str]
    state: str = "waiting"  # waiting | running | done | failed | stopped
    done_inputs: int = 0
    label: str = ""
    report: dict[str, Any] | None = None
    error: str | None = None
    queued_at: float = field(default_factory=time.monotonic)
    after: Callable[["Job"], None] | None = field(default=None, repr=False)  # called once it has finished
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait(self, timeout: float | None = None) -> bool:
        """True once the job has finished (done, failed or stopped)."""
        return self._finished.wait(timeout)


@dataclass
class SharedJob(Job):
    """A job in the shared catalog: its state is read from there while `wait` polls."""

    queue: Any = None

    def wait(self, timeout: float | None = None) -> bool:
        deadline = time.monotonic() + (timeout or 0.0)
        while True:
            row = self.queue.get(self.id)
            if row is not None:
                self.state, self.done_inputs, self.label = row.state, row.done_inputs, row.label
                self.report, self.error = row.report, row.error
                if row.state not in ("waiting", "running"):
                    return True
            if timeout is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


class IngestJobs:
    """`submit(targets)` -> a Job that one background worker runs with `ingest(targets, progress)`."""

    def __init__(self, ingest: Callable[..., Any], *, max_waiting: int = MAX_WAITING, shared: Any = None,
                 lease_s: float = 30.0) -> None:
        self._ingest = ingest
        self._lease_s = lease_s
        self._shared = shared  # the catalog's JobQueue, or None: this process's queue
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._max_waiting = max_waiting
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting: list[Job] = []
        self._running: Job | None = None
        self._known: dict[int, Job] = {}  # every job not yet forgotten, by id (oldest first)
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._run if shared is None else self._run_shared,
                                        name="newsrag-ingest", daemon=True)
        self._worker.start()

    def _run_shared(self) -> None:
        from rag.jobs.worker import JobWorker

        JobWorker(self._shared, self._ingest, lease_s=self._lease_s).run(self._stopping)

    def submit(self, targets: Sequence[str], *, after: Callable[[Job], None] | None = None) -> Job:
        """Queue an ingest of `targets`; `after(job)` runs once it has finished (done, failed or stopped)."""
        if self._stopping.is_set():
            raise QueueFull("The server is shutting down: ingest again once it is back.")
        if self._shared is not None:
            from rag.jobs.worker import _portable, pinned_host

            targets = _portable(targets)
            job_id = self._shared.submit(targets, max_waiting=self._max_waiting, host=pinned_host(targets))
            job = SharedJob(job_id, list(targets), after=after, queue=self._shared)
            if after is not None:  # whichever worker runs it, `after` runs here once the catalog says it finished
                threading.Thread(target=self._after_shared, args=(job,), name=f"newsrag-after-{job_id}",
                                 daemon=True).start()
            return job
        with self._lock:
            if len(self._waiting) >= self._max_waiting:
                raise QueueFull(f"{len(self._waiting)} ingests are already waiting: try again in a few minutes.")
            job = Job(next(self._ids), list(targets), after=after)
            self._waiting.append(job)
            self._known[job.id] = job
            while len(self._known) > KEEP_FINISHED + self._max_waiting + 1:
                oldest = next(iter(self._known.values()))
                if not oldest.wait(0):
                    break
                del self._known[oldest.id]
        self._queue.put(job)
        return job

    def get(self, job_id: int) -> Job | None:
        """The job with this id, while it waits, runs, or is among the last finished ones."""
        if self._shared is not None:
            if self._shared.get(job_id) is None:
                return None
            job = SharedJob(job_id, [], queue=self._shared)
            job.wait(0)  # its state, read from the catalog
            job.targets = list(self._shared.get(job_id).targets)
            return job
        with self._lock:
            return self._known.get(job_id)

    def _after_shared(self, job: "SharedJob") -> None:
        while not self._stopping.is_set():
            try:
                if job.wait(2.0):
                    break
            except NewsragError as exc:  # the catalog is away: ask again
                log.warning("web: ingest job %d: %s", job.id, exc)
                self._stopping.wait(2.0)
        else:
            return
        try:
            job.after(job)
        except Exception:  # noqa: BLE001 - a cleanup must not stop anything else
            log.exception("web: cleanup after ingest job %d failed", job.id)

    def ahead_of(self, job: Job) -> int:
        """How many jobs run before this one (0 when it is running or finished)."""
        if self._shared is not None:
            return self._shared.ahead_of(job.id)
        with self._lock:
            if job not in self._waiting:
                return 0
            return self._waiting.index(job) + (self._running is not None)

    def status(self) -> dict[str, Any]:
        if self._shared is not None:
            try:
                return {**self._shared.status(), "stopping": self._stopping.is_set()}
            except NewsragError as exc:  # the catalog is away: say so instead of failing the page's timer
                return {"running": None, "waiting": 0, "stopping": self._stopping.is_set(), "unavailable": str(exc)}
        with self._lock:
            running = self._running
            return {"running": None if running is None else {"id": running.id, "inputs_read": running.done_inputs,
                                                              "label": running.label},
                    "waiting": len(self._waiting), "stopping": self._stopping.is_set()}

    def status_line(self) -> str:
        s = self.status()
        if s["stopping"]:
            return "Ingest: stopping (the server is shutting down)."
        if s.get("unavailable"):
            return "Ingest: status unavailable (the catalog is not answering; it is retried)."
        if not s["running"]:
            return "Ingest: idle." if not s["waiting"] else f"Ingest: {s['waiting']} waiting."
        read = s["running"]["inputs_read"]
        line = f"Ingest: running ({read} input{'' if read == 1 else 's'} read)"
        return line + (f", {s['waiting']} waiting." if s["waiting"] else ".")

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Refuse new jobs, stop the running one at its next input, drop the waiting ones; True if the worker
        ended within `timeout` seconds."""
        self._stopping.set()
        with self._lock:
            dropped, self._waiting = self._waiting, []
        for job in dropped:
            self._finish(job, "stopped", error="The server shut down before this ingest started.")
        self._queue.put(None)
        self._worker.join(timeout)
        return not self._worker.is_alive()

    # -- the worker --------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None or self._stopping.is_set():
                if job is not None:
                    self._finish(job, "stopped", error="The server shut down before this ingest started.")
                return
            with self._lock:
                if job not in self._waiting:
                    continue
                self._waiting.remove(job)
                self._running, job.state = job, "running"
            try:
                report = self._ingest(job.targets, progress=lambda n, label, job=job: self._progress(job, n, label))
                job.report = report.to_dict() if hasattr(report, "to_dict") else report
                self._finish(job, "done")
            except _Stopped:
                self._finish(job, "stopped", error=(
                    f"Stopped after {job.done_inputs} inputs: the server is shutting down. What was written before "
                    "stays; ingest the rest again (copies already stored are recognised)."))
            except NewsragError as exc:
                self._finish(job, "failed", error=str(exc))
            except Exception as exc:  # noqa: BLE001 - the worker must outlive one bad ingest
                log.exception("web: ingest job %d failed", job.id)
                self._finish(job, "failed", error=f"Something went wrong while ingesting ({type(exc).__name__}); "
                                                  "the server log has the details.")
            finally:
                with self._lock:
                    if self._running is job:
                        self._running = None

    def _progress(self, job: Job, n: int, label: str) -> None:
        job.done_inputs, job.label = n, label
        if self._stopping.is_set():
            raise _Stopped

    def _finish(self, job: Job, state: str, *, error: str | None = None) -> None:
        with self._lock:  # no longer "running" by the time anyone waiting on the job sees it finish
            job.state, job.error = state, error
            if self._running is job:
                self._running = None
        job._finished.set()
        if job.after is not None:
            try:
                job.after(job)
            except Exception:  # noqa: BLE001 - a cleanup must not stop the worker
                log.exception("web: cleanup after ingest job %d failed", job.id)
