"""`newsrag ingest | list | remove | watch | worker | migrate | ask | serve | mcp | slack | eval`: the terminal
front end.

Settings are read once here (environment, then flags); errors become a message and a non-zero exit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import sys
import time
from typing import Sequence

from rag.core.errors import InputError, NewsragError
from rag.core.links import safe_url
from rag.core.logs import setup_logging
from rag.core.settings import Settings

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
    from rag.jobs.worker import ingest_as_job

    with _stop_on_sigterm():  # a job in a shared catalog (rag/jobs/worker.py); else an ingest right here
        report = ingest_as_job(
            ingestor, args.targets, progress=(lambda n, origin: bar.update(1)) if bar is not None else None,
            embed_progress=(lambda done, total: bar.set_postfix_str(f"embedding {done}/{total} passages"))
            if bar is not None else None)
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
        print(_printable(f"  duplicate: {d['title']} ({d.get('source') or d['origin']}) copies {d['of_title']}"))
    for f in report.failed:
        print(_printable(f"  failed: {f['origin']}: {f['reason']}"))
    for w in report.warnings:
        print(_printable(f"  warning: {w['origin']}: {w['reason']}"))


class _Stopped(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so the ingest stops between steps and cleans up."""


@contextlib.contextmanager
def _stop_on_sigterm():
    def stop(signum: int, frame: object) -> None:
        raise _Stopped()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cmd_list(args: argparse.Namespace) -> int:
    from rag.index import open_catalog

    catalog = open_catalog(_settings(args))  # listing needs the catalog only, not Chroma
    rows = catalog.articles()
    if args.json:
        print(json.dumps([{"id": r.article.id, "title": r.article.title, "source": r.article.source,
                           "credited_source": r.article.credited_source, "author": r.article.author,
                           "published_at": r.article.published_at, "updated_at": r.article.updated_at,
                           "date_source": r.article.date_source, "url": r.article.url,
                           "passages": r.passage_count, "duplicate_of": r.duplicate_of} for r in rows], indent=2))
        return 0
    if not rows:
        print("No articles yet. Add some: newsrag ingest examples/news")
        return 0
    outlets = [_printable(r.article.source or (f"{r.article.credited_source} (credited)"
                                               if r.article.credited_source else "-")) for r in rows]
    width = min(max(len(o) for o in outlets), _OUTLET_COLUMN)  # a longer outlet widens its own line only
    id_width = max(len(r.article.id) for r in rows)
    for r, outlet in zip(rows, outlets):
        a = r.article
        n = r.passage_count
        extra = f"duplicate of {r.duplicate_of}" if r.duplicate_of else f"{n} passage{'' if n == 1 else 's'}"
        title = _printable(a.title)
        title = title if len(title) <= 70 else title[:69].rstrip() + "…"
        print(f"{_printable(a.id):{id_width}}  {a.published_at or '----------'}  {outlet:{width}}  {title}  ({extra})")
    return 0


_OUTLET_COLUMN = 32  # the outlet column's widest alignment; names are never cut


def _cmd_remove(args: argparse.Namespace) -> int:
    from ingest import Ingestor

    ingestor = Ingestor(_settings(args))
    status = 0
    for target in args.ids:
        article = ingestor.remove(target)
        if article is None:
            print(_printable(f"not found: {target} (see `newsrag list` for ids and urls)"), file=sys.stderr)
            status = 1
        else:
            print(_printable(f"removed: {article.id}  {article.title}"))
    return status


def _cmd_watch(args: argparse.Namespace) -> int:
    from ingest import Ingestor

    ingestor = Ingestor(_settings(args))
    log = logging.getLogger("newsrag.watch")
    with _stop_on_sigterm():
        return _watch_rounds(ingestor, args, log)


