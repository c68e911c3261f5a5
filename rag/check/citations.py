"""Every sentence of an answer is checked against the passages it cites before the user sees it.

No sentence is exempt: notes, hedges and "I could not find" sentences are judged like any other (fixed
sentences the product writes, such as refusals, are added after the check and never pass through it).
Each sentence gets one of three verdicts (rag/check/claims):
- *supported*: a passage it cites states it; it keeps that [n]. A sentence that cites no passage, or the wrong
  one, is supported when another given passage states it, and then gets that passage's [n]; one that an article
  states across the seam of two or three of its neighbouring passages is supported by them together;
- *contradicted*: a given passage states something incompatible (another number, date, name, speaker, polarity,
  quotation): removed, its reason kept in `dropped`;
- a sentence that states nothing ("Sure!", "I hope this helps!") is kept as written, supported with rule "empty"
  and no [n]: nothing in it can be false;
- *unconfirmed*: no given passage states or contradicts it. It is never shown as cited fact: by default it stays,
  without [n] and marked (prompts/unconfirmed_mark.md); in strict mode (NEWSRAG_CHECK=strict) it is removed.
  A quotation no passage holds word for word is removed in either mode: shown in quotation marks, even marked,
  it would put words in someone's mouth.
A verdict can come from outside the rules (`overrides`: an LLM's reading of the unconfirmed sentences); a rule's
contradiction is never overruled. A citation is built from the retrieved passage, never from what the answerer
wrote: its quote is the span of the passage (offsets in the article text) that supports the sentence.

`Checker` checks one sentence at a time with stable numbering (for streaming); `check` checks a whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Iterator, Mapping, Sequence

from rag.check.bare_answer import as_statement, is_bare
from rag.check.claims import (LLM_MIN_COVERAGE, SUPPORT_THRESHOLD, Verdict, coverage_beyond, judge,
                              says_sources_lack, states_nothing, unstated_day, unstated_name)
from rag.check.recency import told_of_another_year, too_old
from rag.core.prompts import load_prompt
from rag.core.schema import Citation, Hit
from rag.nlp.sentences import statement_spans
from rag.nlp.text import fold

__all__ = ["check", "checked_stream", "Checked", "Checker", "SentenceCheck", "REFUSAL_PREFIX", "split_claims",
           "unconfirmed_mark", "Override"]

_MARK = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_TRAILING = re.compile(r"([.!?]+[\"'”’)]*)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_AFTER_MARKS = re.compile(r"\d\](?:\s*\[\d+\])*([.!?]*[\"'”’)]*)\s+(?=[A-Z\"“‘'(])")
REFUSAL_PREFIX = "The coverage I have does not answer"
_UNCITED_THRESHOLD = 0.7  # an uncited sentence must be carried more fully by the passage it is given


@dataclass(frozen=True)
class Override:
    """A verdict on a sentence from outside the rules (an LLM's reading): supported by passage n (1-based,
    as hits[n-1]), or contradicted by it. `reason` is shown with a removal."""

    verdict: str  # "supported" | "contradicted"
    passage: int
    reason: str = ""


@dataclass
class SentenceCheck:
    """The verdict on one sentence: its kept text (with the answer's [n], or the unconfirmed mark) or why it
    was dropped."""

    sentence: str  # the claim, markers removed
    kept: str  # the sentence with its new [n] markers (or marked unconfirmed); "" when dropped
    citations: list[Citation]  # citations this sentence added to the answer
    dropped: dict | None = None  # {"sentence", "verdict", "rule", "detail", "passage"} when dropped
    verdict: str = "supported"  # "supported" | "contradicted" | "unconfirmed"
    rule: str = ""  # the rule that decided a verdict other than supported ("llm" for an override)
    detail: str = ""
    passage: int | None = None  # the passage (hits index + 1) that supports or contradicts it
    by: str = "rules"  # "rules" or "llm"
    statement: str = ""  # what was judged, when not the sentence itself (a bare answer put into the question)

    def to_dict(self) -> dict:
        out = {"sentence": self.sentence, "verdict": self.verdict, "rule": self.rule, "detail": self.detail,
               "passage": self.passage, "kept": bool(self.kept), "by": self.by,
               "citations": [c.n for c in self.citations]}
        if self.statement:
            out["statement"] = self.statement
        return out


@dataclass
class Checked:
    text: str
    citations: list[Citation]
    claims_checked: int
    claims_dropped: int
    # {"sentence", "verdict", "rule", "detail", "passage"} per removed sentence, one shape for every removal
    dropped: list[dict] = field(default_factory=list)
    verdicts: list[dict] = field(default_factory=list)  # SentenceCheck.to_dict() per sentence, in order

    @property
    def unconfirmed(self) -> list[str]:
        """What was judged of each unconfirmed sentence (for a bare answer, the statement it makes): the text
        an outside reader is given, and the key of its Override."""
        return [v.get("statement") or v["sentence"] for v in self.verdicts if v["verdict"] == "unconfirmed"]


def unconfirmed_mark() -> str:
    """The words that follow a sentence no passage confirms (prompts/unconfirmed_mark.md)."""
    return load_prompt("unconfirmed_mark")


def drop_record(sentence: str, verdict: str, rule: str, detail: str = "", passage: int | None = None) -> dict:
    """The one shape of a removed sentence's record (Answer.dropped)."""
    return {"sentence": sentence, "verdict": verdict, "rule": rule, "detail": detail, "passage": passage}


def split_claims(text: str) -> list[str]:
    """The sentences of an answer, each with the markers that follow it ("said so. [1]" -> "said so [1].")."""
    text = _TRAILING.sub(lambda m: " " + m.group(2).strip() + m.group(1), text)
    out, pos = [], 0
    cuts = [m.end(1) for m in _AFTER_MARKS.finditer(text)] + [len(text)]
    for cut in cuts:  # a marker before a new sentence ends its claim, even inside an unclosed quotation
        segment = text[pos:cut]
        out.extend(segment[s:e] for s, e in statement_spans(segment))
        pos = cut
    return out


class Checker:
    """Checks the sentences of one answer against its hits; passage n is hits[n-1]. The answer's citation
    numbers are given in order of first use, so sentences can be checked (and shown) one by one."""

    def __init__(self, hits: Sequence[Hit], *, threshold: float = SUPPORT_THRESHOLD, renumber: bool = True,
                 strict: bool = False, overrides: Mapping[str, Override] | None = None,
                 today: date | None = None, question: str = "") -> None:
        self.hits = list(hits)
        self.question = question  # a bare answer ("Coinbase") is judged as the statement it makes about it
        self.today = today  # the day asked about: "this week" is confirmed only by a passage near it (recency.py)
        self.threshold = threshold
        self.renumber = renumber  # False: keep the hit numbers as the markers (for callers holding the hits)
        self.strict = strict  # True: unconfirmed sentences are removed, not marked
        self.overrides = dict(overrides or {})  # claim text -> a verdict from outside the rules
        self.citations: list[Citation] = []
        self.checked = 0
        self.dropped: list[dict] = []
        self.results: list[SentenceCheck] = []
        self._numbering: dict[tuple[int, tuple[int, int]], int] = {}

    def add(self, sentence: str) -> SentenceCheck:
        result = self._add(sentence)
        if result.sentence:
            self.results.append(result)
        return result

    def _add(self, sentence: str) -> SentenceCheck:
        marks = [int(x) for m in _MARK.finditer(sentence) for x in re.split(r"\s*,\s*", m.group(1))]
        claim = _MARK.sub("", sentence).strip()
        if not claim:
            return SentenceCheck(claim, "", [])
        self.checked += 1
        if states_nothing(claim):  # "Sure!", "I hope this helps!": no claim, so nothing to cite or to mark
            return SentenceCheck(claim, claim, [], rule="empty")
        valid = [n for n in dict.fromkeys(marks) if 1 <= n <= len(self.hits)]
        stated = as_statement(self.question, claim) if self.question and is_bare(claim) else None
        judged = stated or claim
        supported, (n, verdict), contra = self._supported(judged, valid)
        if stated and supported and \
                not any(_holds(self.hits[m - 1].passage.text[a:b], claim) for m, (a, b) in supported):
            # the answer's name or figure is in the passage, but not where it says what was asked
            supported, (n, verdict) = [], (supported[0][0], Verdict(False, "name", claim, supported[0][1]))
        by = "rules"
        override = self.overrides.get(judged)
        if not supported and contra is None and override and 1 <= override.passage <= len(self.hits):
            by = "llm"
            text = self.hits[override.passage - 1].passage.text
            v = judge(judged, text, threshold=self.threshold, premise=self.question)
            if override.verdict == "supported" and not self._stale(judged, override.passage) \
                    and not unstated_day(judged, text, self.question) \
                    and not unstated_name(judged, text, self.question) \
                    and not says_sources_lack(judged) \
                    and not told_of_another_year(judged, text[v.span[0]:v.span[1]], self.today) \
                    and coverage_beyond(judged, text, self.question) >= LLM_MIN_COVERAGE:
                # a day or a name the passage does not write, what the sources do not say, "this week" from a story
                # of an earlier year, or a sentence most of whose own words no stretch of the passage holds, is not
                # the LLM's to confirm
                supported = [(override.passage, v.span)]
            elif override.verdict == "contradicted":
                # The model's "contradicted" marks the sentence (unconfirmed, its reason kept) but does not remove
                # it: the local model's were wrong about true sentences 6 times in 9 on RAGTruth's dev half
                # (docs/EVALUATION.md, "The claim check"). Only a rule's contradiction removes a sentence.
                n, verdict = override.passage, Verdict(False, "llm", override.reason[:200], v.span)
        if supported:
            return self._keep(claim, supported, by, stated or "")
        if contra is not None:
            n, verdict = contra
            reason = drop_record(claim, "contradicted", verdict.rule, verdict.detail, n)
            self.dropped.append(reason)
            return SentenceCheck(claim, "", [], reason, "contradicted", verdict.rule, verdict.detail, n, by,
                                 stated or "")
        rule, detail = (verdict.rule, verdict.detail) if verdict else ("uncited", "")
        if marks and not valid:
            rule, detail, n = "marker", " ".join(f"[{m}]" for m in marks), None
        if self.strict or rule == "quote":  # words in quotation marks the source lacks would misquote someone
            reason = drop_record(claim, "unconfirmed", rule, detail, n)
            self.dropped.append(reason)
            return SentenceCheck(claim, "", [], reason, "unconfirmed", rule, detail, n,
                                 by if rule == "llm" else "rules", stated or "")
        return SentenceCheck(claim, _marked(claim, unconfirmed_mark()), [], None, "unconfirmed", rule, detail, n,
                             by if rule == "llm" else "rules", stated or "")

    def _keep(self, claim: str, supported: list[tuple[int, tuple[int, int]]], by: str,
              statement: str = "") -> SentenceCheck:
        new: list[Citation] = []
        labels = []
        for n, span in supported:
            key = (n, span)
            if key not in self._numbering:
                self._numbering[key] = len(self._numbering) + 1
                c = _citation(self._numbering[key] if self.renumber else n, self.hits[n - 1], span)
                self.citations.append(c)
                new.append(c)
            labels.append(self._numbering[key] if self.renumber else n)
        kept = _marked(claim, "".join(f"[{i}]" for i in dict.fromkeys(labels)))
        return SentenceCheck(claim, kept, new, passage=supported[0][0], by=by, statement=statement)

    def _supported(self, claim: str, valid: list[int]):
        """[(n, span)] of the passages that state the claim; (n, verdict) of the first failure (the reason an
        unconfirmed sentence is given); (n, verdict) of a passage that contradicts it, or None."""
        first_fail: tuple[int | None, Verdict | None] = (valid[0] if valid else None, None)
        supported: list[tuple[int, tuple[int, int]]] = []
        contra: tuple[int, Verdict] | None = None
        for n in valid:
            v = self._judge(claim, n, self.threshold)
            if v.ok:
                supported.append((n, v.span))
            else:
                if first_fail[1] is None:
                    first_fail = (n, v)
                if v.contradicted and contra is None:
                    contra = (n, v)
        if supported:
            return supported, first_fail, None
        if contra is not None and _stated_elsewhere(contra, [n for n in valid if n != contra[0]], self.hits):
            contra = None
        if len(valid) > 1:
            # a sentence joining what two cited passages say: judge it against them together
            together = self._together(claim, valid, self.threshold)
            if together:
                return together[0], first_fail, None
        # uncited, or cited to a passage that does not state it: another given passage may (and then gets the
        # [n]); any given passage may contradict it
        strict = max(self.threshold, _UNCITED_THRESHOLD)
        for n in range(1, len(self.hits) + 1):
            if n in valid:
                continue
            v = self._judge(claim, n, strict)
            if v.ok:
                return [(n, v.span)], first_fail, None
            if v.contradicted and contra is None and not _stated_elsewhere((n, v), valid, self.hits):
                contra = (n, v)
            if first_fail[1] is None or _closer(v, first_fail[1]):
                first_fail = (n, v) if not valid else first_fail
        if contra is not None and any(self._judge(claim, m, self.threshold).ok
                                      for m in range(1, len(self.hits) + 1) if m not in valid and m != contra[0]):
            # another given passage states it, though not fully enough to be cited uncited: the passages tell of
            # two things ("a German shepherd named Commander" beside "the first dog, a German shepherd named
            # Major"), so the sentence is unconfirmed, not removed
            contra = None
        if contra is None:
            # a sentence that one article states across the seam of two of its passages ("Sultan Alneyadi" at
            # the end of one, "the Crew-6 capsule splashed down" at the start of the next): judge it against the
            # run of that article's neighbouring passages, as the article reads
            for run in _article_runs(self.hits):
                together = self._together(claim, run, self.threshold if set(run) & set(valid) else strict)
                if together and not told_of_another_year(claim, together[1], self.today):
                    return together[0], first_fail, None
        return [], first_fail, contra

    def _together(self, claim: str, ns: list[int], threshold: float
                  ) -> tuple[list[tuple[int, tuple[int, int]]], str] | None:
        """Passages ns read as one text: [(n, the part of the supporting span in passage n)] and the supporting
        text when they state the claim; None when they do not, or when one is too old for a "this week" claim."""
        if any(self._stale(claim, n) for n in ns):
            return None
        joined = "\n\n".join(self.hits[n - 1].passage.text for n in ns)
        v = judge(claim, joined, threshold=threshold, premise=self.question)
        if not v.ok:
            return None
        return [(n, _span_in(self.hits, ns, n, v.span)) for n in ns], joined[v.span[0]:v.span[1]]

    def _judge(self, claim: str, n: int, threshold: float) -> Verdict:
        """judge() against passage n, then: a passage that states or contradicts a "this week" sentence counts
        only when it is from near the day asked about (rag/check/recency.py); else it is a failure of rule
        "dated" (an older story's figures are about another event: "after 197 days" then, "371" this week)."""
        text = self.hits[n - 1].passage.text
        v = judge(claim, text, threshold=threshold, premise=self.question)
        why = self._stale(claim, n) if v.ok or v.contradicted else None
        if v.ok and not why and v.span:
            why = told_of_another_year(claim, text[v.span[0]:v.span[1]], self.today)
        return Verdict(False, "dated", why, v.span, False) if why else v

    def _stale(self, claim: str, n: int) -> str | None:
        return too_old(claim, self.hits[n - 1].passage.published_at, self.today)

    def result(self) -> tuple[list[Citation], int, int, list[dict]]:
        return self.citations, self.checked, len(self.dropped), self.dropped

    def verdicts(self) -> list[dict]:
        return [r.to_dict() for r in self.results]


def _marked(claim: str, markers: str) -> str:
    """'It opens in June.' -> 'It opens in June [1].'; after a closing quote mark the marker goes last."""
    m = re.search(r"[.!?]+$", claim)
    if m:
        return f"{claim[:m.start()].rstrip()} {markers}{m.group(0)}"
    return f"{claim} {markers}"


def _stated_elsewhere(contra: tuple[int, Verdict], cited: list[int], hits: Sequence[Hit]) -> bool:
    """Does a cited passage state the very number or date that passage `contra` clashes with? Then the passages
    tell of two things (or disagree), and the sentence is unconfirmed, not contradicted: "after 371 days" cited
    to a story that gives 371, against another's "after 355 days" of someone else."""
    n, v = contra
    if v.rule not in ("number", "date") or not v.detail:
        return False
    seen = re.compile(r"(?<![\w.,])" + re.escape(fold(v.detail)) + r"(?![\w]|[.,]\d)", re.IGNORECASE)
    return any(seen.search(fold(hits[m - 1].passage.text)) for m in cited if m != n)


def _holds(window: str, answer: str) -> bool:
    """Does the window carry every word of a bare answer ("Red Dye 3", "$19.89")?"""
    words = re.findall(r"\w+", fold(answer).lower())
    text = fold(window).lower()
    return bool(words) and all(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text) for w in words)


