"""Does a follow-up lean on the conversation? Only then is it rewritten with the history's subject.

"what about her kids?", "when was that?", "and the second one?" refer back; "Who won the 2022 World Cup?"
names its own subject and is asked as it stands, whatever came before it.
"""

from __future__ import annotations

import re

__all__ = ["refers_back"]

# Personal pronouns stand for someone named earlier; "I", "you", "we" are the user and the assistant.
_PERSONAL = re.compile(r"\b(he|she|they|him|her|his|hers|their|theirs|them|it|its|himself|herself|themselves)\b",
                       re.I)
# Demonstratives refer back when they stand alone ("when was that?") or point at a thing ("that deal"), not when
# they open a time phrase ("this year") or join a clause ("the law that passed", "said that").
_DEMONSTRATIVE = re.compile(r"\b(this|that|these|those)\b(\s+\w+)?", re.I)
_TIME_WORDS = {"year", "week", "month", "morning", "evening", "afternoon", "season", "time", "weekend", "summer",
               "winter", "spring", "autumn", "fall", "day", "decade", "century", "quarter", "term"}
_CLAUSE_BEFORE = re.compile(r"(\b[a-z]+(ed|s)|\b(said|says|say|think|thinks|know|believe|claim|claims|show|shows|"
                            r"mean|means|so|such|now|the\s+\w+|a\s+\w+|an\s+\w+))\s*$", re.I)
_OPENERS = re.compile(r"^\s*(what about|how about|and|also|what else|anything else|more on|tell me more|why not|"
                      r"what then|then what|same for|and what|but)\b", re.I)
_ORDINAL = re.compile(r"\b(the (first|second|third|last|latter|former|other|previous|same) one|the latter|"
                      r"the former|the other one|the same)\b", re.I)
_NAMED = re.compile(r"(?<![.?!]\s)\b[A-Z][a-z][\w'’\-]*")  # a capitalised word past the first: a name
_LONG = 8  # words
_WORD = re.compile(r"[A-Za-z0-9][\w'’\-]*")


def refers_back(question: str) -> bool:
    """True when the question cannot be understood without what was said before it."""
    q = question.strip()
    words = _WORD.findall(q)
    if len(words) <= 2:
        return True  # "Why?", "When exactly?", "And Harris?"
    if _OPENERS.search(q):
        return True
    if len(words) >= _LONG and _NAMED.search(q[1:]):
        return False  # a long question that names its own subject: its "it", "the same" point inside it
    if _ORDINAL.search(q) or _PERSONAL.search(q):
        return True
    for m in _DEMONSTRATIVE.finditer(q):
        nxt = (m.group(2) or "").strip().lower()
        if nxt in _TIME_WORDS:
            continue
        before = q[:m.start()]
        if m.group(1).lower() == "that" and _CLAUSE_BEFORE.search(before) and not re.search(
                r"\b(about|of|was|is|did|does|after|before|with|for|on|from|like|when)\s*$", before, re.I):
            continue  # "the law that passed", "said that": a clause, not a reference
        return True
    return False
