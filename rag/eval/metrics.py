"""Evaluation data and scoring: read articles/questions JSONL, decide what each question can be scored on,
match retrieved passages against gold answers and evidence, and aggregate per-question records into figures.

Matching is case-, white-space- and Unicode-form-insensitive; an answer must appear as whole words ("371"
does not match "1371"). Yes/no-style verdicts ("Yes", "No", "Consistent") are not looked for in passages.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from rag.nlp.text import norm

__all__ = ["Gold", "Evidence", "Corpus", "Doc", "is_evidence", "norm", "norm_url", "contains_answer", "load_jsonl", "gold_of",
           "rank_of", "evidence_rank", "evidence_recall", "summarize", "KS"]

KS = (1, 3, 5, 10)
_VERDICTS = {"yes", "no", "consistent", "inconsistent", "true", "false", "same", "different"}
_UNANSWERABLE = re.compile(r"^(insufficient information|not answerable|unanswerable|no answer)\b")
_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
_SEP = "\n\x00\n"  # between documents in a joined corpus: no answer can match across it


def norm_url(url: str | None) -> str:
    """An URL without scheme, www., query, fragment and trailing slash, lower case."""
    if not url:
        return ""
    u = re.sub(r"^[a-z]+://", "", url.strip().lower())
    u = re.sub(r"^www\.", "", u)
    return re.split(r"[?#]", u)[0].rstrip("/")


def _pattern(answer: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(answer) + r"(?!\w)")


def contains_answer(text: str, answers: Sequence[str], *, normalized: bool = False) -> bool:
    """Does `text` contain one of the (normalized) gold answers as whole words?"""
    t = text if normalized else norm(text)
    return any(_pattern(a).search(t) for a in answers)


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """One JSON object a line; blank lines skipped; a bad line is an error naming its number."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
    return out


@dataclass(frozen=True)
class Doc:
    """A retrieved passage reduced to what scoring needs."""

    article_id: str
    url: str  # normalized
    text: str  # normalized


@dataclass
class Corpus:
    """The articles as given (title + body), for 'does the answer/evidence occur anywhere?'."""

    joined: str
    ids: set[str]
    urls: set[str]

    @classmethod
    def from_articles(cls, articles: Iterable[dict[str, Any]]) -> "Corpus":
        texts, ids, urls = [], set(), set()
        for a in articles:
            texts.append(norm(f"{a.get('title') or ''}\n{a.get('body') or a.get('text') or ''}"))
            if a.get("id"):
                ids.add(str(a["id"]))
            if a.get("url"):
                urls.add(norm_url(a["url"]))
        return cls(_SEP.join(texts), ids, urls)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Corpus":
        return cls(_SEP.join(norm(t) for t in texts), set(), set())


@dataclass(frozen=True)
class Evidence:
    """One evidence item: its article (id and/or url) and the text units that show it in a passage."""

    article_id: str
    url: str  # normalized
    units: tuple[str, ...]

    def found_in(self, doc: Doc) -> bool:
        return ((bool(self.article_id) and doc.article_id == self.article_id) or (bool(self.url) and doc.url == self.url)
                or any(u in doc.text for u in self.units))


@dataclass
class Gold:
    """What one question is scored on."""

    answers: list[str]  # normalized, trailing full stop removed
    unanswerable: bool  # type null / answerable false / "Insufficient information"
    checkable: bool  # answers can be looked for in passages (not a yes/no verdict, not unanswerable)
    grounded: bool  # checkable and the answer occurs in the corpus (or the dataset's flag says so)
    evidence: list[Evidence] = field(default_factory=list)  # one per evidence article (items merged by article)
    evidence_present: bool = False  # some evidence article or text is in the corpus


def _units(text: str) -> tuple[str, ...]:
    """The evidence text itself and its sentences of 8+ words (a passage boundary may split the text)."""
    t = norm(text)
    if len(t.split()) < 4:
        return ()
    units = [t] + [s for s in _SPLIT.split(t) if len(s.split()) >= 8]
    return tuple(dict.fromkeys(units))


