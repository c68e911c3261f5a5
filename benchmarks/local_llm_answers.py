"""The local LLM end to end beside extractive answers, on the same store and questions, with the model's raw text.

Asks a spread sample of a set's grounded questions (the answer string is in the articles), each as of its
question date, twice through the real Assistant: once with the extractive answerer, once with the LLM
(`--llm local` or `gguf:PATH`). For each it records whether the checked answer and its first sentence hold the
gold, refusals (on grounded questions: wrong ones), the sentences the check removed and why, seconds, and, for
the LLM, the raw draft the model wrote (before any check) and the passages it was given, by passage id with a
SHA-1 of their text (publishers' text is not stored, nor the extractive answer, which is made of it; `--show FILE`
prints the passages again from the store), so a verifier can be measured on real model output later.

    nice -n 10 python benchmarks/local_llm_answers.py --articles ../shared/eval/realtimeqa/articles.jsonl \\
        --questions ../shared/eval/realtimeqa/questions.jsonl --store /tmp/rt --llm local --sample 12 \\
        --json benchmarks/results/local_llm_realtimeqa.json

The store is ingested on first use (a few minutes), then reused. Set NEWSRAG_LLM_TIMEOUT high to time the model
rather than the deadline (answers past it fall back to extractive and are counted as such).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_first import first_sha1  # noqa: E402
from rag.answer.answerers.lead_marks import lead_marks_moved  # noqa: E402
from rag.answer.answerers.llm import ORDERS, LLMAnswerer  # noqa: E402
from rag.answer.assistant import Assistant  # noqa: E402
from rag.check.citations import split_claims, unconfirmed_mark  # noqa: E402
from rag.core.errors import LLMError  # noqa: E402
from rag.core.schema import Answer, Hit  # noqa: E402
from rag.core.settings import Settings  # noqa: E402
from rag.eval.metrics import Corpus, contains_answer, gold_of, load_jsonl  # noqa: E402
from rag.eval.run import _first_sentence, _question_date  # noqa: E402
from rag.jobs.ingestor import ingestor_for  # noqa: E402
from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult  # noqa: E402
from rag.llms.choose import make_chat_model  # noqa: E402
from rag.core.prompts import load_prompt  # noqa: E402

_MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


class Recording:
    """The LLM answerer, recording the passages each prompt gives, the raw draft and llama.cpp's timings."""

    def __init__(self, inner: LLMAnswerer) -> None:
        self.inner, self.name = inner, inner.name
        self.chat_model = inner.chat_model  # the Assistant's LLM pass reads unconfirmed sentences with it, as in use
        self.last: dict[str, Any] = {}
        self.texts: list[str] = []

    def answer(self, question: str, hits: Sequence[Hit], as_of: Any = None) -> str:
        return "".join(self.stream(question, hits, as_of))

    def rewrite(self, question: str, history: Sequence[dict]) -> str:
        return self.inner.rewrite(question, history)

    def stream(self, question: str, hits: Sequence[Hit], as_of: Any = None) -> Iterator[str]:
        """As LLMAnswerer.stream (markers before a sentence moved after it); the draft is kept as written."""
        return lead_marks_moved(self._raw(question, hits, as_of))

    def _raw(self, question: str, hits: Sequence[Hit], as_of: Any = None) -> Iterator[str]:
        started = time.perf_counter()
        messages, given = self.inner.prompt(question, hits, as_of)
        self.texts = [h.passage.text for h in given]  # what the model read (not stored in the report)
        self.last = {"given": [_ref(n, h) for n, h in enumerate(given, 1)], "offered": len(hits), "draft": "",
                     "excerpted": sum(g.passage.text != h.passage.text for g, h in zip(given, hits)),
                     "prompt_words": sum(len(m.text.split()) for m in messages),
                     "first_token_s": None, "meta": {}, "error": None}
        try:
            for chunk in self.inner.chat_model.stream(messages):
                if chunk.text and self.last["first_token_s"] is None:
                    self.last["first_token_s"] = round(time.perf_counter() - started, 2)
                self.last["meta"].update(chunk.response_metadata or {})
                self.last["draft"] += chunk.text
                if chunk.text:
                    yield chunk.text
        except Exception as exc:
            self.last["error"] = str(exc)[:300]
            raise


