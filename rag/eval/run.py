"""`newsrag eval`: ingest a question set's articles, ask every question, and measure retrieval, answers,
citations and latency, overall and by question type; optionally beside the plain RAG recipe (rag.eval.baseline).

    from rag.eval.run import evaluate
    report = evaluate("articles.jsonl", "questions.jsonl", baseline="plain")

The formats and every figure are described in docs/EVALUATION.md. The JSON report holds numbers and ids only,
never article, question or answer text (the data sets are other people's text).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from rag.core.errors import InputError, NewsragError
from rag.core.settings import Settings
from rag.eval.metrics import (
    Corpus,
    Doc,
    Gold,
    contains_answer,
    evidence_rank,
    evidence_recall,
    gold_of,
    is_evidence,
    load_jsonl,
    norm,
    norm_url,
    rank_of,
    summarize,
)
from rag.jobs.ingestor import ingestor_for
from rag.nlp.dates import to_date

__all__ = ["evaluate", "main", "format_report", "NEWSRAG", "NODATES", "PLAIN"]

NEWSRAG = "newsrag"
NODATES = "newsrag-nodates"  # the same retrieval without the dates/recency read from the question's words
_DATE_FIELDS = ("since", "until", "prefer_since", "prefer_until")  # plan() never sets explicit filters here
PLAIN = "plain"
_K = 10
_MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
log = logging.getLogger("newsrag.eval")


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="", file=sys.stderr, dynamic_ncols=True, disable=not enabled)


def _load(path: str | Path, what: str) -> list[dict[str, Any]]:
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"The {what} file {p} does not exist: pass a JSONL file (see docs/EVALUATION.md).")
    try:
        rows = load_jsonl(p)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"The {what} file is not JSONL: {exc}") from None
    if not rows:
        raise InputError(f"The {what} file {p} is empty.")
    return rows


def _scored(docs: Sequence[Doc], gold: Gold, seconds: float, index: Corpus) -> dict[str, Any]:
    return {
        "answer_rank": rank_of(docs, gold.answers) if gold.grounded else None,
        "answer_in_index": contains_answer(index.joined, gold.answers, normalized=True) if gold.grounded else None,
        "evidence_rank": evidence_rank(docs, gold) if gold.evidence_present else None,
        "evidence_recall@10": evidence_recall(docs, gold) if gold.evidence_present else None,
        "n_hits": len(docs), "seconds": seconds,
    }


def _docs_of_hits(hits) -> list[Doc]:
    return [Doc(h.passage.article_id, norm_url(h.passage.url), norm(h.passage.text)) for h in hits]


def _first_sentence(text: str) -> str:
    from rag.nlp.sentences import statement_spans

    spans = [(s, e) for s, e in statement_spans(text) if not text[s:e].startswith("Sources differ")]
    return text[spans[0][0]:spans[0][1]] if spans else ""


def _conflict_stated(answer, fake: Sequence[str], gold: Gold) -> bool:
    """The answer says the sources differ and cites both a passage with the answer and one with the planted one."""
    if "Sources differ" not in answer.text:
        return False
    cited = [norm(c.passage) for c in answer.citations]
    return (any(contains_answer(t, gold.answers, normalized=True) for t in cited)
            and any(contains_answer(t, fake, normalized=True) for t in cited))


def _ask(assistant, question: str, gold: Gold, as_of: Any = None, *, history: Sequence[dict] = (),
         fake: Sequence[str] = ()) -> dict[str, Any]:
    """One question's answer figures. A question that fails (a rejected input or a crash) is an error, counted
    apart: never a refusal, which would flatter the refusal rates."""
    try:
        answer = assistant.ask(question, as_of=as_of, history=list(history) or None)
    except Exception as exc:  # noqa: BLE001 - one failing question must not end the run
        if not isinstance(exc, NewsragError):
            log.exception("eval: a question crashed")
        return {"error": type(exc).__name__, "crashed": not isinstance(exc, NewsragError), "refused": False,
                "contains_answer": False, "citations": 0, "first_sentence_contains": False, "words": 0,
                "sources_differ": 0, "quotes_found": 0, "citations_to_evidence": 0,
                "claims_checked": 0, "claims_dropped": 0, "timings": {}}
    text = _MARKS.sub("", answer.text)
    cited = [Doc(c.article_id, norm_url(c.url), norm(c.passage)) for c in answer.citations]
    rec = {
        "refused": answer.refused,
        "contains_answer": (not answer.refused) and bool(gold.answers) and contains_answer(text, gold.answers),
        "first_sentence_contains": (not answer.refused) and bool(gold.answers)
        and contains_answer(_first_sentence(text), gold.answers),
        "words": 0 if answer.refused else len(text.split()),
        "sources_differ": answer.text.count("Sources differ"),
        "citations": len(answer.citations),
        "quotes_found": sum(1 for c in answer.citations if c.quote.strip() and norm(c.quote) in norm(c.passage)),
        "citations_to_evidence": sum(1 for d in cited if is_evidence(d, gold)),
        "claims_checked": answer.claims_checked, "claims_dropped": answer.claims_dropped,
        "timings": {k: round(v, 5) for k, v in answer.timings.items()},
    }
    if fake:
        rec["conflict_stated"] = _conflict_stated(answer, fake, gold)
    return rec


def _history(questions: Sequence[dict[str, Any]], golds: Sequence[Gold], i: int, turns: int) -> list[dict]:
    """`turns` earlier exchanges on other topics for question i: the nearest questions before it in the file
    that share no evidence article with it, each with its gold answer as the assistant's reply."""
    if turns <= 0:
        return []
    mine = {e.article_id or e.url for e in golds[i].evidence}
    out: list[dict] = []
    for j in range(i - 1, i - 1 - len(questions), -1):
        j %= len(questions)
        if j == i:
            continue
        theirs = {e.article_id or e.url for e in golds[j].evidence}
        if mine & theirs or golds[j].unanswerable:
            continue
        reply = ", ".join(golds[j].answers) or "I do not know."
        out = [{"role": "user", "content": str(questions[j].get("question") or "")},
               {"role": "assistant", "content": reply}] + out
        if len(out) >= 2 * turns:
            break
    return out