def gold_of(q: dict[str, Any], corpus: Corpus) -> Gold:
    raw = q.get("answer")
    answers = [raw] if isinstance(raw, str) else [a for a in (raw or []) if isinstance(a, str)]
    answers = [a for a in (norm(a).rstrip(" .") or norm(a) for a in answers) if a]
    unanswerable = (q.get("answerable") is False or q.get("type") in (None, "null", "null_query")
                    or any(_UNANSWERABLE.match(a) for a in answers))
    checkable = bool(answers) and not unanswerable and not all(a in _VERDICTS for a in answers)
    if checkable and "answer_in_retrieved_articles" in q:
        grounded = bool(q["answer_in_retrieved_articles"])
    else:
        grounded = checkable and contains_answer(corpus.joined, answers, normalized=True)
    g = Gold(answers, unanswerable, checkable, grounded)
    merged: dict[str, Evidence] = {}
    for e in q.get("evidence") or []:
        if not isinstance(e, dict):
            continue
        aid, url, units = str(e.get("article_id") or ""), norm_url(e.get("url")), _units(e.get("text") or "")
        key = aid or url or (units[0] if units else "")
        if not key:
            continue
        old = merged.get(key)
        merged[key] = Evidence(aid, url, tuple(dict.fromkeys((old.units if old else ()) + units)))
        g.evidence_present = g.evidence_present or (
            (aid and aid in corpus.ids) or (url and url in corpus.urls) or any(u in corpus.joined for u in units))
    g.evidence = list(merged.values())
    g.evidence_present = bool(g.evidence_present)
    return g


def rank_of(docs: Sequence[Doc], answers: Sequence[str]) -> int | None:
    """1-based rank of the first passage containing a gold answer, or None."""
    for i, d in enumerate(docs, 1):
        if contains_answer(d.text, answers, normalized=True):
            return i
    return None


def is_evidence(doc: Doc, gold: Gold) -> bool:
    """The passage is from an evidence article (id or url) or contains an evidence text."""
    return any(e.found_in(doc) for e in gold.evidence)


def evidence_rank(docs: Sequence[Doc], gold: Gold) -> int | None:
    for i, d in enumerate(docs, 1):
        if is_evidence(d, gold):
            return i
    return None


def evidence_recall(docs: Sequence[Doc], gold: Gold) -> float | None:
    """Share of the question's evidence articles found among `docs` (None without evidence)."""
    if not gold.evidence:
        return None
    return round(sum(1 for e in gold.evidence if any(e.found_in(d) for d in docs)) / len(gold.evidence), 4)


# -- aggregation ---------------------------------------------------------------------------------------------
def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _retrieval(ranks: Sequence[int | None]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(ranks)}
    for k in KS:
        out[f"hit@{k}"] = _share([r is not None and r <= k for r in ranks])
    out["mrr@10"] = round(sum(1.0 / r for r in ranks if r and r <= 10) / len(ranks), 4) if ranks else None
    return out


def _pct(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "n": 0}
    a = np.asarray(values, dtype=float) * 1000.0
    return {"p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1),
            "n": len(values)}


