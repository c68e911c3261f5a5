"""How often ingest dates an article right, with the URL (the reference) hidden from the extractor.

    python benchmarks/date_extraction.py [--articles ../shared/eval/realtimeqa/articles.jsonl]
                                         [--json benchmarks/results/dates_realtimeqa.json]

Reference: the day in each page's URL path (/2023/09/25/). Pages without one are left out. Each record is
loaded as ingest loads it, then its `url` is set to None and it is cleaned and described
(ingest.metadata.describe) from what is left: the record's own date field, its fetch time, its text.
A page is "right" when the extracted day equals the URL's day, "wrong" when a day is given but differs,
"undated" when none is given. Reported overall and by date_source (metadata / record / text / relative).

Also reported: the date_source of every page as ingested, URL included.

Outlets: the share of pages given an outlet as ingested (the record's source, else the byline, else the
URL host), and with the record's source and URL both hidden (the byline alone), beside the share of pages
that credit an outlet ("Source: X").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARTICLES = ROOT.parent / "shared" / "eval" / "realtimeqa" / "articles.jsonl"
sys.path.insert(0, str(ROOT))

from ingest.cleaning import clean  # noqa: E402
from ingest.dates import date_from_url  # noqa: E402
from ingest.loaders import iter_inputs  # noqa: E402
from ingest.metadata import describe  # noqa: E402
from rag.core.schema import RawArticle  # noqa: E402

__all__ = ["run", "main"]


def run(articles: Path) -> dict:
    raws = [r for r in iter_inputs([str(articles)]) if isinstance(r, RawArticle)]
    outcome: Counter = Counter()
    by_source: dict[str, Counter] = {}
    outlets = {"as_ingested": 0, "source_and_url_hidden": 0, "credited": 0}
    authors = 0
    as_ingested: Counter = Counter()  # date_source with the URL given, as `newsrag ingest` stores them
    wrong_examples = []
    for raw in raws:
        reference = date_from_url(raw.url)
        hidden = dataclasses.replace(raw, url=None)
        cleaned = clean(hidden)
        meta = describe(hidden, cleaned)
        full = describe(raw, clean(raw))
        outlets["as_ingested"] += bool(full.source)
        alone = describe(dataclasses.replace(raw, url=None, source=None), cleaned)
        outlets["source_and_url_hidden"] += bool(alone.source)
        outlets["credited"] += bool(meta.credited_source)
        authors += bool(full.author)
        as_ingested[full.date_source or "undated"] += 1
        if reference is None:
            continue
        kind = "undated" if meta.published_at is None else ("right" if meta.published_at == reference else "wrong")
        outcome[kind] += 1
        by_source.setdefault(meta.date_source or "none", Counter())[kind] += 1
        if kind == "wrong" and len(wrong_examples) < 20:
            wrong_examples.append({"url_day": reference, "extracted": meta.published_at, "by": meta.date_source})
    n = sum(outcome.values())
    share = lambda k: round(outcome[k] / n, 4) if n else 0.0  # noqa: E731
    return {
        "articles": str(articles), "pages": len(raws), "pages_with_url_date": n,
        "right": share("right"), "wrong": share("wrong"), "undated": share("undated"), "counts": dict(outcome),
        "by_source": {k: dict(v) for k, v in sorted(by_source.items())},
        "as_ingested_date_sources": dict(as_ingested),
        "outlet_share": {k: round(v / len(raws), 4) for k, v in outlets.items()},
        "author_share": round(authors / len(raws), 4),
        "wrong_examples": wrong_examples,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    p.add_argument("--json", type=Path, help="write the report here")
    args = p.parse_args(argv)
    report = run(args.articles)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
