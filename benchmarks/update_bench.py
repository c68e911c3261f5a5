"""Adding one article to a large store while a server runs: the ingest's time end to end, and how long until
the running server retrieves it (and no longer does after its removal).

    python benchmarks/update_bench.py --home HOME [--json benchmarks/results/update_bench_1m_loaded.json]

HOME is a store (e.g. one grown by query_bench.py --work); one article is added and removed again. NEWSRAG_*
settings in the environment apply (NEWSRAG_CHROMA_HOST: the vectors in a Chroma server). A serving
process (an Assistant, as `newsrag serve` holds) is started on HOME, warmed, and asks about the new article every
0.1 s; this process ingests the article with the real embedding model (loaded before the clock starts) and
reports: ingest seconds (load, clean, dedup, chunk, embed, stage, vectors, commit), seconds from the ingest's end
until the server first retrieves it, the same for the removal, and the server's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TITLE = "Beekeepers in Windle Marsh count a record honey harvest"
BODY = ("Beekeepers of the Windle Marsh association counted a record harvest of heather honey on Saturday, "
        "four tonnes from three hundred hives, after a warm and dry September. The association's chair said "
        "the marsh's heather flowered for six weeks, two more than usual, and that new hives placed on the "
        "northern dunes did best. ") * 3
QUESTION = "How much honey did the Windle Marsh beekeepers harvest?"


def watch(home: Path) -> None:
    """The serving side: warm, then print a line each time the new article appears in or leaves the hits."""
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings

    a = Assistant.from_settings(Settings.from_env(home=home, llm="extractive"))
    for t in a.warm_up():
        t.join(300)
    a.ask(QUESTION)
    print(json.dumps({"ready": True}), flush=True)
    seen = False
    deadline = time.time() + 600
    while time.time() < deadline:
        hits = a.retriever.retrieve(a.retriever.plan(QUESTION))
        now = any(h.passage.title == TITLE for h in hits)
        if now != seen:
            seen = now
            print(json.dumps({"seen": now, "at": time.time(),
                              "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("--json", type=Path)
    p.add_argument("--watch", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.watch:
        watch(args.home)
        return 0
    from ingest import Ingestor
    from rag.core.settings import Settings

    server = subprocess.Popen([sys.executable, __file__, "--home", str(args.home), "--watch"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert json.loads(server.stdout.readline())["ready"]
        ingestor = Ingestor(Settings.from_env(home=args.home))
        ingestor.embedder.embed(["warm the model"])  # loading the model is not the ingest's cost
        folder = Path(tempfile.mkdtemp())
        (folder / "honey.txt").write_text(f"{TITLE}\n{BODY}\n", encoding="utf-8")
        t0 = time.time()
        report = ingestor.ingest([str(folder / "honey.txt")])
        t1 = time.time()
        shown = json.loads(server.stdout.readline())
        article_id = report.added[0]["id"]
        t2 = time.time()
        ingestor.remove(article_id)
        t3 = time.time()
        gone = json.loads(server.stdout.readline())
        out = {"benchmark": "update", "home": str(args.home), "passages": ingestor.index.stats()["passages"],
               "ingest_seconds": round(t1 - t0, 3), "embed_seconds": round(report.embed_seconds, 3),
               "visible_after_ingest_seconds": round(shown["at"] - t1, 3),
               "remove_seconds": round(t3 - t2, 3), "gone_after_remove_seconds": round(gone["at"] - t3, 3),
               "server_peak_rss_mib": round(gone["rss_mib"], 1)}
    finally:
        server.kill()
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
