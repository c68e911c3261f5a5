"""A bare answer ("Coinbase [1]", "16 [4]") is checked as the statement it makes about the question.

Small models often answer with the name or number alone. Judged by itself, "Coinbase" is "stated" by any
passage that mentions Coinbase, whatever the passage says of it; what the answer claims is "Coinbase is the
cryptocurrency that saw a 20% jump". So the check judges the question with the answer put in place of what it
asks for ("Coinbase cryptocurrency saw a 20% jump over the past week."), and the sentence shown stays the
model's own words.
"""

from __future__ import annotations

import re

__all__ = ["is_bare", "as_statement", "has_common_word"]

_MAX_WORDS = 4
_LOWER = re.compile(r"\b[a-zà-ÿß]{3,}\b")  # "said", "won": a sentence with a verb or common word is not bare
_LAST_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_WHICH = re.compile(r"(?i)\b(?:which|what|whose)\s+(?=\w)")
_WH = re.compile(r"(?i)\b(?:how many|how much|who|whom|where|when)\b")


def has_common_word(text: str) -> bool:
    """A lowercase word of three letters or more ("said", "won"): a verb or common word, so not a bare token."""
    return bool(_LOWER.search(text))


def is_bare(claim: str) -> bool:
    """A name or figure standing alone: at most four words, none of them a lowercase word of three letters
    or more ("Donyale Hall", "16", "$19.89", "Red Dye 3")."""
    words = claim.strip(" .!?").split()
    return 0 < len(words) <= _MAX_WORDS and not has_common_word(claim)


def as_statement(question: str, answer: str) -> str | None:
    """The question's last sentence with `answer` where its wh-word stands: "Which cryptocurrency saw a 20%
    jump?" + "Coinbase" -> "Coinbase cryptocurrency saw a 20% jump."; None when it asks no wh-question."""
    asked = _LAST_SENTENCE.split(question.strip())[-1].strip().rstrip("?").strip()
    answer = answer.strip().rstrip(".!?").strip()
    if not asked or not answer:
        return None
    for pattern in (_WHICH, _WH):
        m = pattern.search(asked)
        if m:
            rest = asked[m.end():].lstrip()
            return f"{asked[:m.start()]}{answer} {rest}".strip() + "."
    return None
