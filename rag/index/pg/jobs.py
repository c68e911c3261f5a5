"""Ingest jobs in the PostgreSQL catalog, shared by every process: web replicas and `watch` put jobs in, any
number of `newsrag worker` processes (and each web replica's own worker thread) take them out.

A worker takes the oldest open job with `FOR UPDATE SKIP LOCKED`, so two workers never take the same one and
neither waits on the other, and holds it under a lease it renews while it works. A job whose lease ran out (its
worker died or lost the catalog) is taken again by the next worker; after MAX_ATTEMPTS takes it is failed, so
an input that kills every worker does not go round for ever. A worker whose lease was taken over finds out at
its next renewal and stops; what it had written is whole (the Index's staged writes), and the new taker finds
those articles stored and unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

__all__ = ["JobQueue", "JobRow", "MAX_ATTEMPTS"]

MAX_ATTEMPTS = 3
_OPEN = "(state='waiting' OR (state='running' AND lease_until < now()))"


@dataclass
class JobRow:
    id: int
    targets: list[str]
    state: str  # waiting | running | done | failed | stopped
    worker: str | None
    attempts: int
    done_inputs: int
    label: str
    report: dict[str, Any] | None
    error: str | None


_COLS = "id, targets, state, worker, attempts, done_inputs, label, report, error"


def _job(r: tuple) -> JobRow:
    return JobRow(r[0], list(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8])


class JobQueue:
    def __init__(self, catalog) -> None:
        self._catalog = catalog  # a PgCatalog: its pool and its error messages

    def submit(self, targets: Sequence[str], *, max_waiting: int | None = None, worker: str | None = None,
               lease_s: float = 30.0, host: str | None = None) -> int:
        """Queue a job; returns its id. With `worker`, the job is taken by that worker at once (a CLI ingest that
        works its own job: nobody else takes it while its lease holds). With `host`, only workers on that machine
        take it (its targets are files there). Over `max_waiting` waiting jobs the job is refused (QueueFull,
        from rag.jobs.queue)."""
        with self._catalog._tx() as conn:
            if max_waiting is not None:
                conn.execute("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE")  # the count and the insert, together
                waiting = conn.execute("SELECT COUNT(*) FROM jobs WHERE state='waiting'").fetchone()[0]
                if waiting >= max_waiting:
                    from rag.core.errors import QueueFull

                    raise QueueFull(f"{waiting} ingests are already waiting: try again in a few minutes.")
            if worker is None:
                row = conn.execute("INSERT INTO jobs (targets, host) VALUES (%s, %s) RETURNING id",
                                   (json.dumps(list(targets)), host)).fetchone()
            else:
                row = conn.execute("INSERT INTO jobs (targets, host, state, worker, lease_until, attempts) VALUES"
                                   " (%s, %s, 'running', %s, now() + make_interval(secs => %s), 1) RETURNING id",
                                   (json.dumps(list(targets)), host, worker, lease_s)).fetchone()
            # finished jobs are kept a week, then forgotten
            conn.execute("DELETE FROM jobs WHERE finished_at < now() - interval '7 days'")
            return row[0]

    def take(self, worker: str, *, lease_s: float = 30.0, host: str | None = None) -> JobRow | None:
        """The oldest open job (waiting, or running under a lease that ran out) that a worker on `host` may take,
        now this worker's; None when there is none. A job past MAX_ATTEMPTS takes is failed instead of being
        handed out again."""
        with self._catalog._tx() as conn:
            conn.execute(f"UPDATE jobs SET state='failed', finished_at=now(), error=%s WHERE {_OPEN} AND"
                         " state='running' AND attempts >= %s",
                         (f"Its worker stopped answering {MAX_ATTEMPTS} times while ingesting it (it may be an input "
                          "that crashes the ingest): check the workers' logs, then ingest it again.", MAX_ATTEMPTS))
            row = conn.execute(
                f"UPDATE jobs SET state='running', worker=%s, lease_until=now() + make_interval(secs => %s),"
                f" attempts=attempts+1 WHERE id = (SELECT id FROM jobs WHERE {_OPEN} AND (host IS NULL OR host = %s)"
                f" ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING {_COLS}", (worker, lease_s, host)).fetchone()
            return _job(row) if row else None

    def renew(self, job_id: int, worker: str, *, lease_s: float = 30.0, done_inputs: int | None = None,
              label: str | None = None) -> bool:
        """Extend this worker's lease (and record its progress); False when the job is no longer this worker's."""
        with self._catalog._conn() as conn:
            row = conn.execute(
                "UPDATE jobs SET lease_until=now() + make_interval(secs => %s), done_inputs=COALESCE(%s, done_inputs),"
                " label=COALESCE(%s, label) WHERE id=%s AND worker=%s AND state='running' RETURNING id",
                (lease_s, done_inputs, label, job_id, worker)).fetchone()
            return row is not None

    def finish(self, job_id: int, worker: str, state: str, *, report: dict | None = None,
               error: str | None = None, done_inputs: int | None = None) -> bool:
        """Record the end of a job this worker holds (done, failed); False when another worker had taken it."""
        with self._catalog._conn() as conn:
            row = conn.execute(
                "UPDATE jobs SET state=%s, report=%s, error=%s, finished_at=now(), lease_until=NULL,"
                " done_inputs=COALESCE(%s, done_inputs) WHERE id=%s AND worker=%s AND state='running' RETURNING id",
                (state, json.dumps(report) if report is not None else None, error, done_inputs, job_id,
                 worker)).fetchone()
            return row is not None

    def release(self, job_id: int, worker: str) -> None:
        """Hand a job back unfinished (this worker is shutting down): the next worker takes it at once."""
        with self._catalog._conn() as conn:
            conn.execute("UPDATE jobs SET state='waiting', worker=NULL, lease_until=NULL, attempts=GREATEST(0,"
                         " attempts-1) WHERE id=%s AND worker=%s AND state='running'", (job_id, worker))

    def get(self, job_id: int) -> JobRow | None:
        row = self._catalog._one(f"SELECT {_COLS} FROM jobs WHERE id=%s", (job_id,))
        return _job(row) if row else None

    def ahead_of(self, job_id: int) -> int:
        """Jobs that run before this one: open jobs with smaller ids (0 when it is running or finished)."""
        row = self._catalog._one("SELECT (SELECT state FROM jobs WHERE id=%s), (SELECT COUNT(*) FROM jobs WHERE"
                                 " id < %s AND state IN ('waiting', 'running'))", (job_id, job_id))
        return int(row[1]) if row and row[0] == "waiting" else 0

    def status(self) -> dict[str, Any]:
        rows = self._catalog._all("SELECT id, state, done_inputs, label FROM jobs WHERE state IN ('waiting', 'running')"
                                  " ORDER BY id")
        running = [r for r in rows if r[1] == "running"]
        first = running[0] if running else None
        return {"running": None if first is None else {"id": first[0], "inputs_read": first[2], "label": first[3]},
                "running_jobs": len(running), "waiting": sum(r[1] == "waiting" for r in rows), "stopping": False}