def _watch_rounds(ingestor, args: argparse.Namespace, log: logging.Logger) -> int:
    from rag.jobs.worker import ingest_as_job

    rounds = 0
    while True:
        report = ingest_as_job(ingestor, args.targets)
        failed = [f for f in report.failed if not _empty_folder(f)]  # an empty inbox is a quiet round
        stamp = time.strftime('%Y-%m-%d %H:%M:%S')
        c = report.counts()
        if not (c["added"] or c["updated"] or c["duplicates"] or failed):
            print(f"{stamp} nothing new" + (f" ({c['unchanged']} unchanged)" if c["unchanged"] else ""), flush=True)
        else:
            print(f"{stamp} {report.summary_line() if len(failed) == c['failed'] else _summary(report, failed)}",
                  flush=True)
            for kind in ("added", "updated"):  # which files and feed entries, so the log says what arrived
                for item in getattr(report, kind):
                    print(_printable(f"  {kind}: {item.get('title')} ({item.get('origin')})"), flush=True)
            for d in report.duplicates:
                print(_printable(f"  duplicate: {d.get('title')} ({d.get('origin')}) copies {d.get('of_title')}"),
                      flush=True)
        for f in failed:
            log.warning("failed: %s: %s", _printable(f["origin"]), _printable(f["reason"]))
        for w in report.warnings:
            log.warning("warning: %s: %s", _printable(w["origin"]), _printable(w["reason"]))
        rounds += 1
        if args.rounds and rounds >= args.rounds:
            return 0
        time.sleep(args.every)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Whole terminal escape sequences: OSC (window title, links) up to BEL or ST, CSI ("ESC[2J", "ESC[31m", the
# one-byte CSI 0x9b) with its parameters, and two-byte escapes. Taking only the ESC byte would leave "[31m".
_ESCAPES = re.compile(r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                      r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
                      r"|\x1b[ -/]*[0-~]?")


def _printable(text: str) -> str:
    """Stored text for a terminal: escape sequences and control characters (which could rewrite the screen or
    the window title) removed."""
    return _CONTROL.sub("", _ESCAPES.sub("", str(text)))


def _json(value: object, indent: int | None = 2) -> str:
    """JSON for the terminal: C1 controls (U+0080-U+009F, which some terminals obey as escapes) and DEL written as
    \\u escapes; JSON already escapes the C0 controls, ESC included."""
    return re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}",
                  json.dumps(value, indent=indent, ensure_ascii=False))


def _empty_folder(failure: dict) -> bool:
    """A watched folder that exists but holds nothing yet (the loader reports it as a failure)."""
    return os.path.isdir(failure.get("origin") or "") and str(failure.get("reason", "")).startswith("no articles")


def _summary(report, failed: list) -> str:
    c = report.counts()
    return (f"added {c['added']}, updated {c['updated']}, unchanged {c['unchanged']}, duplicates {c['duplicates']}, "
            f"failed {len(failed)} ({report.passages} passage{'' if report.passages == 1 else 's'}, "
            f"{report.seconds:.1f}s)")


def _cmd_worker(args: argparse.Namespace) -> int:
    import threading

    from rag.jobs.worker import main as worker_main

    setup_logging(logging.WARNING, ours=logging.INFO)  # a long-running worker says when it starts and ends a job
    stop = threading.Event()  # SIGTERM or Ctrl-C: the running job stops at its next input and goes back
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        return worker_main(_settings(args), stop=stop)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from rag.index.copy_store import copy_store

    host, _, port = args.chroma.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--chroma {args.chroma!r}: give the Chroma server as HOST:PORT (e.g. 10.0.0.5:8000).")
    source = _settings(args)
    target = source.replace(catalog_url=args.to, chroma_host=host, chroma_port=int(port),
                            collection=args.collection or source.collection)
    done = copy_store(source, target, progress=lambda n, total: print(f"\r{n}/{total} articles", end="",
                                                                      file=sys.stderr, flush=True))
    print(f"\ncopied {done['copied']} articles ({done['passages']} passages), {done['skipped']} already there",
          file=sys.stderr)
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings(args, llm=args.llm)
    answer = None if args.no_server or args.llm else _ask_running_server(settings, args)
    if answer is None:  # no server on this home: answer here, importing only what this answer needs
        from rag.answer.assistant import Assistant

        answer = Assistant.from_settings(settings).ask(args.question, sources=args.source or None,
                                                       since=args.since, until=args.until,
                                                       as_of=args.as_of).to_dict()
    if args.json:
        print(_json(answer))
    else:
        _print_answer(answer)
    return REFUSED if answer.get("refused") else 0


# Exit codes (README "Exit codes"): 0 done; 1 some inputs failed (ingest, watch) or not found (remove);
# 2 a bad setting, flag or input; 3 `ask` refused: the coverage does not answer; 130 Ctrl+C; 143 SIGTERM.
REFUSED = 3


def _ask_running_server(settings: Settings, args: argparse.Namespace) -> dict | None:
    """The answer from a `newsrag serve` on the same home (HOME/serve.json), or None when none answers."""
    from rag.frontends.discovery import read_server_file
    from rag.frontends.remote import ServerUnavailable, ask_server

    info = read_server_file(settings.home)
    if info is None:
        return None
    auth = (settings.auth_user, settings.auth_password) if settings.auth_user and settings.auth_password else None
    try:
        return ask_server(info["port"], args.question, root=info["root"], sources=args.source, since=args.since,
                          until=args.until, as_of=args.as_of, auth=auth, instance=info.get("instance"),
                          timeout=max(settings.llm_timeout, 30.0) * 2)
    except ServerUnavailable as exc:
        logging.getLogger("newsrag.cli").info("the server on port %s did not answer (%s): answering here",
                                              info["port"], exc)
        return None


