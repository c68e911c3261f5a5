"""Refusal and conflict figures of an `newsrag eval --json` report, split into two halves by question id, so
that a setting chosen on one half can be checked on the other.

    python benchmarks/halves.py report.json

Half A holds the questions whose id number n has n // 2 even, half B the others (the dev sets number their
questions with a step of two: every multihop_rag id is odd and every rgb_en_fact id even, so n % 2 would put
all of a set in one half). Prints numbers only.
"""

from __future__ import annotations

import json
import re


def half(qid: str) -> str:
    digits = re.findall(r"\d+", str(qid))
    return "A" if digits and (int(digits[-1]) // 2) % 2 == 0 else "B"


def figures(records: list[dict]) -> str:
    null = [r for r in records if r["unanswerable"]]
    rest = [r for r in records if not r["unanswerable"]]
    out = [f"n={len(records)}"]
    if null:
        out.append(f"null refused {sum(r['ask']['refused'] for r in null) / len(null):.3f} (n={len(null)})")
    if rest:
        out.append(f"wrong refusals {sum(r['ask']['refused'] for r in rest) / len(rest):.3f} (n={len(rest)})")
    stated = [r["ask"]["conflict_stated"] for r in records if "conflict_stated" in r["ask"]]
    if stated:
        out.append(f"conflict stated {sum(stated) / len(stated):.3f} (n={len(stated)})")
    return ", ".join(out)


def main(path: str) -> None:
    records = [r for r in json.load(open(path))["questions"] if "ask" in r]
    for name in ("A", "B"):
        print(f"half {name}: " + figures([r for r in records if half(r["id"]) == name]))
    print("all:    " + figures(records))


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", help="a `newsrag eval --json` report")
    main(ap.parse_args().report)
