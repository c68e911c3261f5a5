"""Attribution of the quote index (rag.attribution.quote_index.index_quotes, which uses rag.attribution.quotes.find_quotes) against a
hand-labelled sample of direct quotations from the realtimeqa pages.

    python benchmarks/attribution.py ../shared/eval/realtimeqa/articles.jsonl benchmarks/attribution_sample.jsonl

The sample holds article ids, offsets into the cleaned article text, the first words of each quotation (to find
it again if cleaning moves the offsets) and the speaker the text credits ("-" when it credits nobody: a title,
a scare quote, an unnamed fan). Labelled by reading the pages, not by the extractor.
  recall: labelled quotations with a speaker that the index credits to that speaker;
  precision: quotations the index credits to someone, credited to the right one (a "-" label counts as wrong).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.cleaning import clean  # noqa: E402
from rag.attribution.quote_index import index_quotes  # noqa: E402
from rag.core.schema import RawArticle  # noqa: E402
from rag.nlp.text import same_person  # noqa: E402


def main(articles_path: str, sample_path: str) -> int:
    sample = [json.loads(line) for line in Path(sample_path).read_text().splitlines() if line.strip()]
    wanted = {s["article_id"] for s in sample}
    texts = {}
    for line in Path(articles_path).read_text().splitlines():
        a = json.loads(line)
        if a["id"] in wanted:
            texts[a["id"]] = clean(RawArticle(body=a["body"], origin=a["id"], title=a.get("title"), url=a.get("url"),
                                              source=a.get("source"))).text
    quotes = {aid: index_quotes(aid, t) for aid, t in texts.items()}
    tp = credited = labelled = found_right = 0
    rows = []
    for s in sample:
        text = texts[s["article_id"]]
        at = text.find(s["fragment"], max(0, s["offset"] - 200))
        at = s["offset"] if at < 0 else at
        span = (at, at + len(s["fragment"]) + 1)
        over = [q for q in quotes[s["article_id"]] if q.start < span[1] and span[0] < q.end + 1]
        speaker = next((q.speaker for q in over if q.speaker), None)
        gold = None if s["speaker"] == "-" else s["speaker"]
        right = bool(gold and speaker and same_person(speaker, gold))
        if gold:
            labelled += 1
            found_right += right
        if speaker:
            credited += 1
            tp += right
        rows.append((s["article_id"], s["offset"], gold or "-", speaker or "-", "ok" if right or (not gold and
                                                                                       not speaker) else "WRONG"))
    for r in rows:
        print(*r, sep="\t")
    print(f"\nsample {len(sample)} quotations ({labelled} with a credited speaker); "
          f"precision {tp / credited:.2f} ({tp}/{credited}), recall {found_right / labelled:.2f} "
          f"({found_right}/{labelled})")
    return 0


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("articles", help="the pages, as JSON lines (../shared/eval/realtimeqa/articles.jsonl)")
    ap.add_argument("sample", help="a hand-labelled sample (benchmarks/attribution_*.jsonl)")
    args = ap.parse_args()
    sys.exit(main(args.articles, args.sample))
