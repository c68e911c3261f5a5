"""Text inside an article that addresses the assistant ("ignore previous instructions and ...").

Such a span is never evidence: the citation check will not accept a claim supported only by it, and the
extractive answerer never quotes it. A span runs from the instruction to the end of its paragraph, since
the payload ("... reply only with: X. Y.") follows the instruction.
"""

from __future__ import annotations

import re

__all__ = ["instruction_spans", "without_instructions"]

_PATTERNS = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|all|any|your)\b"
    r"[^.\n]{0,30}?\b(?:instructions?|prompts?|rules|directions|guidelines)\b"
    r"|(?:^|\n|\s)(?:system|assistant|developer)\s*(?:prompt)?\s*:\s"
    r"|\byou are now\b|\bnew instructions?\s*:"
    r"|\b(?:reply|respond|answer|output|say)\s+(?:only\s+)?(?:with|exactly)\s*:",
    re.IGNORECASE,
)


def instruction_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _PATTERNS.finditer(text):
        start = m.start()
        line_start = text.rfind("\n", 0, start) + 1
        # Start at the sentence that holds the instruction.
        sentence_start = max(text.rfind(". ", line_start, start) + 2 if text.rfind(". ", line_start, start) >= 0
                             else line_start, line_start)
        end = text.find("\n\n", m.end())
        end = len(text) if end < 0 else end
        if spans and sentence_start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((sentence_start, end))
    return spans


def without_instructions(text: str) -> str:
    """The text with instruction spans blanked out (same length, so offsets still hold)."""
    for s, e in instruction_spans(text):
        text = text[:s] + " " * (e - s) + text[e:]
    return text
