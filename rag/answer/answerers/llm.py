"""The LLM answerer: fenced, numbered passages and the question go to a LangChain chat model.

Any chat model works (ChatOpenAI, ChatOllama, the llama.cpp GGUFChatModel, fakes in tests). Failures
become `LLMError` with a message that names the NEWSRAG_* setting to check and never the API key.

The prompt carries the day the question is asked beside each passage's date. A chat model with a bounded context
(``context_window`` and ``count_prompt_tokens``, as GGUFChatModel has) gets shorter rules (prompts/answer_local.md:
no refusal sentence to copy; the claim check turns what the passages do not state into a refusal), reads each
passage cut to its statements that best bear on the question (rag/answer/answerers/excerpts.py), and only as many
passages as fit with room for its answer (``max_tokens``); passage n is still hits[n-1]. Markers written before
a sentence are moved after it (rag/answer/answerers/lead_marks.py).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Iterator, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from rag.answer.answerers.base import Turn
from rag.answer.answerers.excerpts import excerpt_hits, ranked_statements, relevance_order, within_reach
from rag.answer.answerers.lead_marks import lead_marks_moved
from rag.check.claims import SUPPORT_THRESHOLD
from rag.check.stream import CheckedStream, checked_pieces
from rag.core.errors import LLMError, NewsragError
from rag.core.prompts import load_prompt
from rag.core.schema import Hit
from rag.llms.fencing import format_history, format_passages, neutralise
from rag.llms.replies import THINK as _THINK
from rag.llms.replies import explain_llm_error

__all__ = ["LLMAnswerer", "answer_messages", "rewrite_messages", "explain_llm_error"]

_LABEL = re.compile(r"^\s*(standalone\s+question|rewritten\s+question|question)\s*:\s*", re.IGNORECASE)
_CITED = re.compile(r"\[\d+\]")
_MARKERS = re.compile(r"\s*\[\d+\]")


def _asked_on(as_of: date | str | None) -> tuple[str, date | None]:
    """The day a question is asked as the prompt writes it (`as_of`, else today) and as a date (None when that is
    not a plain ISO date)."""
    asked_on = (as_of.isoformat() if isinstance(as_of, date) else str(as_of)[:10]) if as_of else date.today().isoformat()
    try:
        return asked_on, date.fromisoformat(asked_on)
    except ValueError:
        return asked_on, None


def answer_messages(question: str, hits: Sequence[Hit], as_of: date | str | None = None, *,
                    rules: str = "answer", order: Sequence[int] | None = None) -> list[BaseMessage]:
    """The chat messages for an answer: the rules (prompts/answer.md; `rules="answer_local"` for a small local
    model) as system, fenced passages + question as user. `as_of`: the day the question is asked (default
    today), written beside the passages' dates. `order`: the sequence the passages are shown in (each keeps its
    number)."""
    asked_on, day = _asked_on(as_of)
    user = load_prompt("answer_user").format(passages=format_passages(hits, order, day),
                                             question=neutralise(question.strip()), asked_on=asked_on)
    return [SystemMessage(content=load_prompt(rules)), HumanMessage(content=user)]


def rewrite_messages(question: str, history: Sequence[Turn]) -> list[BaseMessage]:
    """The chat messages asking for `question` rewritten as a standalone question (prompts/rewrite.md)."""
    turns = [{**turn, "content": _MARKERS.sub("", str(turn.get("content") or ""))} for turn in history]
    convo = format_history(turns).replace("</conversation>", "&lt;/conversation>")
    user = load_prompt("rewrite_user").format(history=convo, question=" ".join(question.split()))
    return [SystemMessage(content=load_prompt("rewrite")), HumanMessage(content=user)]


def _clean_rewrite(text: str, question: str) -> str:
    """The first line of a rewrite, without think blocks, labels or quotes; `question` if nothing usable."""
    text = _THINK.sub("", text)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip().strip('"“”\'').strip()
    if not line or len(line) > max(500, 4 * len(question)) or _CITED.search(line):  # an answer, not a question
        return question
    return line


ORDERS = ("retrieval", "best-first", "best-last")  # LLMAnswerer.order


class LLMAnswerer:
    """An Answerer backed by a LangChain chat model; `name` is shown to users ("openai:gpt-4o-mini")."""


    def __init__(self, chat_model: BaseChatModel, name: str, *, excerpts: int | None = 12,
                 order: str = "retrieval") -> None:
        self.chat_model = chat_model
        self.name = name
        # the sequence a bounded-context model reads the passages in: "retrieval" (as retrieved), "best-first"
        # or "best-last" (by the passage's best statement, as the excerpts rank them); numbers never change
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        self.order = order
        # a chat model with a bounded context reads the passages cut to their best `excerpts` statements
        # (rag/answer/answerers/excerpts.py); None: whole passages
        self.excerpts = excerpts

    def warm_up(self) -> None:
        """Load a local model now (a server calls this at start), so the first question does not wait for it."""
        load = getattr(self.chat_model, "load", None)
        if callable(load):
            load()

    def prompt(self, question: str, hits: Sequence[Hit], as_of: date | str | None = None
               ) -> tuple[list[BaseMessage], list[Hit]]:
        """The messages for an answer and the hits they show: all of them whole, or for a chat model with a
        bounded context each cut to its best statements (fewer if need be), then the first n that fit with room
        for the answer."""
        hits = list(hits)
        window = getattr(self.chat_model, "context_window", None)
        count = getattr(self.chat_model, "count_prompt_tokens", None)
        if not isinstance(window, int) or not callable(count):
            return answer_messages(question, hits, as_of), hits
        room = window - int(getattr(self.chat_model, "max_tokens", 0) or 0)
        shown = hits
        # the statements ranked once, for the excerpts and the order (None: the ranking does not apply)
        units = ranked_statements(question, hits) if self.excerpts or self.order != "retrieval" else None
        # a question about this week reads only this week's passages when there are enough of them (the others
        # keep their numbers, unshown)
        keep = within_reach(question, hits, _asked_on(as_of)[1] or date.today()) if self.excerpts else None
        if keep is not None and units:
            units = [u for u in units if u.n - 1 in keep]
        ranked = relevance_order(question, hits, units or []) if self.order != "retrieval" else None
        if ranked is not None and self.order == "best-last":
            ranked.reverse()

        def order(n: int) -> list[int] | None:
            if ranked is None and keep is None:
                return None
            return [i for i in (range(n) if ranked is None else ranked) if i < n and (keep is None or i in keep)]

        for statements in (self.excerpts, 8, 5) if self.excerpts else ():
            shown = excerpt_hits(question, hits, min(statements, self.excerpts), units or []) or hits
            messages = answer_messages(question, shown, as_of, rules="answer_local", order=order(len(shown)))
            if count(messages) <= room:
                return messages, shown
        for n in range(len(shown), 0, -1):
            messages = answer_messages(question, shown[:n], as_of, rules="answer_local", order=order(n))
            if count(messages) <= room:
                return messages, shown[:n]
        raise LLMError(load_prompt("llm_context_full").format(
            name=self.name, context=window, max_tokens=getattr(self.chat_model, "max_tokens", "?")))

    def _fail(self, exc: Exception) -> LLMError:
        return explain_llm_error(exc, self.name, self.chat_model)

    def _invoke(self, messages: list[BaseMessage], config: RunnableConfig | None = None) -> str:
        try:
            return self.chat_model.invoke(messages, config=config).text
        except NewsragError:  # already says what to do (e.g. a SettingsError from the local model)
            raise
        except Exception as exc:
            err = self._fail(exc)
            raise err from (None if "API key" in str(err) else exc)

    def _stream(self, messages: list[BaseMessage], config: RunnableConfig | None = None) -> Iterator[str]:
        try:
            for chunk in self.chat_model.stream(messages, config=config):
                piece = chunk.text
                if piece:
                    yield piece
        except NewsragError:  # already says what to do (e.g. a SettingsError from the local model)
            raise
        except Exception as exc:
            err = self._fail(exc)
            raise err from (None if "API key" in str(err) else exc)

    def answer(self, question: str, hits: Sequence[Hit], as_of: date | str | None = None) -> str:
        """Answer from hits only; passage n is hits[n-1]; the model is told to cite [n] after each claim."""
        return "".join(lead_marks_moved([self._invoke(self.prompt(question, hits, as_of)[0])])).strip()

    def stream(self, question: str, hits: Sequence[Hit], as_of: date | str | None = None) -> Iterator[str]:
        """The same answer in pieces, as the chat model writes them."""
        messages = self.prompt(question, hits, as_of)[0]
        return lead_marks_moved(self._stream(messages))

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """`question` as a standalone question given `history`; unchanged when there is no history."""
        if not history or not format_history(history):
            return question
        return _clean_rewrite(self._invoke(rewrite_messages(question, history)), question)

    def as_runnable(self, *, threshold: float = SUPPORT_THRESHOLD, strict: bool = False) -> Runnable[dict[str, Any], str]:
        """A LangChain Runnable: ``{"question": str, "hits": list[Hit]}`` -> checked answer text (invoke or
        stream). The draft goes through the same screen (links, instructions, fragments) and claim check as in
        `Assistant`; each sentence is yielded once checked: supported ones with [n] (still hits[n-1]),
        unconfirmed ones marked (removed when `strict`), contradicted ones never."""

        def run(inputs: dict[str, Any], config: RunnableConfig) -> Iterator[str]:
            hits = inputs.get("hits") or []
            question = inputs["question"]
            guard = CheckedStream(question, hits, threshold=threshold, strict=strict, renumber=False)
            pieces = lead_marks_moved(self._stream(self.prompt(question, hits, inputs.get("as_of"))[0], config))
            wrote = False
            for released in checked_pieces(guard, pieces):
                yield released
                wrote = True
            rest = guard.rest(guard.finish().text)
            if rest or not wrote:
                yield rest

        return RunnableLambda(run, name=f"newsrag_answer[{self.name}]")

    def __repr__(self) -> str:
        return f"LLMAnswerer(name={self.name!r})"
