"""Writers for the kill tests, run as real processes: `python -m tests.index_scenarios HOME OP ARG...`.

OP is `ingest PATH...`, `ingest-job PATH...` (as the CLI ingests), `remove ID`, or `work` (with NEWSRAG_CATALOG_URL: take ingest jobs from the shared
catalog until none is open, waiting out the lease of a job whose worker died). NEWSRAG_TEST_PAUSE_AT (read through Settings) makes the writer stop at a
named stage and leave a marker file, where the test kills it with SIGKILL."""

from __future__ import annotations

import sys

from ingest import Ingestor
from rag.core.settings import Settings
from tests.fake_embedder import FakeEmbedder


def main(argv: list[str]) -> int:
    home, op, *args = argv
    settings = Settings.from_env(home=home, chunk_min_words=20, chunk_max_words=40)
    ingestor = Ingestor(settings, embedder=FakeEmbedder())
    if op == "ingest":
        print(ingestor.ingest(args).summary_line(), flush=True)
    elif op == "ingest-job":  # as `newsrag ingest` does: a job this process holds in a shared catalog
        from rag.jobs.worker import ingest_as_job

        print(ingest_as_job(ingestor, args).summary_line(), flush=True)
    elif op == "remove":
        print(ingestor.remove(args[0]), flush=True)
    elif op == "work":
        import threading
        import time

        from rag.jobs.worker import JobWorker

        queue = ingestor.index.job_queue()
        worker = JobWorker(queue, ingestor.ingest, lease_s=settings.job_lease_seconds)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            job = queue.take(worker.name, lease_s=worker.lease_s, host=worker.host)
            if job is not None:
                print(job.id, *worker.work(job.id, job.targets, threading.Event()), flush=True)
            elif not (queue.status()["waiting"] or queue.status()["running_jobs"]):
                return 0
            else:
                time.sleep(0.1)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
