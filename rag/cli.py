"""`newsrag ingest | list | remove | watch | ask | serve | slack | eval`: the terminal front end.

Settings are read once here (environment, then flags); errors become a message and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from typing import Sequence

from .errors import NewsragError
from .settings import Settings

__all__ = ["main"]


def _settings(args: argparse.Namespace, **more) -> Settings:
    return Settings.from_env(home=getattr(args, "home", None), **more)


def _interval(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not an interval: use 30s, 15m, 2h or 1d")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _cmd_ingest(args: argparse.Namespace) -> int:
    from ingest import Ingestor

    settings = _settings(args)
    ingestor = Ingestor(settings)
    bar = None
    if not args.json and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(unit=" articles", desc="Ingesting", file=sys.stderr, dynamic_ncols=True)
    report = ingestor.ingest(args.targets, progress=(lambda n, origin: bar.update(1)) if bar is not None else None)
    if bar is not None:
        bar.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    return 0 if report.ok else 1


def _print_report(report) -> None:
    print(report.summary_line())
    for d in report.duplicates:
        print(f"  duplicate: {d['title']} ({d.get('source') or d['origin']}) copies {d['of_title']}")
    for f in report.failed:
        print(f"  failed: {f['origin']}: {f['reason']}")


def _cmd_list(args: argparse.Namespace) -> int:
    from .catalog import Catalog

    catalog = Catalog(_settings(args).home)
    rows = catalog.articles()
    if args.json:
        print(json.dumps([{"id": r.article.id, "title": r.article.title, "source": r.article.source,
                           "published_at": r.article.published_at, "url": r.article.url,
                           "passages": r.passage_count, "duplicate_of": r.duplicate_of} for r in rows], indent=2))
        return 0
    if not rows:
        print("No articles yet. Add some: newsrag ingest examples/news")
        return 0
    for r in rows:
        a = r.article
        extra = f"duplicate of {r.duplicate_of}" if r.duplicate_of else f"{r.passage_count} passages"
        print(f"{a.id}  {a.published_at or '----------'}  {(a.source or '-')[:20]:20}  {a.title[:70]}  ({extra})")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    from ingest import Ingestor

    ingestor = Ingestor(_settings(args))
    status = 0
    for target in args.ids:
        article = ingestor.remove(target)
        if article is None:
            print(f"not found: {target} (see `newsrag list` for ids and urls)", file=sys.stderr)
            status = 1
        else:
            print(f"removed: {article.id}  {article.title}")
    return status


def _cmd_watch(args: argparse.Namespace) -> int:
    from ingest import Ingestor

    ingestor = Ingestor(_settings(args))
    log = logging.getLogger("newsrag.watch")
    rounds = 0
    while True:
        report = ingestor.ingest(args.targets)
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {report.summary_line()}", flush=True)
        for f in report.failed:
            log.warning("failed: %s: %s", f["origin"], f["reason"])
        rounds += 1
        if args.rounds and rounds >= args.rounds:
            return 0
        time.sleep(args.every)


def _cmd_ask(args: argparse.Namespace) -> int:
    from .assistant import Assistant

    assistant = Assistant.from_settings(_settings(args, llm=args.llm))
    answer = assistant.ask(args.question, sources=args.source or None, since=args.since, until=args.until)
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    for notice in answer.notices:
        print(f"note: {notice}", file=sys.stderr)
    print(answer.text)
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            print(f"[{c.n}] {c.title} — {c.source or 'unknown outlet'}, {c.published_at or 'undated'}"
                  + (f" — {c.url}" if c.url else ""))
            print(f"    \"{c.quote[:300]}{'…' if len(c.quote) > 300 else ''}\"")
    elif answer.refused and answer.passages:
        print("\nClosest passages:")
        for i, h in enumerate(answer.passages[:3], 1):
            print(f"({i}) {h.passage.title} — {h.passage.source or 'unknown outlet'}: {h.passage.text[:160]}…")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from app import main as app_main

    argv = [x for flag, value in (("--home", args.home), ("--host", args.host), ("--port", args.port)) if value
            for x in (flag, str(value))]
    return app_main(argv)


def _cmd_slack(args: argparse.Namespace) -> int:
    from .assistant import Assistant
    from .slack import run_from_env, tokens_from_env

    settings = _settings(args, slack_port=args.port)
    tokens_from_env(os.environ)  # a missing token fails now, before the model takes seconds to load
    run_from_env(Assistant.from_settings(settings), settings, env=os.environ)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import main as eval_main

    return eval_main(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsrag", description="Cited answers from news coverage.")
    p.add_argument("--home", help="data folder (NEWSRAG_HOME, default ./.newsrag)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="add files, folders, feeds or URLs")
    s.add_argument("targets", nargs="+", metavar="PATH_OR_URL")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_ingest)

    s = sub.add_parser("list", help="list ingested articles")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_cmd_list)

    s = sub.add_parser("remove", help="remove articles by id or url")
    s.add_argument("ids", nargs="+", metavar="ID_OR_URL")
    s.set_defaults(func=_cmd_remove)

    s = sub.add_parser("watch", help="re-read feeds and folders at an interval, ingesting what is new or changed")
    s.add_argument("targets", nargs="+", metavar="FEED_OR_FOLDER")
    s.add_argument("--every", type=_interval, default=_interval("15m"), help="interval: 30s, 15m, 2h (default 15m)")
    s.add_argument("--rounds", type=int, default=0, help="stop after N rounds (default: run until stopped)")
    s.set_defaults(func=_cmd_watch)

    s = sub.add_parser("ask", help="ask a question")
    s.add_argument("question")
    s.add_argument("--source", action="append", help="only this outlet (repeatable)")
    s.add_argument("--since", help="YYYY-MM-DD")
    s.add_argument("--until", help="YYYY-MM-DD")
    s.add_argument("--llm", help="auto | extractive | openai:MODEL | ollama:MODEL | local")
    s.add_argument("--json", action="store_true", help="print the Answer as JSON")
    s.set_defaults(func=_cmd_ask)

    s = sub.add_parser("serve", help="start the web chat")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.set_defaults(func=_cmd_serve)

    s = sub.add_parser("slack", help="run the Slack bot")
    s.add_argument("--port", type=int, help="HTTP mode port (default 3000)")
    s.set_defaults(func=_cmd_slack)

    s = sub.add_parser("eval", help="measure retrieval and answers on a question set")
    s.add_argument("--articles", required=True)
    s.add_argument("--questions", required=True)
    s.add_argument("--store", help="an existing NEWSRAG_HOME to use instead of a temporary one")
    s.add_argument("--llm", default="extractive")
    s.add_argument("--limit", type=int, default=0, help="only the first N questions")
    s.add_argument("--baseline", choices=["plain"], help="also run the plain recipe, side by side")
    s.add_argument("--history", type=int, choices=[0, 1, 2], default=0,
                   help="ask each question after N earlier exchanges on other topics from the same file")
    s.add_argument("--json", dest="json_out", help="write the JSON report here")
    s.set_defaults(func=_cmd_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NewsragError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: anything half-written will be cleaned up by the next ingest", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
