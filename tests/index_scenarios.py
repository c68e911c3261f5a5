"""Writers for the kill tests, run as real processes: `python -m tests.index_scenarios HOME OP ARG...`.

OP is `ingest PATH...` or `remove ID`. NEWSRAG_TEST_PAUSE_AT (read through Settings) makes the writer stop at a
named stage and leave a marker file, where the test kills it with SIGKILL."""

from __future__ import annotations

import sys

from ingest import Ingestor
from rag.settings import Settings
from tests.fake_embedder import FakeEmbedder


def main(argv: list[str]) -> int:
    home, op, *args = argv
    settings = Settings.from_env(home=home, chunk_min_words=20, chunk_max_words=40)
    ingestor = Ingestor(settings, embedder=FakeEmbedder())
    if op == "ingest":
        print(ingestor.ingest(args).summary_line(), flush=True)
    elif op == "remove":
        print(ingestor.remove(args[0]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