def _quoted(text: str, limit: int = 300) -> str:
    """The quote in quotation marks, unless it begins with its own (`""I have…""` read as a typo)."""
    text = text.strip()
    clipped = text[:limit] + ("…" if len(text) > limit else "")
    return clipped if text[:1] in "\"“”‘’'«»" else f"“{clipped}”"


def _print_answer(answer: dict) -> None:
    """An Answer dict (from this process or from a server) for the terminal."""
    from rag.check.reasons import doubted_lines, removed_lines

    for notice in dict.fromkeys(answer.get("notices") or []):
        print(_printable(f"note: {notice}"), file=sys.stderr)
    print(_printable(answer["text"]))
    citations = answer.get("citations") or []
    if citations:
        print("\nSources:")
        for c in citations:
            url = safe_url(c.get("url"))
            print(_printable(f"[{c['n']}] {c['title']} — {c.get('source') or 'unknown outlet'}, "
                             f"{c.get('published_at') or 'undated'}" + (f" — {url}" if url else "")))
            print(_printable(f"    {_quoted(c['quote'])}"))
    elif answer.get("passages"):  # a refusal, or an answer no passage confirms: the passages it came from
        print("\nClosest passages:" if answer.get("refused") else "\nPassages it was written from:")
        firsts: dict[str, dict] = {}
        for h in answer["passages"]:
            firsts.setdefault(h["passage"]["article_id"], h)
        for i, h in enumerate(list(firsts.values())[:3], 1):  # each article once, at its best-ranked passage
            p = h["passage"]
            print(_printable(f"({i}) {p['title']} — {p.get('source') or 'unknown outlet'}, "
                             f"{p.get('published_at') or 'undated'}: {p['text'][:160]}…"))
    removed = answer.get("dropped") or []
    if removed:
        print("\nRemoved by the check:")
        for line in removed_lines(removed):
            print(_printable(f"  - {line}"))
    doubted = doubted_lines(answer.get("verdicts") or [])
    if doubted:
        print("\nMarked, the LLM doubting them:")
        for line in doubted:
            print(_printable(f"  - {line}"))


def _cmd_serve(args: argparse.Namespace) -> int:
    from rag.frontends.serve import main as app_main

    argv = [x for flag, value in (("--home", args.home), ("--host", args.host), ("--port", args.port)) if value
            for x in (flag, str(value))]
    return app_main(argv)


def _cmd_mcp(args: argparse.Namespace) -> int:
    from rag.answer.assistant import Assistant
    from rag.frontends.api.mcp import build_server, check_http, run_http, run_stdio
    from rag.frontends.api.service import Service

    settings = _settings(args, mcp_host=args.host, mcp_port=args.port)
    if args.http:
        check_http(settings, settings.mcp_host)  # before seconds of loading: a refusal comes at once
    assistant = Assistant.from_settings(settings)
    loading = assistant.warm_up()  # the model and indexes load while the client connects
    server = build_server(Service(assistant))
    try:
        if not args.http:
            run_stdio(server)
            return 0
        run_http(server, settings, host=settings.mcp_host, port=settings.mcp_port,
                 ready=lambda url: print(f"newsrag MCP server ready: {url}" + (" (bearer token required)"
                                         if settings.api_token else ""), flush=True))
        print("Stopped.", flush=True)
        return 0
    finally:
        for thread in loading:  # leaving while torch loads in another thread can crash the interpreter
            thread.join(timeout=120)


