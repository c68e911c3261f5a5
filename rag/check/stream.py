"""Stream only checked text: an LLM draft is held back until a sentence completes, then the claim check runs
and only the sentences it keeps are released. The raw draft never reaches the user.

Before the check, a draft sentence is removed when it could only have come from an instruction in an article:
it carries a link (answers cite passages; the sources panel carries the links, so a URL in the prose is a
phishing vector), it is itself worded as an instruction (`rag.nlp.injection`), or it is a bare token with nothing
of the question in it ("ZAPPED [1]", "HACKEADO"). A sentence that is itself a question, or that only restates the
question's words, states no answer and is removed too.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable, Iterator, Mapping, Sequence

from rag.check.bare_answer import has_common_word
from rag.check.citations import Checked, Override, check, drop_record, split_claims
from rag.core.schema import Hit
from rag.nlp.injection import looks_like_instruction, without_instructions
from rag.nlp.lexical import content_words
from rag.nlp.sentences import statement_spans

__all__ = ["CheckedStream", "checked_pieces", "screen", "screened_check"]

_MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S|\]\(|\b[a-z0-9-]+\.(?:example|com|net|org|io|info|xyz|ru|top)/\S")
_WORDISH = re.compile(r"\w")
MIN_WORDS = 3  # a sentence with fewer content words, none of them lowercase, must share one with the question


def _asks(claim: str) -> bool:
    """A sentence that is itself a question (not one that reports a quoted question: "She asked, “Why now?”")."""
    return claim.rstrip().endswith("?") and not any(mark in claim for mark in '"“”')


_NUMBER = re.compile(r"\d+")
_WH = re.compile(r"(?i)\b(?:who|whom|whose|what|which|when|where|why|how)\b")


def _echoes(claim: str, words: set[str], asked: set[str], question: str) -> bool:
    """A sentence made only of the question's own words, when the question asks who, what, which, when, where,
    why or how: it restates what was asked and answers none of it ("The largest strike began this week." for
    "… began this week. How many walked out?"). A yes/no question's restatement may be its answer: not this."""
    return len(words) >= 2 and words <= asked and bool(_WH.search(question)) \
        and set(_NUMBER.findall(claim)) <= set(_NUMBER.findall(question))  # "Level 4" adds a number


def carries_link_or_instruction(text: str) -> bool:
    """Would the screen remove this text from an answer (a link, or words addressed to the assistant)?"""
    return bool(_LINK.search(text)) or looks_like_instruction(text)


def _said(sentence: str) -> str:
    """A sentence as compared for repetition: without its markers, spacing, case and closing punctuation."""
    return " ".join(_MARKS.sub("", sentence).split()).rstrip(".!?").lower()


def _quotes_balanced(text: str) -> bool:
    return (text.count('"') + text.count("“") + text.count("”")) % 2 == 0


def _statement_bags(text: str) -> list[set[str]]:
    clean = without_instructions(text)
    return [set(content_words(clean[s:e])) for s, e in statement_spans(clean)]


def screen(draft: str, question: str, hits: Sequence[Hit] = ()) -> tuple[str, list[dict]]:
    """The draft without the sentences that no news answer needs (links, instructions, bare tokens), and a
    removal record for each (the shape of every Answer.dropped entry: rule "screen", detail "link",
    "instruction", "fragment", "question": a question asks, it states nothing to check, or "echo": only the
    question's own words, restated). Markers stay with the sentence before them."""
    asked = set(content_words(question))
    # a short answer ("Coinbase [1]") is an answer, not a fragment, when a statement of a passage holds its words
    # (outside any instruction) and bears on the question; a codeword planted in an unrelated statement does not
    held = [bag for h in hits for bag in _statement_bags(h.passage.text) if bag & asked]
    kept: list[str] = []
    removed: list[dict] = []
    for s, e in statement_spans(draft):
        sentence = draft[s:e]
        claim = _MARKS.sub("", sentence).strip()
        if not _WORDISH.search(claim):
            kept.append(sentence)  # a stray marker: the check deals with it
            continue
        words = set(content_words(claim))
        bare = len(words) < MIN_WORDS and not asked & words and not has_common_word(claim) \
            and not (words and any(words <= statement for statement in held))
        why = "link" if _LINK.search(claim) else "instruction" if looks_like_instruction(claim) else \
            "fragment" if bare else "question" if _asks(claim) else \
            "echo" if _echoes(claim, words, asked, question) else ""
        if why:
            removed.append(drop_record(claim, "screened", "screen", why))
            continue
        kept.append(sentence)
    return " ".join(kept), removed


