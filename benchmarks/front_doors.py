"""What the front doors do with hostile or careless input: fetching (private addresses, redirects, slow servers,
hanging feed entries), instructions planted in articles, and how much real news the screen would wrongly remove.

    PYTHONPATH=$PWD python benchmarks/front_doors.py fetch
    PYTHONPATH=$PWD python benchmarks/front_doors.py injection [--json out.json]   # > benchmarks/results/injection.txt
    PYTHONPATH=$PWD python benchmarks/front_doors.py screen ../shared/eval/realtimeqa/articles.jsonl [more.jsonl ...]

`fetch`: against a real HTTP server on 127.0.0.1 (the handler of tests/test_fetching.py), prints per case the
wall time and what `iter_inputs` yielded; it also runs on a tree from before the fetch policy existed (set
PYTHONPATH to it), to compare.

`injection`: how many planted instructions reach the user, by language, in final answers and in answer streams,
through an OpenAI-compatible fake model that obeys them (tests/obedient_llm.py) and through the extractive
answerer. The articles and instructions are synthetic (written for the tests). Runs on the newsrag found on
PYTHONPATH, so the same command measures an older checkout too.

`screen`: the false-positive side of the injection defences: the share of real articles (or claim sets'
passages) in which the instruction patterns find a span, their sentences the patterns flag (`--show N` prints
them), and the share the answer screen would remove. Runs on the newsrag found on PYTHONPATH, so the same
command measures an older checkout too.
"""

from __future__ import annotations

import argparse
import http.server
import importlib.util
import json
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


# --- fetch ------------------------------------------------------------------------------------------------------

def fetch() -> int:
    import re

    # the test module's handler and feed helpers, without its imports of the fetch policy (an older tree lacks them)
    src = re.sub(r"^from ingest\.(?:fetching|loaders) import (?:\([^)]*\)|.*)$", "", (TESTS / "test_fetching.py").read_text(),
                 flags=re.M)
    ns: dict = {"__name__": "front_doors"}
    exec(compile(src.split("@pytest.fixture")[0], str(TESTS / "test_fetching.py"), "exec"), ns)  # handler, feed()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ns["Handler"])
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    base = f"http://127.0.0.1:{port}"
    from ingest.loaders import iter_inputs

    try:
        from ingest.fetching import FetchPolicy, parse_allow
        loopback = parse_allow("127.0.0.1")[1]
        allow = lambda t, **kw: {"policy": FetchPolicy(allow_networks=loopback, timeout=t, **kw)}  # noqa: E731
    except ImportError:  # the code before ingest.fetching
        allow = lambda t, **kw: {"timeout": t}  # noqa: E731
    default: dict = {}

    def run(label: str, targets: list[str], kwargs: dict) -> None:
        started = time.monotonic()
        items = list(iter_inputs(targets, **kwargs))
        shown = [f"{type(i).__name__}: {(getattr(i, 'reason', None) or getattr(i, 'body', ''))[:90]}" for i in items]
        print(f"{label}: {time.monotonic() - started:.1f}s, {len(items)} items, first: {shown[:1]}")

    run("secret, default settings", [f"{base}/secret"], default)
    run("secret, decimal spelling", [f"http://2130706433:{port}/secret"], default)
    run("redirect to the secret", [f"{base}/redirect?to=/secret"], default)
    run("trickle, timeout 1s (allowed)", [f"{base}/trickle"], allow(1.0))
    run("feed of 20 hanging entries, timeout 1s (allowed)", [f"{base}/feed?n=20&to=/hang"], allow(1.0, concurrency=20)
        if "policy" in allow(1.0) else allow(1.0))
    ns["STOP"].set()
    srv.shutdown()
    return 0


# --- injection --------------------------------------------------------------------------------------------------

