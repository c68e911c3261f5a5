"""Does the claim check carry over to model text nobody here tuned on? Two public sets of model-written summaries
labelled by people, from other sources and other models than RAGTruth's, read into claims rows and scored with
`score_claims` at today's settings and at an earlier pair, side by side.

    python benchmarks/carryover_sets.py --faithbench DIR --summedits FILE [--json OUT]
        [--setting NAME=THRESHOLD,SPREAD ...] [--then TREE]

- **FaithBench** (Bao et al., NAACL 2025; the vectara/FaithBench repository, `data_for_release/batch_*.json`,
  CC BY-NC-SA 4.0: read here for internal evaluation, never copied into the product): 750 summaries by ten 2024
  LLMs (GPT-4o, Claude 3.5 Sonnet, Llama-3.1, Qwen2.5-7B, Mistral-7B, Phi-3, Gemini 1.5 Flash, Command-R,
  GPT-3.5), each span a person found unfaithful marked "Unwanted" (intrinsic / extrinsic), "Questionable" or
  "Benign". The set was chosen where strong detectors disagree, so it is hard by design. Rows here are sentences
  of the summaries (`rag.nlp.sentences.sentence_spans`): unsupported when an "Unwanted" span of any annotator
  overlaps the sentence (the authors' "worst" pooling), supported when no span but "Benign" ones does, left out
  when only "Questionable" spans do. A summary's opening line ("Here is a concise summary of the passage:") is a
  row like any other, as RAGTruth's are.
- **SummEdits, news** (Laban et al., EMNLP 2023; the salesforce/factualNLG repository,
  `data/summedits/summedits_news.json`, Apache-2.0): 819 summaries of 24 news articles, nearly all one sentence:
  minimal edits, made by GPT-3.5, of a seed summary, each labelled consistent or not by people. Rows are the
  summaries' sentences; a summary's label is its response's (`response_id`), so the response-level figures are
  the set's own.

`--then TREE` also scores the check as it was when issue #23 was filed (two verdicts: a sentence was kept or deleted),
from a checkout of that commit (`git worktree add TREE 6ec6bb1`), in a process of its own.

The rules were not tuned on either set, and their rows were not read while writing rules. Settings are
`NAME=THRESHOLD,SPREAD` (support threshold, spread coverage); default: `today` (the check's constants) and
`session24=0.55,0.75`. Prints numbers only; `--json` writes the reports (ids and numbers, no text).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.check.claims import SUPPORT_THRESHOLD  # noqa: E402
from rag.check.claims import verdict as verdict_mod  # noqa: E402
from rag.eval.claims import label_figures, score_claims  # noqa: E402
from rag.nlp.sentences import sentence_spans  # noqa: E402


def _samples(folder: str | Path):
    """(batch name, sample) for every sample of every FaithBench batch in `folder`."""
    for path in sorted(Path(folder).glob("batch_*.json")):
        for sample in json.loads(path.read_text(encoding="utf-8"))["samples"]:
            yield path.stem, sample


def _unwanted(labels) -> bool:
    """Does a set of FaithBench labels mark a hallucination ("Unwanted", "Unwanted.Intrinsic", ...)?"""
    return any(x.startswith("Unwanted") for x in labels)


def faithbench_rows(folder: str | Path) -> list[dict[str, Any]]:
    """Sentence rows of every FaithBench batch in `folder` (see the module docstring for the labels)."""
    rows: list[dict[str, Any]] = []
    for batch, sample in _samples(folder):
        summary = sample["summary"]
        rid = f"fb_{batch}_{sample['sample_id']}"
        model = str(sample.get("metadata", {}).get("summarizer", "?")).split("/")[-1]
        spans = [(a.get("summary_start"), a.get("summary_end"), set(a.get("label") or []))
                 for a in sample.get("annotations", [])]
        for k, (start, end) in enumerate(sentence_spans(summary)):
            sentence = summary[start:end].strip()
            if not sentence:
                continue
            labels: set[str] = set()
            for s, e, lab in spans:
                if s is None or e is None or e <= start or s >= end:
                    continue
                labels |= lab
            unwanted = _unwanted(labels)
            if not unwanted and "Questionable" in labels:
                continue
            rows.append({"id": f"{rid}_s{k}", "response_id": rid,
                         "article_id": f"fb_src_{hash_of(sample['source'])}", "passage": sample["source"],
                         "claim": sentence, "supported": not unwanted,
                         "kind": f"faithbench_{'supported' if not unwanted else 'unwanted'}", "model": model})
    return rows


def faithbench_detectors(folder: str | Path) -> dict[str, Any]:
    """Per-summary balanced accuracy of the detectors whose verdicts FaithBench ships in each sample's metadata
    (GPT-4o, GPT-4-Turbo, GPT-3.5 as judges, HHEM, TrueTeacher, TRUE NLI; a score under 0.5 flags the summary),
    on the same labels as here (a summary is hallucinated when any annotator marked an "Unwanted" span). The set
    was chosen where these detectors disagree, which holds their figures down; the check here took no part in that
    choice."""
    pairs: dict[str, list[tuple[bool, bool]]] = {}
    for _, sample in _samples(folder):
        bad = _unwanted(x for a in sample.get("annotations", []) for x in (a.get("label") or []))
        for name, value in sample.get("metadata", {}).items():
            if name in ("summarizer", "raw_sample_id") or not isinstance(value, (int, float)):
                continue
            pairs.setdefault(name, []).append((bad, value < 0.5))
    out = {}
    for name, items in pairs.items():
        flagged = [f for b, f in items if b]
        passed = [not f for b, f in items if not b]
        fl, pa = sum(flagged) / len(flagged), sum(passed) / len(passed)
        out[name] = {"summaries": len(items), "flagged_hallucinated": _r(fl), "passed_faithful": _r(pa),
                     "balanced_accuracy": _r((fl + pa) / 2)}
    return out


def summedits_rows(path: str | Path) -> list[dict[str, Any]]:
    """Sentence rows of SummEdits' news file; every sentence carries its summary's label (one sentence for almost
    all), the summary is the response."""
    rows: list[dict[str, Any]] = []
    for item in json.loads(Path(path).read_text(encoding="utf-8")):
        ok = int(item["label"]) == 1
        summary = item["summary"]
        for k, (start, end) in enumerate(sentence_spans(summary)):
            sentence = summary[start:end].strip()
            if sentence:
                rows.append({"id": f"se_{item['id']}_s{k}", "response_id": f"se_{item['id']}",
                             "article_id": f"se_src_{hash_of(item['doc'])}", "passage": item["doc"], "claim": sentence,
                             "supported": ok, "kind": f"summedits_{'consistent' if ok else 'inconsistent'}"})
    return rows


def hash_of(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def scored(rows: list[dict[str, Any]], threshold: float, spread: float) -> dict[str, Any]:
    """score_claims at this threshold and spread coverage (the module constant, restored afterwards)."""
    saved = verdict_mod._SPREAD_COVERAGE
    verdict_mod._SPREAD_COVERAGE = spread
    try:
        report = score_claims(rows, threshold=threshold)
    finally:
        verdict_mod._SPREAD_COVERAGE = saved
    report["spread_coverage"] = spread
    wrong = {w["id"] for w in report.pop("wrong", [])}
    report["response_level"] = response_level(rows, wrong)
    return report


def response_level(rows: list[dict[str, Any]], wrong: set[str]) -> dict[str, Any]:
    """Each response (summary) as one item: hallucinated when any of its rows is unsupported, flagged when the
    check confirms not all of its rows; the share of hallucinated ones flagged, of faithful ones passed, and their
    mean (the balanced accuracy both sets' papers report per summary)."""
    items: dict[str, list[bool]] = {}
    for r in rows:
        confirmed = (r["id"] not in wrong) == r["supported"]
        e = items.setdefault(r["response_id"], [False, False])
        e[0] |= not r["supported"]
        e[1] |= not confirmed
    bad = [f for h, f in items.values() if h]
    good = [not f for h, f in items.values() if not h]
    flagged = sum(bad) / len(bad) if bad else None
    passed = sum(good) / len(good) if good else None
    return {"responses": len(items), "hallucinated": len(bad), "flagged_hallucinated": _r(flagged),
            "passed_faithful": _r(passed),
            "balanced_accuracy": _r((flagged + passed) / 2) if bad and good else None}


def _r(x: float | None) -> float | None:
    return round(x, 3) if x is not None else None


_THEN = """
import json, sys
from rag.claims import judge, clear_caches
for line in sys.stdin:
    r = json.loads(line)
    clear_caches()
    print(json.dumps(judge(r["claim"], r["passage"], threshold=0.5).ok))
"""


def scored_then(rows: list[dict[str, Any]], tree: str) -> dict[str, Any]:
    """The figures of the two-verdict check in `tree` (0.5, its default threshold then): what it did not keep, it
    deleted."""
    import subprocess
    feed = "".join(json.dumps({"claim": r["claim"], "passage": r["passage"]}) + "\n" for r in rows)
    done = subprocess.run([sys.executable, "-c", _THEN], input=feed, capture_output=True, text=True, check=True,
                          cwd=tree, env={"PYTHONPATH": tree, "PATH": "/usr/bin:/bin"})
    kept = [json.loads(x) for x in done.stdout.split()]
    if len(kept) != len(rows):
        raise SystemExit(f"{tree}: {len(kept)} verdicts for {len(rows)} rows")
    # then, what the check did not keep it deleted: today's "contradicted"
    figures = label_figures(rows, ["supported" if k else "contradicted" for k in kept])
    wrong = {r["id"] for k, r in zip(kept, rows) if k != r["supported"]}
    return {"claims": len(rows), **figures, "ms_p95": None, "response_level": response_level(rows, wrong)}


def summary_line(name: str, rep: dict[str, Any]) -> str:
    rl = " ".join(f"{k}={v}" for k, v in rep["response_level"].items())
    return (f"  {name:<10} n={rep['claims']:<5} true_removed={rep.get('true_removed')} "
            f"false_confirmed={rep.get('false_confirmed')} kept_supported={rep.get('kept_supported')} "
            f"rejected_unsupported={rep.get('rejected_unsupported')} BA={rep.get('balanced_accuracy')} "
            f"ms_p95={rep.get('ms_p95')}\n    responses: {rl}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faithbench", help="folder holding FaithBench's data_for_release/batch_*.json")
    ap.add_argument("--summedits", help="SummEdits' data/summedits/summedits_news.json")
    ap.add_argument("--setting", action="append", default=[],
                    help="NAME=THRESHOLD,SPREAD (repeatable); default: today and session24=0.55,0.75")
    ap.add_argument("--then", help="a checkout of commit 6ec6bb1 (the check when issue #23 was filed)")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    if not args.faithbench and not args.summedits:
        ap.error("give --faithbench DIR and/or --summedits FILE")
    settings = {"today": (SUPPORT_THRESHOLD, verdict_mod._SPREAD_COVERAGE)}
    for s in args.setting or ["session24=0.55,0.75"]:
        name, _, vals = s.partition("=")
        t, _, sp = vals.partition(",")
        try:
            settings[name] = (float(t), float(sp))
        except ValueError:
            ap.error(f"--setting {s!r}: write NAME=THRESHOLD,SPREAD, two numbers, as session24=0.55,0.75")
    sets = {}
    for name, path, read, what in (("faithbench", args.faithbench, faithbench_rows,
                                    "a folder holding FaithBench's data_for_release/batch_*.json"),
                                   ("summedits_news", args.summedits, summedits_rows,
                                    "SummEdits' data/summedits/summedits_news.json")):
        if not path:
            continue
        try:
            sets[name] = read(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            ap.error(f"{path} could not be read as {what} ({type(exc).__name__}: {str(exc)[:200]})")
        if not sets[name]:
            ap.error(f"{path} holds no rows: give {what}")
    out: dict[str, Any] = {"command": "benchmarks/carryover_sets.py " + " ".join(argv or sys.argv[1:]),
                           "settings": {k: {"threshold": v[0], "spread_coverage": v[1]} for k, v in settings.items()}}
    for set_name, rows in sets.items():
        n_sup = sum(r["supported"] for r in rows)
        print(f"{set_name}: {len(rows)} sentences ({n_sup} supported, {len(rows) - n_sup} not), "
              f"{len({r['response_id'] for r in rows})} responses")
        out[set_name] = {}
        for name, (t, sp) in settings.items():
            rep = scored(rows, t, sp)
            out[set_name][name] = rep
            print(summary_line(name, rep))
        if args.then:
            rep = scored_then(rows, args.then)
            out[set_name]["then"] = rep
            print(summary_line("then", rep))
        if set_name == "faithbench":  # by summarizer, today's setting
            by_model: dict[str, Any] = {}
            for model in sorted({r["model"] for r in rows}):
                part = [r for r in rows if r["model"] == model]
                rep = scored(part, *settings["today"])
                by_model[model] = {k: rep.get(k) for k in ("claims", "true_removed", "false_confirmed",
                                                            "kept_supported", "balanced_accuracy")}
            out[set_name]["today_by_model"] = by_model
            for model, figs in by_model.items():
                print(f"    {model:<36} {figs}")
            out[set_name]["detectors"] = faithbench_detectors(args.faithbench)
            for name, figs in out[set_name]["detectors"].items():
                print(f"    detector {name:<20} per summary {figs}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=1), encoding="utf-8")
        print(f"wrote {args.json_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
