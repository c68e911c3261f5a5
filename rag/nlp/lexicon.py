"""General English word knowledge for the claim check: paraphrases a reporter or a model uses for the same fact,
opposites that turn a fact round, and the small words that change what a sentence commits to (hedges,
conditions, quantifiers, superlatives, denials). Plain English only: nothing here is tied to one dataset.

Every table is stemmed once, with the same stemmer as `rag.nlp.lexical.content_words`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.nlp.calendar import MONTH_ABBREVIATIONS
from rag.nlp.lexical import content_words

__all__ = ["ORDINALS", "alternatives", "antonyms", "same_place", "place_names", "HEDGES", "CONDITIONS", "QUANTIFIERS",
           "same_scope", "SUPERLATIVES", "DENIALS", "FRACTIONS", "MONTH_ABBREVIATIONS", "APPROXIMATE", "AT_LEAST",
           "AT_MOST", "FUTURE", "NEGATING_VERBS"]

# Words that news text and summaries use for one another. A group is a set of interchangeable words; a word may
# sit in several groups.
_SYNONYMS = """
cut lay layoff slash eliminate axe shed reduce
job worker employee staff position workforce
plant factory facility site mill
company firm business corporation
rise increase climb grow jump surge rose soar gain
fall decrease drop decline slide plunge sink dip slump fell tumble
buy purchase acquire
sell sold
say state tell announce claim note add explain remark
kill slay murder
die death dead
injure wound hurt
arrest detain apprehend custody
charge accuse indict
jail prison imprison sentence
sue lawsuit suit
ban prohibit outlaw bar
begin start launch commence open
end finish conclude close complete halt stop
help aid assist support
show reveal indicate suggest find
big large huge major massive
small little minor tiny
quick fast rapid swift
car vehicle automobile
child kid children youngster minor
mother mom mum parent
father dad parent
doctor physician
police officer cop authorities
lawmaker legislator senator congressman politician
government administration authorities officials
country nation state
city town municipality
home house residence
fire blaze flame
attack assault strike raid
fight battle clash combat
meet meeting talk talks
plan intend aim propose scheme
reject refuse decline deny oppose
approve pass endorse back accept
try attempt seek
win victory defeat beat
lose loss defeat
money funds cash fund
pay payment fee
cost price expense
tell inform
need require
use utilize employ
allow permit let enable
prevent stop block
believe think
warn caution
elect vote
leave quit resign depart exit
hire employ recruit
build construct
destroy demolish wreck
storm hurricane cyclone typhoon
illness disease sickness condition
treatment therapy care
""".strip().splitlines()

_ANTONYMS = """
rise fall
rose fell
increase decrease
increase decline
up down
higher lower
more less
more fewer
gain loss
win lose
won lost
before after
above below
next last
approve reject
accept reject
support oppose
guilty innocent
majority minority
maximum minimum
open close
allow ban
allow prohibit
legal illegal
alive dead
early late
first last
strong weak
success failure
profit loss
expand shrink
hire fire
north south
east west
""".strip().splitlines()

HEDGES = frozenset("may might could possibly perhaps allegedly reportedly apparently likely unlikely probably "
                   "suspected suspect believed thought expected appear appears appeared seem seems seemed "
                   "potential potentially presumably purportedly rumored rumoured unconfirmed".split())
CONDITIONS = frozenset("if unless provided whether".split())
QUANTIFIERS = frozenset("all every everyone everybody everything always entire entirely whole completely "
                        "totally only sole solely none".split())
# quantifiers that state the same scope: "found guilty on all counts" is "on every count"; "it only takes a few
# clicks" is "it takes just a couple"
_SCOPE_KIN = [frozenset("all every each entire entirely whole completely totally fully".split()),
              frozenset("everyone everybody all".split()),
              frozenset("only just sole solely merely exclusively alone".split())]


def same_scope(word: str) -> frozenset[str]:
    """`word` and the quantifiers that state the same scope as it."""
    return frozenset({word}).union(*(g for g in _SCOPE_KIN if word in g))


ORDINALS = frozenset("first second third fourth fifth sixth seventh eighth ninth tenth".split())  # one rank each
SUPERLATIVES = frozenset("largest biggest highest lowest best worst greatest smallest fastest slowest oldest "
                         "youngest longest shortest deadliest richest poorest strongest weakest most least first "
                         "record unprecedented".split())
DENIALS = frozenset("false untrue debunked myth hoax baseless unfounded misleading rumor rumour fake denied "
                    "denies deny incorrect inaccurate disputed refuted".split())
# "failed to win approval" ~ "was not approved": verbs that negate the verb they govern
NEGATING_VERBS = frozenset("fail failed fails refuse refused refuses decline declined declines".split())
FUTURE = frozenset("will would shall plans plan planned planning going expected set scheduled".split())
# "nearly 49 percent" for 48.7, "more than 1,200" for 1,214
APPROXIMATE = ("about", "around", "roughly", "approximately", "nearly", "almost", "some", "close to", "an estimated",
               "estimated", "just under", "just over")
AT_LEAST = ("more than", "over", "at least", "upwards of", "in excess of", "exceeding", "above", "greater than")
AT_MOST = ("less than", "under", "fewer than", "up to", "at most", "below", "no more than")
FRACTIONS = {"half": 50.0, "a third": 100 / 3, "one third": 100 / 3, "a quarter": 25.0, "one quarter": 25.0,
             "two thirds": 200 / 3, "three quarters": 75.0, "a fifth": 20.0, "one in five": 20.0,
             "one in four": 25.0, "one in three": 100 / 3, "one in ten": 10.0}
_FRACTION = re.compile(r"\b(" + "|".join(sorted(FRACTIONS, key=len, reverse=True)) + r")\b", re.I)


def _stem(word: str) -> str:
    stems = content_words(word)
    return stems[0] if stems else word


@lru_cache(maxsize=1)
def _synonym_index() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for line in _SYNONYMS:
        group = {_stem(w) for w in line.split()}
        for w in group:
            index.setdefault(w, set()).update(group - {w})
    return {w: frozenset(v) for w, v in index.items()}


@lru_cache(maxsize=1)
def _antonym_pairs() -> frozenset[tuple[str, str]]:
    pairs = set()
    for line in _ANTONYMS:
        a, b = line.split()
        for x, y in ((a, b), (_stem(a), _stem(b))):
            pairs.add((x, y))
            pairs.add((y, x))
    return frozenset(pairs)


# One-word names of one country or union as news writes them: the short form ("u.s." matches with its stops
# removed), the country, the adjective and the people ("US" where the passage says "American history"). Long forms
# ("United States") are their initials, which the check reads already. Lower case, one group a line.
_PLACES = """
us usa america american americans
uk britain british briton britons
eu european
"""


@lru_cache(maxsize=1)
def _place_index() -> dict[str, frozenset[str]]:
    index: dict[str, frozenset[str]] = {}
    for line in _PLACES.split("\n"):
        group = frozenset(line.split())
        for w in group:
            index[w] = group
    return index


def _place_key(name: str) -> str:
    return re.sub(r"[.\s]|'s$", "", name.lower())


def same_place(a: str, b: str) -> bool:
    """Whether two names stand for the same country or union ("US" and "American", "U.K." and "Britain")."""
    group = _place_index().get(_place_key(a))
    return group is not None and _place_key(b) in group


def place_names(name: str) -> frozenset[str]:
    """The other one-word names of a country or union, lower case ("US": "america", "american", ...)."""
    group = _place_index().get(_place_key(name), frozenset())
    return frozenset(w for w in group if w != _place_key(name))


def alternatives(stem: str) -> frozenset[str]:
    """The stems that may stand for `stem` in a paraphrase (not including itself)."""
    return _synonym_index().get(stem, frozenset())


def antonyms(a: str, b: str) -> bool:
    """Do the two words (or their stems) say opposite things ("rose" / "fell")?"""
    pairs = _antonym_pairs()
    a, b = a.lower(), b.lower()
    return (a, b) in pairs or (_stem(a), _stem(b)) in pairs


def fractions(text: str) -> list[float]:
    """Shares written in words ("half", "a third"), as percentages."""
    return [FRACTIONS[m.group(1).lower()] for m in _FRACTION.finditer(text)]