def _closer(a: Verdict, b: Verdict) -> bool:
    """For the reason an uncited sentence is dropped: a rule failed after the words matched says more."""
    return a.rule != "words" and b.rule == "words"


_MAX_RUN = 3  # the most neighbouring passages of one article judged together


def _article_runs(hits: Sequence[Hit]) -> list[list[int]]:
    """The passage numbers (hits index + 1) of each run of two or more neighbouring passages of one article
    among the hits (passage index i, i+1, …), in article order: every stretch of neighbours, in windows of at
    most _MAX_RUN."""
    by_article: dict[str, dict[int, int]] = {}
    for n, h in enumerate(hits, 1):
        by_article.setdefault(h.passage.article_id, {}).setdefault(h.passage.index, n)
    runs = []
    for chunks in by_article.values():
        stretches: list[list[int]] = []
        for i in sorted(chunks):
            if stretches and i == stretches[-1][-1] + 1:
                stretches[-1].append(i)
            else:
                stretches.append([i])
        for stretch in stretches:
            if len(stretch) > 1:
                size = min(len(stretch), _MAX_RUN)
                runs.extend([chunks[i] for i in stretch[k:k + size]] for k in range(len(stretch) - size + 1))
    return runs


def _span_in(hits: Sequence[Hit], valid: list[int], n: int, span: tuple[int, int]) -> tuple[int, int]:
    """The part of a joined-passages span that lies in passage n (the whole passage when none does)."""
    offset = 0
    for m in valid:
        text = hits[m - 1].passage.text
        if m == n:
            s, e = max(span[0] - offset, 0), min(span[1] - offset, len(text))
            return (s, e) if e > s else (0, len(text))
        offset += len(text) + 2
    return (0, 0)


