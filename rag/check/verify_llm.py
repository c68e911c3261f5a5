"""The configured LLM reads the sentences the rules leave unconfirmed, in one call per answer.

The rules (rag/check/claims) are exact but narrow: a faithful paraphrase they cannot follow is left *unconfirmed*. With
an LLM configured (and NEWSRAG_LLM_VERIFY on, the default), those sentences and the passages go to the model in
one batched call (prompts/verify.md); it answers, per sentence, the passage that states it, the passage that
contradicts it, or none. Its answer becomes `Override`s for the claim check (rag/check/citations.py), which never lets
it overrule a rule's contradiction. The call is bounded in time; past the deadline, or on any failure or an
answer that does not parse, the sentences simply stay unconfirmed and a notice says why.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Sequence

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from rag.check.citations import Override
from rag.check.stream import carries_link_or_instruction
from rag.core.prompts import load_prompt
from rag.core.schema import Hit
from rag.llms.fencing import format_passages, neutralise
from rag.llms.replies import THINK as _THINK
from rag.llms.replies import explain_llm_error

__all__ = ["verify_messages", "parse_verdicts", "verify_unconfirmed"]

_JSON = re.compile(r"\{.*\}|\[.*\]", re.DOTALL)
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="newsrag-verify")


def verify_messages(sentences: Sequence[str], hits: Sequence[Hit]) -> list[BaseMessage]:
    numbered = "\n".join(f"{i}. {neutralise(' '.join(s.split()))}" for i, s in enumerate(sentences, 1))
    user = load_prompt("verify_user").format(passages=format_passages(hits), sentences=numbered)
    return [SystemMessage(content=load_prompt("verify")), HumanMessage(content=user)]


def _fitted(chat_model: Any, sentences: Sequence[str], hits: list[Hit]) -> list[BaseMessage]:
    """The messages, with trailing passages left out until they fit a model with a bounded context (the local
    GGUF models); passage numbers stay those of the answer."""
    messages = verify_messages(sentences, hits)
    window = getattr(chat_model, "context_window", None)
    count = getattr(chat_model, "count_prompt_tokens", None)
    if not isinstance(window, int) or not callable(count):
        return messages
    room = window - int(getattr(chat_model, "max_tokens", 0) or 0)
    while len(hits) > 1 and count(messages) > room:
        hits = hits[:-1]
        messages = verify_messages(sentences, hits)
    return messages


def parse_verdicts(text: str, sentences: Sequence[str], n_passages: int) -> dict[str, Override]:
    """The model's reply as {sentence: Override}; entries that name no given passage or sentence are ignored."""
    m = _JSON.search(_THINK.sub("", text or ""))
    if not m:
        return {}
    try:
        data: Any = json.loads(m.group(0))
    except json.JSONDecodeError:
        return {}
    items = data.get("verdicts", []) if isinstance(data, dict) else data
    out: dict[str, Override] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            i, n = int(item.get("sentence")), int(item.get("passage") or 0)
        except (TypeError, ValueError):
            continue
        verdict = str(item.get("verdict", "")).strip().lower()
        if not (1 <= i <= len(sentences)) or not (1 <= n <= n_passages) or verdict not in ("supported", "contradicted"):
            continue
        reason = " ".join(str(item.get("reason") or "").split())[:200]
        if carries_link_or_instruction(reason):  # the reason is shown to the user: held to what an answer may say
            reason = ""
        out[sentences[i - 1]] = Override(verdict, n, reason)
    return out


def verify_unconfirmed(chat_model: Any, sentences: Sequence[str], hits: Sequence[Hit], *, timeout: float,
                       name: str = "llm") -> tuple[dict[str, Override], str | None]:
    """({sentence: Override}, a notice or None). One call for all sentences, bounded by `timeout` seconds."""
    if not sentences or not hits:
        return {}, None
    messages = _fitted(chat_model, sentences, list(hits))
    future = _POOL.submit(lambda: chat_model.invoke(messages).text)
    try:
        reply = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        return {}, load_prompt("verify_timeout").format(seconds=timeout)
    except Exception as exc:  # the answer stands without the LLM's reading: say why, never fail the answer
        return {}, load_prompt("verify_failed").format(reason=str(explain_llm_error(exc, name, chat_model)).rstrip("."))
    return parse_verdicts(reply, list(sentences), len(hits)), None
