"""Who said what: find the person a question asks about, and the passages and sentences that quote them."""

from __future__ import annotations

import re

from rag.attribution.quotes import ROLE_WORDS
from rag.nlp.text import NOT_NAMES, SPEECH, name_terms

__all__ = ["asked_speaker", "speaker_terms", "is_speech", "mentions"]

_NAME = r"((?:[A-Z][\w'’.\-]*)(?:\s+(?:[A-Z][\w'’.\-]*|de|van|von|al|bin))*)"
_ASK = [
    rf"\bwhat (?:did|does|has|have|do) {_NAME} (?:say|said|tweet|tweeted|post|posted|write|wrote|think|thinks|claim|claimed|tell|told|announce|announced|reveal|revealed|respond|responded|react|reacted|argue|argued)",
    rf"\bhow (?:did|does|has|have) {_NAME} (?:respond|responded|react|reacted|reply|replied|answer|answered|feel|felt)",
    rf"\b(?:did|does|has) {_NAME} (?:say|said|comment|commented|respond|responded|speak|spoke|tweet|tweeted)",
    rf"\baccording to {_NAME}",
    rf"\b{_NAME}(?:'s|’s) (?:response|statement|reaction|comments?|remarks?|words|tweets?|post|reply|view|position)",
    rf"\bwhat was {_NAME}(?:'s|’s) (?:response|statement|reaction)",
    rf"\bwhy did {_NAME} (?:say|leave|quit|decline|refuse|cut|end|drop|sue|resign)",
]
_STATEMENT = re.compile(r"\bstatement\b", re.I)
_QUOTE = re.compile(r"[\"“”]")
_STOP = {"The", "A", "An", "What", "How", "Did", "Does", "Has", "Have", "Why", "When", "Who", "In", "On", "This"}


def asked_speaker(question: str) -> str | None:
    """'What did Kardashian say about Balenciaga?' -> 'Kardashian'; None when no one is asked about."""
    question = question.strip()
    question = question[:1].lower() + question[1:]  # "Did Sanders comment ...": the question word, not a name
    for pattern in _ASK:
        m = re.search(pattern, question)
        if m:
            name = m.group(1).strip(" .")
            parts = [p for p in name.split() if p not in _STOP]
            while len(parts) > 1 and parts[0] in NOT_NAMES:
                parts = parts[1:]  # "What did While Biden say?": a sentence's opening word is not the name
            while len(parts) > 1 and parts[0].lower().rstrip(".") in ROLE_WORDS:
                parts = parts[1:]  # "Prime Minister Marin": the role is not the name the quotes are filed under
            if parts:
                return " ".join(parts)
    return None


def speaker_terms(name: str) -> list[str]:
    """The forms a news text uses for a person: 'Kim Kardashian' -> ['kim kardashian', 'kardashian', 'kim']."""
    return name_terms(name)  # never stemmed: "Harris" stays "harris"


def mentions(text: str, name: str) -> bool:
    low = text.lower()
    return any(re.search(rf"\b{re.escape(t)}\b", low) for t in speaker_terms(name))


def is_speech(text: str) -> bool:
    """Quoted words or a speech verb: the text reports what someone said."""
    return bool(_QUOTE.search(text) or SPEECH.search(text) or _STATEMENT.search(text))
