"""What the benchmark scripts share: the question list, percentiles, the synthetic-article recipe, the machine
description and how a result is written. Imported by the scripts beside it; not a benchmark itself.

The synthetic recipe (SYNTHETIC data): a real article with its sentences shuffled, one word in ten replaced by
another word of the corpus and a random day in 91 from 2023-09-01. `query_bench.py` grows stores with it (with
the real passages' vectors plus noise), `catalog_bench.py` grows catalogs with it (no vectors).
"""

from __future__ import annotations

import json
import os
import platform
import random
from dataclasses import replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_EVAL = ROOT.parent / "shared" / "eval"
QUESTION_FILES = [SHARED_EVAL / d / "questions.jsonl" for d in ("realtimeqa", "multihop_rag")]
DAY0 = "2023-09-01"

__all__ = ["ROOT", "SHARED_EVAL", "DAY0", "questions", "pct", "emit", "machine", "load_average", "perturb",
           "variant"]


def questions(n: int) -> list[str]:
    """The first n question texts: all of realtimeqa's, then MultiHop-RAG's (../shared/eval)."""
    out: list[str] = []
    for path in QUESTION_FILES:
        if path.exists():
            with open(path, encoding="utf-8") as f:
                out.extend(json.loads(line)["question"] for line in f if line.strip())
    return out[:n]


def pct(values: list[float]) -> dict:
    """p50 / p95 / max of durations given in seconds, in milliseconds, and how many."""
    import numpy as np

    a = np.asarray(values, dtype=float) * 1000.0
    return {"p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1),
            "max": round(float(a.max()), 1), "n": len(values)}


def emit(out: dict, path: str | Path | None, hide: tuple[str, ...] = ()) -> None:
    """Print a benchmark's result (without the keys in `hide`, such as its per-row list) and, given a path, write
    all of it there as JSON."""
    print(json.dumps({k: v for k, v in out.items() if k not in hide}, indent=1))
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(out, indent=1) + "\n")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict:
    """What the figures were measured on."""
    try:
        import psutil

        mem = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # psutil is optional here
        mem = None
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "memory_gib": mem, "gpu": False, "load_average": load_average()}


@lru_cache(maxsize=20_000)
def _sentences(text: str) -> tuple[str, ...]:
    """The sentences of an original (each is copied a hundred times on the way to 1M passages)."""
    from rag.nlp.sentences import split_sentences

    return tuple(split_sentences(text) or [text])


def perturb(text: str, vocab: list[str], rng: random.Random) -> str:
    """The text's sentences shuffled, one word in ten replaced by a word of `vocab`, in paragraphs of four."""
    sents = list(_sentences(text))
    rng.shuffle(sents)
    out = []
    for s in sents:
        ws = s.split()
        for i in range(len(ws)):
            if rng.random() < 0.1:
                ws[i] = rng.choice(vocab)
        out.append(" ".join(ws))
    paras = [" ".join(out[i:i + 4]) for i in range(0, len(out), 4)]
    return "\n\n".join(paras)


def variant(a, tag: str, round_no: int, vocab: list[str], rng: random.Random, url_path: str = ""):
    """A synthetic copy of article `a`: sentences shuffled, a word in ten replaced, a random day in 91 from DAY0."""
    day = date.fromisoformat(DAY0) + timedelta(days=rng.randrange(91))
    return replace(a, id=f"{tag}{round_no}-{a.id}", text=perturb(a.text, vocab, rng),
                   title=perturb(a.title, vocab, rng), published_at=day.isoformat(),
                   url=f"https://synthetic.example/{url_path}{round_no}/{a.id}",
                   content_hash=f"{tag}{round_no}{a.content_hash}")