def screened_check(text: str, question: str, hits: Sequence[Hit], *, threshold: float, strict: bool = False,
                   overrides: Mapping[str, Override] | None = None, renumber: bool = True,
                   today: date | None = None) -> Checked:
    """The screen, then the claim check: what every answerer's text goes through before anyone sees it."""
    screened, removed = screen(text, question, hits)
    checked = check(screened, hits, threshold=threshold, strict=strict, overrides=overrides, renumber=renumber,
                    today=today, question=question)
    checked.claims_checked += len(removed)
    checked.claims_dropped += len(removed)
    checked.dropped = [*removed, *checked.dropped]
    checked.verdicts = [*({**r, "kept": False, "by": "rules", "citations": []} for r in removed), *checked.verdicts]
    return checked


class CheckedStream:
    """Feed it the model's pieces; it returns the text the user may see, checked sentence by sentence."""

    def __init__(self, question: str, hits: Sequence[Hit], *, threshold: float, strict: bool = False,
                 renumber: bool = True, today: date | None = None) -> None:
        self.question, self.hits, self.threshold, self.strict = question, list(hits), threshold, strict
        self.today = today  # the day the question is about (relative times are judged against it)
        self.renumber = renumber  # False: [n] stays hits[n-1] (for callers holding the hits)
        self.draft = ""
        self.released = ""  # the checked text given out so far
        self._checked_upto = 0

    def feed(self, piece: str) -> str:
        """Add a piece of the draft; return newly checked text ("" while a sentence is still being written)."""
        self.draft += piece
        end = self._complete_prefix()
        if end <= self._checked_upto:
            return ""
        self._checked_upto = end
        return self._release(self._check(self.draft[:end]).text)

    def finish(self, overrides: Mapping[str, Override] | None = None) -> Checked:
        """The whole draft checked (what the final Answer holds); `overrides`: verdicts on unconfirmed sentences
        from outside the rules (rag.check.verify_llm)."""
        return self._check(self.draft, overrides)

    def led_by(self, lead: str, overrides: Mapping[str, Override] | None = None) -> Checked:
        """The whole draft checked with `lead` (a passage's own sentence, with its [n]) before it; the numbering
        starts from the lead, and a draft sentence saying the same as the lead is not said twice. Text already
        given out is not changed: the final answer replaces it."""
        said = {_said(c) for c in split_claims(lead)}
        rest = [c for c in split_claims(self.draft) if _said(c) not in said]
        return self._check(" ".join([lead.strip(), *rest]), overrides)

    def rest(self, final_text: str) -> str:
        """What is left to give out once the final text is known (nothing if it does not extend what was given)."""
        return self._release(final_text)

    # -- internals ---------------------------------------------------------------------------------------
    def _check(self, text: str, overrides: Mapping[str, Override] | None = None) -> Checked:
        return screened_check(text, self.question, self.hits, threshold=self.threshold, strict=self.strict,
                              overrides=overrides, renumber=self.renumber, today=self.today)

    def _release(self, text: str) -> str:
        if not text.startswith(self.released):
            return ""  # the check changed its mind about earlier text: the final answer will replace it
        new, self.released = text[len(self.released):], text
        return new

    def _complete_prefix(self) -> int:
        """End of the draft's completed sentences: those followed by the words of a new sentence (so a trailing
        [n] has arrived), with quotation marks balanced."""
        spans = statement_spans(self.draft)
        if len(spans) < 2:
            return 0
        last_start = spans[-1][0]
        tail = self.draft[last_start:]
        lead = re.match(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])*", tail)
        if not _WORDISH.search(_MARKS.sub("", tail)):
            return 0  # only markers after the last sentence so far: they may belong to it; wait
        end = last_start + (lead.end() if lead else 0)
        prefix = self.draft[:end]
        return end if _quotes_balanced(prefix) else 0


def checked_pieces(guard: CheckedStream, pieces: Iterable[str]) -> Iterator[str]:
    """The one checked pipeline: each piece of a draft fed to the claim check, the text it releases given out.
    `Assistant.stream` and `LLMAnswerer.as_runnable` both stream through it."""
    for piece in pieces:
        released = guard.feed(piece)
        if released:
            yield released
