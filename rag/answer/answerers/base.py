"""The answerer protocol: numbered passages in, answer text with [n] markers out.

Citations are never taken from the text an answerer wrote: `rag.check.citations` maps each [n] back to the
passage that was given as number n and checks the claim against it.
"""

from __future__ import annotations

from datetime import date
from typing import Iterator, Protocol, Sequence, runtime_checkable

from rag.core.schema import Hit

__all__ = ["Answerer", "Turn"]

Turn = dict  # {"role": "user" | "assistant", "content": str}


@runtime_checkable
class Answerer(Protocol):
    name: str  # shown to users: "extractive", "openai:gpt-4o-mini", "ollama:llama3.2", "local:Qwen2.5-Coder-1.5B"

    def answer(self, question: str, hits: Sequence[Hit]) -> str:
        """Answer from hits only; passage n is hits[n-1]; cite [n] after each claim."""

    def stream(self, question: str, hits: Sequence[Hit], as_of: date | str | None = None) -> Iterator[str]:
        """The same answer in pieces as they are written; `as_of`: the day the question is asked as of (for a
        model's sense of "now")."""

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """A follow-up ("what about her kids?") rewritten as a standalone question, using the history."""
