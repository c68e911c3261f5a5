"""What an answer stream carries, typed: every front end (web chat, JSON API and MCP, Slack, CLI, `rag.ask`)
reads the same events from `Assistant.stream`.

- `TextPiece`: checked answer text, in order (a sentence the claim check has kept, or the product's own words
  after the check); the pieces joined are the final answer's text.
- `SourcesFound`: the passages the answer is written from, once retrieved (before any text).
- `Notice`: a line about how the answer was made (a fallback, a date window), as it happens.
- `Final`: the checked Answer; always the last event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union

from rag.core.schema import Answer, Hit

__all__ = ["TextPiece", "SourcesFound", "Notice", "Final", "Event", "final_answer"]


@dataclass(frozen=True)
class TextPiece:
    text: str


@dataclass(frozen=True)
class SourcesFound:
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class Notice:
    text: str


@dataclass(frozen=True)
class Final:
    answer: Answer


Event = Union[TextPiece, SourcesFound, Notice, Final]


def final_answer(events: Iterable[Event]) -> Answer:
    """The Answer at the end of a stream (the other events consumed)."""
    answer = None
    for event in events:
        if isinstance(event, Final):
            answer = event.answer
    if answer is None:
        raise RuntimeError("the answer stream ended without its Final event")
    return answer
