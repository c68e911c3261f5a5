"""How much real news the instruction patterns (rag/nlp/injection.py) flag: articles with any span, and the flagged
sentences themselves (every one a false positive: these are publishers' pages, not planted text).

    PYTHONPATH=$PWD python benchmarks/injection_false_positives.py ../shared/eval/realtimeqa/articles.jsonl \
        ../shared/eval/multihop_rag/articles.jsonl ../shared/eval/ragtruth/claims.jsonl [--show 20]

Runs on the newsrag found on PYTHONPATH, so the same command measures an older checkout too.
"""

from __future__ import annotations

import argparse
import json
import re


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--show", type=int, default=20, help="print this many flagged sentences")
    args = parser.parse_args(argv)
    from rag.nlp.injection import instruction_spans

    articles = flagged = sentences = flagged_sentences = 0
    shown: list[str] = []
    seen: set[str] = set()
    for name in args.files:
        with open(name, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                body = record.get("body") or record.get("passage") or ""  # articles, or claim sets' passages
                if body in seen:
                    continue
                seen.add(body)
                articles += 1
                spans = instruction_spans(body)
                flagged += bool(spans)
                for sentence in re.split(r"(?<=[.!?])\s+|\n+", body):
                    if sentence.strip():
                        sentences += 1
                        if instruction_spans(sentence):
                            flagged_sentences += 1
                            if len(shown) < args.show:
                                shown.append(sentence.strip()[:200])
    print(f"articles flagged: {flagged} of {articles}")
    print(f"sentences flagged: {flagged_sentences} of {sentences}")
    for s in shown:
        print("  -", s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
