"""How much real news text the answer screen (rag/check/stream.screen) and the instruction patterns
(rag/nlp/injection.py) would remove: the false-positive side of the injection defences.

    PYTHONPATH=$PWD python benchmarks/screen_rate.py ../shared/eval/realtimeqa/articles.jsonl [more.jsonl ...]
"""

from __future__ import annotations

import json
import sys

from rag.check.stream import screen
from rag.nlp.injection import instruction_spans
from rag.nlp.sentences import statement_spans


def main(paths: list[str]) -> int:
    articles = flagged = sentences = removed = 0
    for path in paths:
        for line in open(path, encoding="utf-8"):
            text = json.loads(line).get("body") or ""
            articles += 1
            flagged += bool(instruction_spans(text))
            for s, e in statement_spans(text):
                sentences += 1
                removed += bool(screen(text[s:e], "What happened?")[1])
    print(f"articles {articles}: with an instruction span {flagged} ({flagged / max(1, articles):.2%})")
    print(f"sentences {sentences}: removed by the screen {removed} ({removed / max(1, sentences):.2%})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