class Replayed(BaseChatModel):
    """A chat model that writes, for each question, the draft a report recorded for it (no model runs): the
    answer stage after the model (screen, check, fallback) measured again on the same real model text."""

    drafts: dict[str, str]
    verifier: Any = None  # with --replay-verify: the real model, which reads the LLM verification pass's prompts
    replies: list = []  # the verifier's replies, in order: {"sentences": the numbered sentences asked, "reply": …}
    errors: dict[str, str] = {}  # question -> the error that stopped the recorded run's model (no draft)

    @property
    def _llm_type(self) -> str:
        return "replayed"

    @property
    def context_window(self) -> int | None:  # the verifier's bounds, so its prompt is fitted as in use
        return getattr(self.verifier, "context_window", None)

    @property
    def max_tokens(self) -> int:
        return int(getattr(self.verifier, "max_tokens", 0) or 0)

    def count_prompt_tokens(self, messages: list[BaseMessage]) -> int:
        return self.verifier.count_prompt_tokens(messages)

    def _verifying(self, messages: list[BaseMessage]) -> bool:
        return self.verifier is not None and bool(messages) and messages[0].content == load_prompt("verify")

    def _asked(self, messages: list[BaseMessage]) -> str:
        text = "\n".join(str(m.content) for m in messages)
        asked = [q for q in self.drafts if q in text]
        return max(asked, key=len) if asked else ""

    def _draft(self, messages: list[BaseMessage]) -> str:
        return self.drafts.get(self._asked(messages), "")

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        if self._verifying(messages):
            reply = self.verifier.invoke(messages).text
            asked = str(messages[-1].content)
            self.replies.append({"sentences": asked[asked.rfind("Sentences to check:"):], "reply": reply})
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._draft(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        asked = self._asked(messages)
        if asked and not self.drafts[asked] and self.errors.get(asked):
            raise LLMError(self.errors[asked])  # the recorded run's model stopped (its deadline): as it ran
        for piece in re.findall(r"\S+\s*|\s+", self.drafts.get(asked, "")):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def _ref(n: int, hit: Hit) -> dict[str, Any]:
    p = hit.passage
    return {"n": n, "passage_id": p.id, "date": (p.published_at or "")[:10] or None, "source": p.source,
            "sha1": hashlib.sha1(p.text.encode("utf-8")).hexdigest()[:12], "words": len(p.text.split())}


def _scores(text: str, refused: bool, answers: Sequence[str]) -> dict[str, Any]:
    """Whether the answer and its first sentence hold the gold; `first_confirmed`: the first sentence holds it and
    is not one the check left marked unconfirmed; `first_sha1`: the key of a hand verdict on the first sentence
    (benchmarks/llm_judged_first.py; "" for a refusal)."""
    plain = _MARKS.sub("", text)
    first = _first_sentence(plain)
    return {"contains": (not refused) and contains_answer(plain, answers),
            "first_sentence": (not refused) and contains_answer(first, answers),
            "first_confirmed": (not refused) and contains_answer(first, answers) and unconfirmed_mark() not in first,
            "first_sha1": "" if refused else first_sha1(first)}


def _sha(text: str) -> str:
    return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def without_passage_text(llm: dict[str, Any], passages: Sequence[str]) -> dict[str, Any]:
    """A recorded LLM answer with the passages' own sentences in it (an answer the passages made instead, or the
    passages' sentences it was opened with) stored as their SHA-1: the report keeps no publishers' text."""
    llm = dict(llm)
    if llm.get("fallback") or llm.get("quote_index"):
        llm["text"] = _sha(llm["text"])
        llm["verdicts"] = [{**v, "sentence": _sha(v["sentence"])} if v.get("kept") else v for v in llm["verdicts"]]
    elif llm.get("opened"):
        def own(sentence: str) -> bool:
            return any(sentence.rstrip(".!?\"'” ") in p for p in passages)

        lead = 0
        while lead < len(llm["verdicts"]) and own(llm["verdicts"][lead]["sentence"]):
            lead += 1
        claims = split_claims(llm["text"])
        llm["text"] = " ".join([*(f"[{_sha(c)}]" for c in claims[:lead]), *claims[lead:]])
        llm["verdicts"] = [{**v, "sentence": _sha(v["sentence"])} if i < lead else v
                           for i, v in enumerate(llm["verdicts"])]
    return llm


def _timed(assistant: Assistant, question: str, as_of: str | None) -> tuple[Answer, float]:
    t = time.perf_counter()
    answer = assistant.ask(question, as_of=as_of)
    return answer, time.perf_counter() - t


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 1)


def _summary(rows: list[dict], key: str) -> dict[str, Any]:
    own = [r[key] for r in rows]
    secs = [r["seconds"] for r in own]
    return {"n": len(own), "contains": sum(r["contains"] for r in own),
            "first_sentence": sum(r["first_sentence"] for r in own),
            "first_confirmed": sum(r.get("first_confirmed", False) for r in own),
            "refused": sum(r["refused"] for r in own), "fallback": sum(bool(r.get("fallback")) for r in own),
            "quote_index": sum(bool(r.get("quote_index")) for r in own),
            "opened": sum(bool(r.get("opened")) for r in own),
            # answers that said their sources are older than the question's "this week" (of them, first right)
            "older_sources": sum(bool(r.get("older_sources")) for r in own),
            "older_sources_first_right": sum(bool(r.get("older_sources")) and r["first_sentence"] for r in own),
            "claims_dropped": sum(r["claims_dropped"] for r in own), "claims_checked": sum(r["claims_checked"] for r in own),
            "seconds_p50": _pct(secs, 0.5), "seconds_p95": _pct(secs, 0.95), "seconds_median": round(statistics.median(secs), 1) if secs else None}


