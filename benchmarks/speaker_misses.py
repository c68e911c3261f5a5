"""Read the who-said-what misses one by one: each question of a speakers set asked through the same path as
`newsrag eval` (Assistant.ask on an existing store), and for every answer that does not contain the gold, the
answer, the gold and the sentences the citation check dropped (answer.dropped).

    NEWSRAG_EMBEDDING_CACHE=/work/embcache python benchmarks/speaker_misses.py --store /tmp/rt \\
        --questions ../shared/eval/speakers/questions.jsonl [--type what_did_say] [--all]

Run `newsrag eval` on the store first (it ingests the articles); this only asks. Prints publishers' words to
the terminal for reading; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.assistant import Assistant  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from rag.eval.metrics import contains_answer  # noqa: E402
from rag.nlp.text import norm  # noqa: E402

_MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")  # the citation markers, as `newsrag eval` strips them


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--type", help="only questions of this type (who_said, what_did_say)")
    ap.add_argument("--llm", default="extractive")
    ap.add_argument("--all", action="store_true", help="print the hits too")
    args = ap.parse_args()
    assistant = Assistant.from_settings(Settings.from_env(home=args.store, llm=args.llm))
    questions = [json.loads(line) for line in open(args.questions, encoding="utf-8") if line.strip()]
    missed = asked = 0
    for q in questions:
        if args.type and q.get("type") != args.type:
            continue
        asked += 1
        gold = q["answer"] if isinstance(q["answer"], list) else [q["answer"]]
        answers = [a for a in (norm(g).rstrip(" .") for g in gold) if a]
        answer = assistant.ask(q["question"])
        text = _MARKS.sub("", answer.text)
        ok = not answer.refused and contains_answer(text, answers)
        if ok and not args.all:
            continue
        missed += not ok
        print(f"=== {q['id']} {'ok' if ok else 'MISS'}{' (refused)' if answer.refused else ''}: {q['question']}")
        print(f"  gold: {gold}")
        print(f"  answer: {answer.text}")
        for d in answer.dropped:
            print(f"  dropped [{d.get('rule')}]: {d.get('sentence', '')[:200]} ({str(d.get('detail', ''))[:80]})")
    print(f"\n{missed} of {asked} missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