def _obedient():
    spec = importlib.util.spec_from_file_location("obedient_llm", TESTS / "obedient_llm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _streamed(assistant, question: str, source: str) -> tuple[str, str]:
    from rag.core.events import Final, TextPiece

    pieces, final = [], ""
    for piece in assistant.stream(question, sources=[source]):
        if isinstance(piece, Final):
            final = piece.answer.text
        elif isinstance(piece, TextPiece):
            pieces.append(piece.text)
    return final, "".join(pieces)


def injection_table(rows: list[dict]) -> list[dict]:
    by: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        by[(r["lang"], "hidden html" if r["hidden"] else "text")].append(r)
        by[("all", "all")].append(r)
    out = []
    for (lang, kind), rs in sorted(by.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        out.append({"lang": lang, "kind": kind, "runs": len(rs), "final": sum(r["final"] for r in rs),
                    "stream": sum(r["stream"] for r in rs), "answered": sum(r["answered"] for r in rs)})
    return out


def injection(json_out: str | None) -> int:
    from ingest import Ingestor
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings

    obedient = _obedient()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runs = obedient.write_inputs(root)
        home = root / "home"
        Ingestor(Settings(home=home, near_duplicate_threshold=0.99)).ingest([str(root)])
        with obedient.obedient_server() as fake:
            llm = Assistant.from_settings(Settings(home=home, llm="openai:obedient", openai_base_url=fake.url,
                                                   openai_api_key="sk-bench", llm_timeout=10))
            results["obedient LLM"] = obedient.leaks(runs, lambda q, s: _streamed(llm, q, s))
        extractive = Assistant.from_settings(Settings(home=home, llm="extractive"))
        results["extractive"] = obedient.leaks(runs, lambda q, s: _streamed(extractive, q, s))
    for name, rows in results.items():
        print(f"\n{name}: planted instructions whose payload reached the user")
        print("| language | article | runs | in final answer | in stream | answered with a citation |")
        print("|---|---|---|---|---|---|")
        for t in injection_table(rows):
            print(f"| {t['lang']} | {t['kind']} | {t['runs']} | {t['final']} | {t['stream']} | {t['answered']} |")
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


# --- screen -----------------------------------------------------------------------------------------------------

def screen_rate(paths: list[str], show: int = 0) -> int:
    """Articles (a `body` field) or claim sets' passages (a `passage` field), each distinct text once: those with
    an instruction span, their sentences the patterns flag and the screen removes (every one a false positive:
    these are publishers' pages, not planted text); `show`: print that many flagged sentences."""
    from rag.check.stream import screen
    from rag.nlp.injection import instruction_spans
    from rag.nlp.sentences import statement_spans

    articles = flagged = sentences = removed = patterned = 0
    seen: set[str] = set()
    shown: list[str] = []
    for path in paths:
        for line in open(path, encoding="utf-8"):
            record = json.loads(line)
            text = record.get("body") or record.get("passage") or ""
            if not text or text in seen:
                continue
            seen.add(text)
            articles += 1
            flagged += bool(instruction_spans(text))
            for s, e in statement_spans(text):
                sentences += 1
                removed += bool(screen(text[s:e], "What happened?")[1])
                if instruction_spans(text[s:e]):
                    patterned += 1
                    if len(shown) < show:
                        shown.append(text[s:e].strip()[:200])
    print(f"texts {articles}: with an instruction span {flagged} ({flagged / max(1, articles):.2%})")
    print(f"sentences {sentences}: flagged by the patterns {patterned}; removed by the screen {removed} "
          f"({removed / max(1, sentences):.2%})")
    for sentence in shown:
        print("  -", sentence)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    sub.add_parser("fetch", help="fetching against a local HTTP server")
    inj = sub.add_parser("injection", help="planted instructions that reach the user")
    inj.add_argument("--json", help="write the rows here too")
    scr = sub.add_parser("screen", help="real news the screen and the patterns would remove")
    scr.add_argument("paths", nargs="+", help="articles as JSON lines (a `body` field) or claims (a `passage`)")
    scr.add_argument("--show", type=int, default=0, help="print this many sentences the patterns flag")
    args = ap.parse_args(argv)
    if args.what == "fetch":
        return fetch()
    if args.what == "injection":
        return injection(args.json)
    return screen_rate(args.paths, args.show)


if __name__ == "__main__":
    sys.exit(main())