def _fake(q: dict[str, Any]) -> list[str]:
    raw = q.get("fake_answer")
    return [norm(a) for a in ([raw] if isinstance(raw, str) else raw or []) if isinstance(a, str) and a.strip()]


def evaluate(articles_path: str | Path, questions_path: str | Path, *, store: str | Path | None = None,
             llm: str = "extractive", limit: int = 0, baseline: str | None = None,
             progress: bool = True, question_dates: bool = True,
             history: int = 0, per_question: bool | None = None) -> dict[str, Any]:
    """Ingest the articles (into a temporary NEWSRAG_HOME, or into `store`, where unchanged articles are
    skipped), ask every question (the first `limit`; with `history` N, after N earlier exchanges on other topics from the same
    file), and return the report: figures overall and by type
    for newsrag (and the plain recipe with `baseline="plain"`), plus one numbers-only record per question.
    A question with a `question_date` is asked as of that day (unless `question_dates` is False).
    `per_question`: each question is asked of a store holding only the articles whose `question_id` is its id
    (rgb_en_fact's protocol); None: so when every article carries a `question_id`."""
    from rag.answer.assistant import Assistant

    if baseline not in (None, "", PLAIN):
        raise InputError(f"Unknown baseline {baseline!r}: the only one is 'plain'.")
    started = time.perf_counter()
    articles = _load(articles_path, "articles")
    questions = _load(questions_path, "questions")
    if limit:
        questions = questions[:limit]
    corpus = Corpus.from_articles(articles)
    golds = [gold_of(q, corpus) for q in questions]
    if per_question is None:
        per_question = all(a.get("question_id") for a in articles)
    if per_question and baseline:
        raise InputError("The plain baseline indexes every article at once: run it without per-question stores.")

    tmp = Path(tempfile.mkdtemp(prefix="newsrag-eval-"))
    home = Path(store).expanduser() if store else tmp / "home"
    try:
        def open_store(where: Path, source: Path | str, n: int, desc: str):
            settings = Settings.from_env(home=where, llm=llm)
            # a temporary store, or one of the per-question stores, is local even when NEWSRAG_CHROMA_HOST or
            # NEWSRAG_CATALOG_URL points at a shared one (which all of them would otherwise write into)
            if not store or where != home:
                settings = settings.replace(chroma_host=None, catalog_url=None)
            assistant = Assistant.from_settings(settings)
            bar = _bar(n, desc, progress)
            report = ingestor_for(assistant).ingest([str(source)], progress=lambda _n, origin: bar.update(1))
            bar.close()
            return settings, assistant, report, Corpus.from_texts(p.text for p in assistant.retriever.catalog.passages())

        stores: dict[Any, tuple] = {}
        if per_question:
            by_question: dict[Any, list[dict[str, Any]]] = {}
            for a in articles:
                by_question.setdefault(a.get("question_id"), []).append(a)
            for i, q in enumerate(questions):
                own = by_question.get(q.get("id"), [])
                if not own:
                    raise InputError(f"Question {q.get('id')!r} has no articles with its question_id.")
                path = tmp / f"q{i}.jsonl"
                path.write_text("".join(json.dumps(a) + "\n" for a in own))
                stores[i] = open_store(home / "per-question" / f"q{i}", path, len(own), f"Ingesting {i + 1}")
            settings, assistant, ingest, index = stores[0] if stores else open_store(home, articles_path, 0, "")
            ingest = _merged([r for _, _, r, _ in stores.values()])
        else:
            settings, assistant, ingest, index = open_store(home, articles_path, len(articles), "Ingesting")
        retriever = assistant.retriever

        plain = plain_index = None
        if baseline:
            from rag.eval.baseline import PlainBaseline

            fingerprint = hashlib.sha1(Path(articles_path).read_bytes()).hexdigest()
            plain = PlainBaseline((home / "eval-baseline-plain") if store else tmp / "plain", retriever.embedder)
            bar = _bar(0, "Plain baseline: embedding chunks", progress)
            plain.build(articles, fingerprint=fingerprint, progress=bar.update)
            bar.close()
            plain_index = Corpus.from_texts(c.text for c in plain.chunks.values())

        for _, warm, _, _ in (stores.values() if stores else [(None, assistant, None, None)]):
            if questions:  # warm-up (keyword index load, first model call): not timed
                try:
                    warm.ask(str(questions[0].get("question") or "warm-up"))
                except NewsragError:
                    pass

        records: list[dict[str, Any]] = [
            {"id": q.get("id"), "type": _type(q), "grounded": g.grounded, "checkable": g.checkable,
             "unanswerable": g.unanswerable, "evidence_present": g.evidence_present, "systems": {}}
            for q, g in zip(questions, golds)]
        bar = _bar(len(records), "Questions", progress)
        for i, (q, gold, rec) in enumerate(zip(questions, golds, records)):
            if stores:
                _, assistant, _, index = stores[i]
                retriever = assistant.retriever
            text = str(q.get("question") or "")
            as_of = _question_date(q) if question_dates else None
            rec["as_of"] = as_of is not None
            query = retriever.plan(text, as_of=as_of)
            t = time.perf_counter()
            hits = retriever.retrieve(query, k=_K)
            dt = time.perf_counter() - t
            rec["date_inferred"] = bool(query.recent or any(getattr(query, f, None) for f in _DATE_FIELDS))
            rec["systems"][NEWSRAG] = _scored(_docs_of_hits(hits), gold, dt, index)
            if rec["date_inferred"]:
                undated = dataclasses.replace(query, recent=False, notes=[],
                                              **{f: None for f in _DATE_FIELDS if hasattr(query, f)})
                t = time.perf_counter()
                hits = retriever.retrieve(undated, k=_K)
                dt = time.perf_counter() - t
            rec["systems"][NODATES] = _scored(_docs_of_hits(hits), gold, dt, index)
            if plain is not None and plain_index is not None:
                t = time.perf_counter()
                chunks = plain.retrieve(text, _K)
                dt = time.perf_counter() - t
                docs = [Doc(c.article_id, norm_url(c.url), norm(c.text)) for c in chunks]
                rec["systems"][PLAIN] = _scored(docs, gold, dt, plain_index)
            rec["ask"] = _ask(assistant, text, gold, as_of, history=_history(questions, golds, i, history),
                              fake=_fake(q))
            bar.update(1)
        bar.close()

        systems = [NEWSRAG, NODATES] + ([PLAIN] if plain is not None else [])
        types = sorted({r["type"] for r in records})
        return {
            "dataset": {"articles": str(articles_path), "questions": str(questions_path), "articles_n": len(articles),
                        "questions_n": len(questions), "limit": limit,
                        "grounded": sum(g.grounded for g in golds), "unanswerable": sum(g.unanswerable for g in golds),
                        "checkable": sum(g.checkable for g in golds),
                        "evidence_present": sum(g.evidence_present for g in golds),
                        "date_inferred": sum(1 for r in records if r.get("date_inferred")),
                        "as_of": sum(1 for r in records if r.get("as_of")),
                        "history_turns": history, "per_question": bool(per_question)},
            "settings": {"llm": llm, "answerer": assistant.answerer.name, "top_k": settings.top_k, "retrieval_k": _K,
                         "candidates": settings.candidates, "max_per_article": settings.max_per_article,
                         "dense_weight": settings.dense_weight, "lead_prior": settings.lead_prior,
                         "chunk_words": [settings.chunk_min_words, settings.chunk_max_words],
                         "embedding_model": retriever.embedder.name, "store": str(store) if store else None},
            "ingest": {**ingest.counts(), "passages": ingest.passages, "seconds": round(ingest.seconds, 2),
                       "embed_seconds": round(ingest.embed_seconds, 2),
                       "index_passages": sum(a.retriever.catalog.stats()["passages"] for _, a, _, _ in stores.values())
                       if stores else retriever.catalog.stats()["passages"]},
            "baseline": ({"name": PLAIN, "recipe": plain.recipe(), "build": plain.build_info} if plain else None),
            "systems": systems,
            "overall": summarize(records, systems),
            "by_type": {t: summarize([r for r in records if r["type"] == t], systems) for t in types},
            "questions": records,
            "environment": {"python": platform.python_version(), "cpus": os.cpu_count(),
                            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "seconds": round(time.perf_counter() - started, 1)},
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _merged(reports: Sequence[Any]):
    """One ingest report for the per-question stores together."""
    from ingest.pipeline import IngestReport

    out = IngestReport()
    for r in reports:
        for k in ("added", "updated", "unchanged", "duplicates", "failed", "warnings"):
            getattr(out, k).extend(getattr(r, k))
        out.passages += r.passages
        out.seconds += r.seconds
        out.embed_seconds += r.embed_seconds
    return out


def _question_date(q: dict[str, Any]) -> str | None:
    """The day a question was asked ("2023/09/29" in RealTime QA), or None; an unreadable one is an error."""
    value = q.get("question_date")
    if not value:
        return None
    try:
        return to_date(str(value)).isoformat()
    except ValueError:
        raise InputError(f"Question {q.get('id')!r} has question_date {value!r}: use YYYY-MM-DD.") from None


def _type(q: dict[str, Any]) -> str:
    t = q.get("type")
    return "null" if t is None else str(t)


# -- printing ------------------------------------------------------------------------------------------------
def _f(x: Any) -> str:
    return "   -" if x is None else f"{x:.2f}" if isinstance(x, float) else str(x)


def format_report(report: dict[str, Any]) -> str:
    """The report as plain-text tables."""
    d, o, systems = report["dataset"], report["overall"], report["systems"]
    lines = [f"{Path(d['questions']).parent.name or d['questions']}: {d['questions_n']} questions "
             f"({d['grounded']} grounded, {d['unanswerable']} unanswerable, {d['evidence_present']} with evidence "
             f"in the corpus, {d['date_inferred']} with dates read from the question, {d.get('as_of', 0)} asked as of "
             f"their question_date); {d['articles_n']} articles "
             f"-> {report['ingest']['index_passages']} passages"
             + (" (each question asked of a store of its own articles)" if d.get("per_question") else "")
             + (f"; plain: {report['baseline']['build']['chunks']} chunks" if report.get("baseline") else "")]
    for kind, extra in (("answer", "in index"), ("evidence", "recall@10")):
        n = o["retrieval"][NEWSRAG][kind]["n"]
        lines.append(f"\nRetrieval, {kind} in top k (n={n})".ljust(38)
                     + "hit@1  hit@3  hit@5 hit@10 MRR@10  " + extra)
        for s in systems:
            r = o["retrieval"][s]
            m = r[kind]
            last = r["answer_in_index"] if kind == "answer" else m.get("recall@10")
            lines.append(f"  {s:35}" + "  ".join(_f(m[c]).rjust(5) for c in ("hit@1", "hit@3", "hit@5", "hit@10",
                                                                               "mrr@10")) + "  " + _f(last))
    lines.append("\nBy type".ljust(22) + "n  grounded  " + "  ".join(f"{s[:14]:>14}" for s in systems)
                 + "   (answer hit@5 / MRR@10; evidence hit@5)")
    for t, g in report["by_type"].items():
        cells = []
        for s in systems:
            r = g["retrieval"][s]
            cells.append(f"{_f(r['answer']['hit@5'])}/{_f(r['answer']['mrr@10'])};{_f(r['evidence']['hit@5'])}"
                         .rjust(14))
        lines.append(f"  {t[:18]:18}{g['n']:>3}  {g['retrieval'][NEWSRAG]['answer']['n']:>8}  " + "  ".join(cells))
    a, c = o.get("answers"), o.get("citations")
    if a:
        lines.append(f"\nAnswers ({report['settings']['answerer']}): contain a gold answer {_f(a['contains_answer'])} "
                     f"(n={a['n_grounded']}); refused unanswerable {_f(a['refused_unanswerable'])} "
                     f"(n={a['n_unanswerable']}); refused where the answer is not in the articles "
                     f"{_f(a['refused_ungrounded'])} (n={a['n_ungrounded']}, weak); wrong refusals "
                     f"{_f(a['wrong_refusals'])} (n={a['n_answerable']}), on grounded {_f(a['wrong_refusals_grounded'])}"
                     + (f"; errors {a['errors']}" if a["errors"] else ""))
        lines.append(f"  first sentence contains it {_f(a['first_sentence_contains'])}; answer words p50/p95 "
                     f"{a['words']['p50']}/{a['words']['p95']} (n={a['words']['n']}); 'Sources differ' lines "
                     f"{a['sources_differ']} in {a['answers_with_sources_differ']} answers"
                     + (f"; conflict stated with both sides cited {_f(a['conflict_stated'])} (n={a['n_conflict']})"
                        if a.get("n_conflict") else "")
                     + (f"; asked after {d['history_turns']} turn(s) of history" if d.get("history_turns") else ""))
        for t, g in report["by_type"].items():
            b = g.get("answers")
            if b and len(report["by_type"]) > 1:
                lines.append(f"  {t[:18]:18} contains {_f(b['contains_answer'])} (n={b['n_grounded']}), first "
                             f"sentence {_f(b['first_sentence_contains'])}, refused unanswerable "
                             f"{_f(b['refused_unanswerable'])} (n={b['n_unanswerable']}), wrong refusals "
                             f"{_f(b['wrong_refusals'])} (n={b['n_answerable']})")
    if c:
        lines.append(f"Citations: {c['n']} ({c['per_answer']} per answer), quote found in the cited passage "
                     f"{_f(c['quote_in_passage'])}, to an evidence article {_f(c['to_evidence'])}; claims checked "
                     f"{c['claims_checked']}, dropped {c['claims_dropped']} ({_f(c['dropped_share'])})")
    if o.get("latency_ms"):
        lat = o["latency_ms"]
        parts = [f"{k} {lat[k]['p50']}/{lat[k]['p95']}" for k in ("retrieve", "answer", "total") if lat[k]["n"]]
        if PLAIN in systems:
            pl = o["retrieval"][PLAIN]["latency_ms"]
            parts.append(f"plain retrieve {pl['p50']}/{pl['p95']}")
        lines.append("Latency ms p50/p95: " + ", ".join(parts))
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """The `newsrag eval` subcommand: print the tables, write the JSON report with --json."""
    report = evaluate(args.articles, args.questions, store=getattr(args, "store", None),
                      llm=getattr(args, "llm", None) or "extractive", limit=getattr(args, "limit", 0) or 0,
                      baseline=getattr(args, "baseline", None), progress=True,
                      question_dates=not getattr(args, "no_question_dates", False),
                      history=getattr(args, "history", 0) or 0,
                      per_question=False if getattr(args, "one_store", False) else None)
    print(format_report(report))
    out = getattr(args, "json_out", None)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nwrote {out}")
    return 0