def _batch_threads(settings: Settings) -> int:
    """The threads that read the prompt, as the local model resolves NEWSRAG_LLM_BATCH_THREADS."""
    from rag.llms.gguf import batch_threads
    return batch_threads(settings.llm_batch_threads, settings.llm_threads)


def _older(answer: Answer) -> bool:
    """Did the answer say its sources are older than the question's "this week" (prompts/older_sources_notice.md)?"""
    opening = load_prompt("older_sources_notice").split("{", 1)[0]
    return any(n.startswith(opening) for n in answer.notices)


def _sample(items: list, n: int, shift: int = 0) -> list:
    if n <= 0 or n >= len(items):
        return items
    step = (len(items) - 1) / (n - 1) if n > 1 else 0
    return [items[(round(i * step) + shift) % len(items)] for i in range(n)]


def show(path: str, store: str) -> int:
    """Print each recorded answer with the passages it was given (from the store: publishers' text, on screen)."""
    report = json.loads(Path(path).read_text(encoding="utf-8"))
    assistant = Assistant.from_settings(Settings.from_env(home=Path(store), llm="extractive"))
    by_id = {p.id: p for p in assistant.retriever.catalog.passages()}
    for row in report["questions"]:
        print(f"== {row['id']} (asked {row['as_of']}) gold={row['gold']}\nQ: {row['question']}")
        for ref in row["llm"]["given"]:
            p = by_id.get(ref["passage_id"])
            print(f"  [{ref['n']}] {ref['date']} {ref['source']}: {(p.text if p else '(not in this store)')[:400]}")
        print(f"  DRAFT: {row['llm']['draft']}\n  CHECKED: {row['llm']['text']}\n  DROPPED: {row['llm']['dropped']}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--store", required=True, help="a NEWSRAG_HOME (ingested on first use, then reused)")
    ap.add_argument("--llm", default="local", help="local or gguf:PATH (as NEWSRAG_LLM)")
    ap.add_argument("--sample", type=int, default=12, help="this many grounded questions, spread over the set")
    ap.add_argument("--shift", type=int, default=0, help="the spread sample moved K questions on (another sample "
                    "of the same size; 2 gives one disjoint from 0's at 12 of 61)")
    ap.add_argument("--whole-passages", action="store_true", help="give whole passages, not excerpts")
    ap.add_argument("--order", default="retrieval", choices=ORDERS,
                    help="the sequence the model reads the passages in (LLMAnswerer.order)")
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--show", help="print a report's answers with their passages (needs --store), then stop")
    ap.add_argument("--replay", help="a report: each question's recorded draft stands in for the model (no model "
                    "runs, no LLM verification pass), to measure a change to the stages after the model")
    ap.add_argument("--replay-verify", action="store_true", help="with --replay: the model given by --llm runs "
                    "the LLM verification pass on the replayed drafts, as in use (the answers are not rewritten)")
    args = ap.parse_args()
    if args.show:
        return show(args.show, args.store)

    settings = Settings.from_env(home=Path(args.store), llm="extractive")
    extractive = Assistant.from_settings(settings)
    if not extractive.index.has_articles():
        report = ingestor_for(extractive).ingest([args.articles])
        print(f"ingested: {report.counts()}", file=sys.stderr)
    if args.replay:
        recorded = json.loads(Path(args.replay).read_text(encoding="utf-8"))
        verifier = make_chat_model(settings.replace(llm=args.llm))[0] if args.replay_verify else None
        chat = Replayed(drafts={r["question"]: r["llm"]["draft"] for r in recorded["questions"]}, verifier=verifier,
                        errors={r["question"]: r["llm"]["error"] for r in recorded["questions"]
                                if r["llm"].get("error")})
        name = "replayed"
        if verifier is None:
            settings = settings.replace(llm_verify=False)
    else:
        chat, name, _ = make_chat_model(settings.replace(llm=args.llm))
    recorder = Recording(LLMAnswerer(chat, name, excerpts=None if args.whole_passages else 12,
                                     order=args.order))
    llm = Assistant(extractive.retriever, recorder, settings=settings.replace(llm=args.llm))
    t = time.perf_counter()
    recorder.inner.warm_up()
    load_s = time.perf_counter() - t

    corpus = Corpus.from_articles(load_jsonl(args.articles))
    questions = [q for q in load_jsonl(args.questions)]
    grounded = [(q, g) for q in questions if (g := gold_of(q, corpus)).grounded]
    picked = _sample(grounded, args.sample, args.shift)
    extractive.ask(str(picked[0][0]["question"]))  # warm-up: the keyword index and the embedder (not timed)
    load_before = os.getloadavg()[0]
    rows = []
    for i, (q, gold) in enumerate(picked, 1):
        text, as_of = str(q["question"]), _question_date(q)
        x, xs = _timed(extractive, text, as_of)
        recorder.last, recorder.texts = {}, []
        replied = len(chat.replies) if isinstance(chat, Replayed) else 0
        a, s = _timed(llm, text, as_of)
        rec = recorder.last
        in_given = bool(rec) and any(contains_answer(t, gold.answers) for t in recorder.texts)
        in_offered = any(contains_answer(h.passage.text, gold.answers) for h in a.passages)
        row = {"id": q.get("id"), "question": text, "as_of": as_of, "gold": list(gold.answers),
               "gold_in_given": in_given, "gold_in_passages": in_offered, "load": round(os.getloadavg()[0], 1),
               "extractive": {"sha1": hashlib.sha1(x.text.encode("utf-8")).hexdigest()[:12], "refused": x.refused, "seconds": round(xs, 2),
                              "claims_checked": x.claims_checked, "claims_dropped": x.claims_dropped,
                              "older_sources": _older(x),
                              **_scores(x.text, x.refused, gold.answers)},
               "llm": {"text": a.text, "refused": a.refused, "seconds": round(s, 2), "answerer": a.answerer,
                       # the quote index answers who-said-what questions before any model (its own kind, not a
                       # fallback); a fallback is the extractive answer standing in for the model's
                       "quote_index": a.answerer.endswith("(quote index)"),
                       "fallback": a.answerer.startswith("extractive") and not a.answerer.endswith("(quote index)"),
                       "opened": a.answerer.startswith(f"{name} (opened"), "claims_checked": a.claims_checked,
                       "older_sources": _older(a),
                       "claims_dropped": a.claims_dropped,
                       "dropped": [{k: d.get(k) for k in ("sentence", "verdict", "rule", "detail")} for d in a.dropped],
                       "verdicts": [{k: v.get(k) for k in ("sentence", "verdict", "rule", "detail", "kept", "by")}
                                    for v in a.verdicts],
                       **_scores(a.text, a.refused, gold.answers),
                       "draft": rec.get("draft", ""), "draft_scores": _scores(rec.get("draft", ""), False, gold.answers),
                       "given": rec.get("given", []), "offered": rec.get("offered"),
                       "excerpted": rec.get("excerpted"), "prompt_words": rec.get("prompt_words"),
                       "first_token_s": rec.get("first_token_s"), "error": rec.get("error"),
                       "prompt_tokens": (rec.get("meta", {}).get("timings") or {}).get("prompt_n"),
                       "cached_tokens": (rec.get("meta", {}).get("timings") or {}).get("cache_n"),
                       "answer_tokens": (rec.get("meta", {}).get("timings") or {}).get("predicted_n")}}
        if isinstance(chat, Replayed) and chat.verifier is not None:
            row["llm"]["verify_replies"] = chat.replies[replied:]  # to judge other ways of using them offline
        row["llm"] = without_passage_text(row["llm"], [h.passage.text for h in a.passages])  # scored above
        rows.append(row)
        print(f"{i}/{len(picked)} {row['id']}: llm {s:.0f}s draft={rec.get('draft', '')[:90]!r} first={row['llm']['first_sentence']} "
              f"contains={row['llm']['contains']} refused={a.refused} | extractive first={row['extractive']['first_sentence']} "
              f"| load {row['load']}", file=sys.stderr, flush=True)
    report = {
        "command": " ".join(sys.argv), "llm": name, "model_load_s": round(load_s, 1),
        "excerpts": None if args.whole_passages else 12, "order": args.order,
        "settings": {"llm_context": settings.llm_context, "llm_max_tokens": settings.llm_max_tokens,
                     "llm_threads": settings.llm_threads, "llm_batch_threads": _batch_threads(settings),
                     "llm_timeout": settings.llm_timeout, "top_k": settings.top_k,
                     "max_per_article": settings.max_per_article},
        "questions_n": len(rows), "grounded_in_set": len(grounded),
        "gold_in_given": sum(r["gold_in_given"] for r in rows),
        "gold_in_passages": sum(r["gold_in_passages"] for r in rows),
        "extractive": _summary(rows, "extractive"), "llm_summary": _summary(rows, "llm"),
        "draft_contains": sum(r["llm"]["draft_scores"]["contains"] for r in rows),
        "draft_first_sentence": sum(r["llm"]["draft_scores"]["first_sentence"] for r in rows),
        "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
        "questions": rows,
    }
    summary = {k: v for k, v in report.items() if k != "questions"}
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