def summarize(records: Sequence[dict[str, Any]], systems: Sequence[str]) -> dict[str, Any]:
    """Figures for one group of per-question records (see rag.eval.run for the record layout)."""
    out: dict[str, Any] = {"n": len(records), "retrieval": {}}
    for s in systems:
        rs = [r["systems"][s] for r in records if s in r["systems"]]
        grounded = [x for r, x in zip(records, rs) if r["grounded"]]
        with_ev = [x for r, x in zip(records, rs) if r["evidence_present"]]
        ev = _retrieval([x["evidence_rank"] for x in with_ev])
        recalls = [x["evidence_recall@10"] for x in with_ev if x["evidence_recall@10"] is not None]
        ev["recall@10"] = round(sum(recalls) / len(recalls), 4) if recalls else None
        out["retrieval"][s] = {
            "answer": _retrieval([x["answer_rank"] for x in grounded]),
            "answer_in_index": _share([x["answer_in_index"] for x in grounded]),
            "evidence": ev,
            "empty_results": sum(1 for x in rs if x["n_hits"] == 0),
            "latency_ms": _pct([x["seconds"] for x in rs]),
        }
    asked = [r for r in records if r.get("ask")]
    if asked:
        out["answers"] = _answers(asked)
        out["citations"] = _citations(asked)
        out["latency_ms"] = {stage: _pct([r["ask"]["timings"][stage] for r in asked if stage in r["ask"]["timings"]])
                             for stage in ("retrieve", "answer", "total", "embed", "dense", "keyword", "fuse")}
    return out


def _answers(asked: Sequence[dict[str, Any]]) -> dict[str, Any]:
    grounded = [r for r in asked if r["grounded"]]
    answerable = [r for r in asked if not r["unanswerable"]]
    unanswerable = [r for r in asked if r["unanswerable"]]
    ungrounded = [r for r in asked if r["checkable"] and not r["grounded"]]
    return {
        "n_grounded": len(grounded),
        "contains_answer": _share([r["ask"]["contains_answer"] for r in grounded]),
        "n_unanswerable": len(unanswerable),
        "refused_unanswerable": _share([r["ask"]["refused"] for r in unanswerable]),
        "n_ungrounded": len(ungrounded),
        "refused_ungrounded": _share([r["ask"]["refused"] for r in ungrounded]),
        "n_answerable": len(answerable),
        "wrong_refusals": _share([r["ask"]["refused"] for r in answerable]),
        "wrong_refusals_grounded": _share([r["ask"]["refused"] for r in grounded]),
        "errors": sum(1 for r in asked if r["ask"].get("error")),
        # the answer's first sentence holds the gold answer (an answer that answers says it first)
        "first_sentence_contains": _share([r["ask"].get("first_sentence_contains", False) for r in grounded]),
        "words": _words([r["ask"].get("words", 0) for r in asked if not r["ask"]["refused"]]),
        "sources_differ": sum(r["ask"].get("sources_differ", 0) for r in asked),
        "answers_with_sources_differ": sum(1 for r in asked if r["ask"].get("sources_differ")),
        "n_conflict": sum(1 for r in asked if "conflict_stated" in r["ask"]),
        "conflict_stated": _share([r["ask"]["conflict_stated"] for r in asked if "conflict_stated" in r["ask"]]),
    }


def _words(values: Sequence[int]) -> dict[str, float | None]:
    """Answer length in words, p50/p95 (a longer answer must not be how 'contains the answer' rises)."""
    if not values:
        return {"p50": None, "p95": None, "n": 0}
    a = np.asarray(values, dtype=float)
    return {"p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1),
            "n": len(values)}


def _citations(asked: Sequence[dict[str, Any]]) -> dict[str, Any]:
    a = [r["ask"] for r in asked]
    n = sum(x["citations"] for x in a)
    checked = sum(x["claims_checked"] for x in a)
    dropped = sum(x["claims_dropped"] for x in a)
    ev = [r["ask"] for r in asked if r["evidence_present"] and r["ask"]["citations"]]
    return {
        "n": n,
        "quote_in_passage": round(sum(x["quotes_found"] for x in a) / n, 4) if n else None,
        "per_answer": round(n / max(1, sum(1 for x in a if not x["refused"])), 2),
        "claims_checked": checked,
        "claims_dropped": dropped,
        "dropped_share": round(dropped / checked, 4) if checked else None,
        "to_evidence": round(sum(x["citations_to_evidence"] for x in ev) / sum(x["citations"] for x in ev), 4)
        if ev else None,
    }