def _cmd_slack(args: argparse.Namespace) -> int:
    from rag.answer.assistant import Assistant
    from rag.frontends.slack.bot import run_from_env, tokens_from_env

    settings = _settings(args, slack_port=args.port)
    tokens_from_env(os.environ)  # a missing token fails now, before the model takes seconds to load
    run_from_env(Assistant.from_settings(settings), settings, env=os.environ)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    if args.claims:
        from rag.eval.claims import main_claims

        settings = _settings(args)
        llm = None
        if args.llm not in (None, "", "extractive"):  # the LLM pass: the configured model reads what rules leave
            from rag.answer.answerers.llm import LLMAnswerer
            from rag.llms.choose import make_chat_model

            model, name, _ = make_chat_model(settings.replace(llm=args.llm))
            if model is None:
                raise InputError(f"--llm {args.llm}: no LLM answered; set NEWSRAG_LLM or pass openai:MODEL, "
                                 "ollama:MODEL or local.")
            llm = LLMAnswerer(model, name)
        return main_claims(args.claims, args.json_out, settings.support_threshold, llm=llm,
                           llm_timeout=settings.llm_verify_timeout)
    if not (args.articles and args.questions):
        raise InputError("`newsrag eval` needs --articles A.jsonl and --questions Q.jsonl (or --claims FILE).")
    from rag.eval.run import main as eval_main

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

    s = sub.add_parser("worker", help="take ingest jobs from a shared catalog (NEWSRAG_CATALOG_URL), until stopped")
    s.set_defaults(func=_cmd_worker)

    s = sub.add_parser("migrate", help="copy this store into a PostgreSQL catalog and a Chroma server")
    s.add_argument("--to", required=True, metavar="postgresql://USER:PASSWORD@HOST:PORT/DB")
    s.add_argument("--chroma", required=True, metavar="HOST:PORT", help="the Chroma server (`chroma run`)")
    s.add_argument("--collection", help="the collection there (default: NEWSRAG_COLLECTION)")
    s.set_defaults(func=_cmd_migrate)

    s = sub.add_parser("ask", help="ask a question")
    s.add_argument("question")
    s.add_argument("--source", action="append", help="only this outlet (repeatable)")
    s.add_argument("--since", help="YYYY-MM-DD")
    s.add_argument("--until", help="YYYY-MM-DD")
    s.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD: answer as of that day (date words count back from "
                   "it; later coverage is not used)")
    s.add_argument("--llm", help="auto | extractive | openai:MODEL | ollama:MODEL | local")
    s.add_argument("--json", action="store_true", help="print the Answer as JSON")
    s.add_argument("--no-server", action="store_true",
                   help="answer in this process even when a `newsrag serve` runs on this home")
    s.set_defaults(func=_cmd_ask)

    s = sub.add_parser("serve", help="start the web chat")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.set_defaults(func=_cmd_serve)

    s = sub.add_parser("mcp", help="serve the store to MCP clients (stdio, or --http)")
    s.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio")
    s.add_argument("--host", help="with --http: interface (NEWSRAG_MCP_HOST, default 127.0.0.1; elsewhere needs "
                   "NEWSRAG_API_TOKEN)")
    s.add_argument("--port", type=int, help="with --http: port (NEWSRAG_MCP_PORT, default 8765)")
    s.set_defaults(func=_cmd_mcp)

    s = sub.add_parser("slack", help="run the Slack bot")
    s.add_argument("--port", type=int, help="HTTP mode port (default 3000)")
    s.set_defaults(func=_cmd_slack)

    s = sub.add_parser("eval", help="measure retrieval and answers on a question set")
    s.add_argument("--articles")
    s.add_argument("--questions")
    s.add_argument("--claims", help="score the citation check alone on a claims file (docs/EVALUATION.md)")
    s.add_argument("--store", help="an existing NEWSRAG_HOME to use instead of a temporary one")
    s.add_argument("--llm", default="extractive",
                   help="the answerer; with --claims, a model that reads the claims the rules leave unconfirmed")
    s.add_argument("--limit", type=int, default=0, help="only the first N questions")
    s.add_argument("--baseline", choices=["plain"], help="also run the plain recipe, side by side")
    s.add_argument("--history", type=int, choices=[0, 1, 2], default=0,
                   help="ask each question after N earlier exchanges on other topics from the same file")
    s.add_argument("--no-question-dates", action="store_true",
                   help="ask every question as of today, ignoring its question_date")
    s.add_argument("--one-store", action="store_true",
                   help="index every article together even when each carries a question_id (by default each "
                        "question is then asked of a store holding only its own articles)")
    s.add_argument("--json", dest="json_out", help="write the JSON report here")
    s.set_defaults(func=_cmd_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    setup_logging(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NewsragError as exc:
        if getattr(args, "json", False) is True:  # --json asked for JSON: the error comes as JSON on stdout too
            print(_json({"error": str(exc), "kind": type(exc).__name__, "exit_code": 2}, indent=None))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        # The ingest has already removed what it had begun; leave now, without unwinding the native threads
        # (torch, tokenizers) that abort with "terminate called without an active exception" at exit.
        name = "terminated" if isinstance(exc, _Stopped) else "interrupted"
        print(f"{name}: stopped; articles finished before this are stored, the one in progress was not "
              "(run the same command again to finish)", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(143 if isinstance(exc, _Stopped) else 130)


if __name__ == "__main__":
    sys.exit(main())
