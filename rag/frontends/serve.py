"""`newsrag serve` (or `python app.py`) [--host H] [--port P] [--share] [--home DIR]: start the web chat.

Settings come from NEWSRAG_* variables (GRADIO_SERVER_NAME/PORT honoured), then these flags. An empty store
gets the bundled sample coverage (examples/news) first, so the chat has something to answer from.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "news"
STOP_SECONDS = 120  # how long a stop waits for a running ingest to reach its next input (one embedding batch)


class _Terminated(KeyboardInterrupt):
    """SIGTERM while starting."""


def _start(args: argparse.Namespace):
    """Load the store, serve the page and announce it: (demo, settings, shutdown), or an exit code (2) after
    printing a settings or store error."""
    def interrupted(signum: int, frame: object) -> None:  # SIGTERM while starting stops like Ctrl+C
        raise _Terminated

    try:
        signal.signal(signal.SIGTERM, interrupted)
    except ValueError:  # not the main thread: leave signals alone
        pass

    from rag.answer.assistant import Assistant
    from rag.core.errors import NewsragError
    from rag.core.logs import setup_logging
    from rag.core.settings import Settings
    from rag.frontends.discovery import write_server_file
    from rag.frontends.ports import check_port_free
    from rag.frontends.web.page import auth_pair, launch, shutdown
    from rag.jobs.ingestor import ingestor_for

    setup_logging()

    try:
        settings = Settings.from_env(host=args.host, port=args.port, share=args.share, home=args.home)
        check_port_free(settings.host, settings.port)  # before anything loads: a busy port is one line at once
        auth = auth_pair(settings)
        assistant = Assistant.from_settings(settings)
        if not assistant.stats()["articles"]:
            print(f"The store at {settings.home} is empty: ingesting the bundled sample coverage ({SAMPLE}) ...",
                  flush=True)
            print("  " + ingestor_for(assistant).ingest([str(SAMPLE)]).summary_line(), flush=True)
        demo = launch(assistant, settings, prevent_thread_lock=True, quiet=True)
        # Listening first, then the embedding model (torch and its weights, ~8 s) and the indexes load in the
        # background; a question asked before they are ready waits for them. Loading the model alongside the
        # web stack was slower on 2 cores: both are mostly Python under one GIL (docs/BENCHMARKS.md).
        assistant.warm_up()
    except NewsragError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # `newsrag ask` on this home finds the server here and asks it instead of loading everything itself.
    write_server_file(settings.home, port=urlsplit(demo.local_url).port or settings.port, login=bool(auth),
                      instance=demo.instance_token)
    print(f"newsrag web chat ready: {demo.local_url}" + (" (login required)" if auth else ""), flush=True)
    print(f"JSON API: {demo.local_url}api/ (docs/API.md)", flush=True)
    if getattr(demo, "share_url", None):
        print(f"public link: {demo.share_url}", flush=True)
    return demo, settings, shutdown


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the web chat until interrupted; 0 on a clean stop, 2 on a settings or store error."""
    p = argparse.ArgumentParser(prog="app.py", description="Serve the newsrag web chat.")
    p.add_argument("--host", help="interface to listen on (NEWSRAG_HOST / GRADIO_SERVER_NAME, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (NEWSRAG_PORT / GRADIO_SERVER_PORT, default 7860)")
    p.add_argument("--share", action="store_true", default=None, help="also open a public gradio.live link")
    p.add_argument("--home", help="data folder (NEWSRAG_HOME, default ./.newsrag)")
    args = p.parse_args(argv)
    try:
        started = _start(args)
    except KeyboardInterrupt as exc:
        # Ctrl+C (or SIGTERM) while loading: one line, no traceback. A sample ingest in progress has cleaned up
        # after itself; exit without unwinding the model's native threads (they abort noisily at exit).
        name = "Terminated" if isinstance(exc, _Terminated) else "Interrupted"
        print(f"{name} while starting: the web chat was not started.", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(143 if isinstance(exc, _Terminated) else 130)
    if isinstance(started, int):
        return started
    demo, settings, shutdown = started
    from rag.frontends.discovery import remove_server_file
    print("Press Ctrl+C to stop.", flush=True)

    def stop(signum: int, frame: object) -> None:  # SIGTERM (docker stop, systemd) stops like Ctrl+C
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        demo.block_thread()  # returns on Ctrl+C / SIGTERM, having closed the web server
    finally:
        remove_server_file(settings.home)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl+C stops at once
        print("Stopping: a running ingest stops at its next input; what it wrote stays.", flush=True)
        if not shutdown(demo, timeout=STOP_SECONDS):
            # Exiting while the worker is inside torch aborts the process; skip the finalisers instead. The
            # unfinished batch is marked pending in the catalog and the next ingest removes it (Ingestor.repair).
            print(f"The running ingest did not stop within {STOP_SECONDS} s; exiting anyway (its unfinished "
                  "batch is cleaned up by the next ingest).", file=sys.stderr, flush=True)
            os._exit(1)
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