def checked_stream(pieces: Iterable[str], checker: Checker) -> Iterator[SentenceCheck]:
    """Check a streamed answer sentence by sentence: each SentenceCheck comes as soon as its sentence is
    complete (the next one has begun, so its markers have arrived), the last one when the pieces end."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        text = _TRAILING.sub(lambda m: " " + m.group(2).strip() + m.group(1), buffer)
        spans = statement_spans(text)
        if len(spans) < 2:
            continue
        for s, e in spans[:-1]:
            yield checker.add(text[s:e])
        buffer = text[spans[-1][0]:]
    for sentence in split_claims(buffer):
        yield checker.add(sentence)


def check(text: str, hits: Sequence[Hit], *, threshold: float = SUPPORT_THRESHOLD, strict: bool = False,
          overrides: Mapping[str, Override] | None = None, renumber: bool = True, today: date | None = None,
          question: str = "") -> Checked:
    """Check each sentence of `text` against the passages its [n] markers name (hits[n-1]); `today`: the day
    the question is about (None: relative times are not judged)."""
    checker = Checker(hits, threshold=threshold, strict=strict, overrides=overrides, renumber=renumber, today=today,
                      question=question)
    kept = [r.kept for r in (checker.add(s) for s in split_claims(text)) if r.kept]
    citations, checked, n_dropped, dropped = checker.result()
    return Checked(" ".join(kept).strip(), citations, checked, n_dropped, dropped, checker.verdicts())


def _citation(n: int, hit: Hit, span: tuple[int, int]) -> Citation:
    p = hit.passage
    s, e = span
    return Citation(n=n, article_id=p.article_id, passage_id=p.id, title=p.title, source=p.source, url=p.url,
                    published_at=p.published_at, passage=p.text, quote=p.text[s:e], start=p.start + s,
                    end=p.start + e)
