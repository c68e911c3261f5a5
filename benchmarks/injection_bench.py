"""How many planted instructions reach the user, by language: final answers and answer streams, through an
OpenAI-compatible fake model that obeys them (tests/obedient_llm.py) and through the extractive answerer.

    PYTHONPATH=$PWD python benchmarks/injection_bench.py [--json out.json]

The articles and instructions are synthetic (written for the tests). Runs on the newsrag found on PYTHONPATH,
so the same script measures an older checkout too (PYTHONPATH=/path/to/old/checkout).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

_HERE = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("obedient_llm", _HERE / "tests" / "obedient_llm.py")
obedient = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(obedient)  # type: ignore[union-attr]


def _streamed(assistant, question: str, source: str) -> tuple[str, str]:
    from rag.core.events import Final, TextPiece

    pieces, final = [], ""
    for piece in assistant.stream(question, sources=[source]):
        if isinstance(piece, Final):
            final = piece.answer.text
        elif isinstance(piece, TextPiece):
            pieces.append(piece.text)
    return final, "".join(pieces)


def table(rows: list[dict]) -> list[dict]:
    by: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        by[(r["lang"], "hidden html" if r["hidden"] else "text")].append(r)
        by[("all", "all")].append(r)
    out = []
    for (lang, kind), rs in sorted(by.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        out.append({"lang": lang, "kind": kind, "runs": len(rs), "final": sum(r["final"] for r in rs),
                    "stream": sum(r["stream"] for r in rs), "answered": sum(r["answered"] for r in rs)})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows here too")
    args = parser.parse_args(argv)
    from ingest import Ingestor
    from rag.answer.assistant import Assistant
    from rag.core.settings import Settings

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
        for t in table(rows):
            print(f"| {t['lang']} | {t['kind']} | {t['runs']} | {t['final']} | {t['stream']} | {t['answered']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
