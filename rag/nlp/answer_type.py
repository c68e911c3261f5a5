"""What kind of span answers a question, and whether a sentence holds it next to the thing asked about.

"Who scored the winner?" wants a name beside "scored"; "How many flights were cancelled?" a figure beside
"flights"; "When did the line open?" a date near "open"; "Did Nimbus apologise?" the sentence that says so.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.nlp.calendar import MONTH_ABBREVIATIONS, MONTH_NAMES, WEEKDAYS
from rag.nlp.lexical import content_words
from rag.nlp.lexicon import alternatives
from rag.nlp.sentences import sentence_spans, words

__all__ = ["GENERIC", "TOKEN", "is_name", "answer_type", "has_type", "question_names", "focus_word", "answers_focus", "predicate_words",
           "NUMBER", "WHEN", "span_kind", "answer_spans", "capitalised_mid", "figure_key"]

NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|hundred|thousand|"
                    r"million|billion|dozen|dozens|hundreds|thousands)\b", re.I)
# dates and date words (the one month and weekday table: rag/nlp/calendar.py)
WHEN = re.compile(rf"\b(\d{{4}}|{'|'.join(WEEKDAYS)}|today|yesterday|tonight|{'|'.join(MONTH_NAMES)}|"
                  rf"{'|'.join(MONTH_ABBREVIATIONS)}|spring|summer|autumn|fall|winter|"
                  r"week|month|year|ago|earlier|later|last|next)\b", re.I)
_QWORDS = {"What", "How", "Who", "Whom", "Whose", "Why", "When", "Where", "Which", "Did", "Does", "Do", "Has", "Have",
           "Is", "Was", "Were", "Are", "Will", "Can", "Could", "Should", "Would", "The", "A", "An", "And", "In", "On",
           "Of", "At", "For", "To", "After", "Before", "According", "Tell", "Give", "List", "Name", "I", "It", "He",
           "She", "They", "We", "This", "That", "But", "If", "As", "So", "His", "Her", "Their", "Its", "There"}
# Words of a question that asks for whatever is new ("What happened last week?"), not about a subject.
GENERIC = frozenset({"happen", "news", "latest", "recent", "new", "go", "cover", "coverag", "stori", "stories", "report",
                     "headlin", "last", "today", "yesterday"})
# Words the stop list drops that still change what a question asks ("voted against" is not "voted for").
_KEEP = {"against", "not", "no", "never", "without", "before", "after", "first", "last", "won"}
_NEGATION = {"not", "no", "never", "without"}
TOKEN = re.compile(r"[A-Za-z0-9][\w'’\-.,]*[A-Za-z0-9]|[A-Za-z0-9]")


def question_names(text: str) -> list[str]:
    """Capitalised words used as names ("Regional", "Cup", "Lund"), not question or function words."""
    return [w.strip("'’") for w in re.findall(r"\b[A-Z][\w'’\-]*", text) if w not in _QWORDS]


def predicate_words(text: str) -> list[str]:
    """Content words (stemmed) plus the few function words that carry the question's meaning."""
    return list(_predicate_words(text))


# An answer reads each statement of its passages several times (ranking, conflicts, the claim check): the words
# of a text and of a word are remembered (the answer stage spent a tenth of its time here at 1M passages).
@lru_cache(maxsize=20_000)
def _predicate_words(text: str) -> tuple[str, ...]:
    return tuple(x for w in words(text) for x in _predicate_word(w))  # in order: the first is the focus


@lru_cache(maxsize=100_000)
def _predicate_word(w: str) -> tuple[str, ...]:
    return (w,) if w in _KEEP else tuple(content_words(w))


@lru_cache(maxsize=1024)  # asked again for each pair of statements the conflict check compares
def answer_type(question: str) -> str | None:
    """What kind of span answers the question: 'number', 'when', 'who', 'did', or None."""
    q = question.lower().strip()
    if re.search(r"\bhow (much|many|long|old|far|big|large|tall|often)\b|\bwhat (percentage|share|number|amount|"
                 r"price|percent)\b", q):
        return "number"
    if re.search(r"^\s*when\b|\bwhat (year|date|day|month|time)\b", q):
        return "when"
    if re.search(r"^\s*(who|whom|whose)\b|\bwhich\s+[a-z]+", q):
        return "who"  # a name: "Who won?", "... in which state?", "Which musician will headline?"
    if re.search(r"^\s*(did|does|do|has|have|is|was|were|are|will|can)\b", q):
        return "did"
    return None


def is_name(token: str, asked: set[str]) -> bool:
    """A capitalised word that is not a question or function word, a day or month, or a name the question gives."""
    word = token.strip(".,")
    return (word[:1].isupper() and word not in _QWORDS and word.lower() not in asked
            and not WHEN.fullmatch(word.lower()))


def has_type(kind: str | None, text: str, question: str) -> bool:
    """Whether the text holds the kind of thing asked for (for 'who': a name the question does not give)."""
    if kind == "number":
        return bool(NUMBER.search(text))
    if kind == "when":
        return bool(WHEN.search(text))
    if kind == "who":
        asked = {w.lower() for w in question_names(question)}
        return any(is_name(t, asked) for t in TOKEN.findall(text)[1:])
    return True


def focus_word(question: str) -> str | None:
    """The stem of the first content word after the question word: 'scor' in 'Who scored the winner?',
    'vote' in 'How many votes did it get?'. None for questions without a wh-word."""
    m = re.match(r"\s*when\s+(?:does|did|do|will|would|is|was|are|were|has|have|had|can|could|should)\s+"
                 r"(?:[\w'’\-]+\s+){1,8}?(?P<verb>[a-z][\w\-]*)\s*\?*\s*$", question, re.I)
    if m:  # "When does the bridge work begin?": the verb the date stands beside ("begins in April 2027")
        return (predicate_words(m.group("verb")) or [None])[0]
    m = re.search(r"\bhow (?:many|much)\s+([a-z][\w\-]*)", question, re.I)
    if m and m.group(1).lower() not in ("did", "does", "do", "is", "was", "were", "are", "has", "have", "will"):
        return (predicate_words(m.group(1)) or [None])[0]  # "after how many days" -> the days counted
    m = re.search(r"\b(?i:which)\s+(?:[\w'\-]+\s+){1,3}?(?P<verb>[a-z]+ed|won|saw|made|became|set|took|left|hit|led|beat|"
                  r"got|gave|sold|bought|held|ran|lost|began|broke|chose|drew|fell|found|grew|kept|met|paid|rose|"
                  r"sent|spent|stood|struck|threw|wore|wrote)\b", question)
    if m:  # "Which pharmacy chain filed for bankruptcy?": the verb the name stands beside
        return (predicate_words(m.group("verb")) or [None])[0]
    m = re.match(r"\s*(?:who|whom|whose|when|how (?:much|many|long|old|far|big|large|tall|often)|"
                 r"what (?:year|date|day|month|time|percentage|share|number|amount|price|percent))\b(.*)",
                 question, re.I | re.S)
    if not m:
        return None
    rest = [w for w in predicate_words(m.group(1)) if w not in _NEGATION]
    return rest[0] if rest else None


def answers_focus(kind: str | None, focus: str | None, text: str, question: str, window: int = 4) -> bool:
    """The answer's kind of span stands within a few words of the focus word ("Tom Sanders voted", "52 votes",
    "opened in 2028")."""
    if not kind or not focus or kind == "did":
        return False
    tokens = TOKEN.findall(text)
    stems = [(predicate_words(t) or [""])[0] for t in tokens]
    asked = {w.lower() for w in question_names(question)}
    same = {focus} | alternatives(focus)  # "start" is asked, "begins" is written
    hits = [i for i, s in enumerate(stems) if s in same]
    for i in hits:
        near = tokens[max(0, i - window):i] + tokens[i + 1:i + 1 + window + (2 if kind == "when" else 0)]
        if kind == "who" and any(is_name(t, asked) for t in near):
            return True
        if kind == "number" and any(NUMBER.search(t) for t in near):
            return True
        if kind == "when" and any(WHEN.fullmatch(t.strip(".,").lower()) or re.fullmatch(r"\d{4}", t.strip(".,"))
                                  for t in near):
            return True
    return False


# "Why did ...?", "What caused ...?", "What led to ...?": the answer is a reason.
_WHY = re.compile(r"\s*(?:why\b|what\s+(?:caused|causes|led\s+to|leads\s+to|drove|drives|is\s+behind|was\s+behind|"
                  r"prompted|explains)\b|for\s+what\s+reason\b|how\s+come\b)", re.I)
# The words that give a reason, and the clause they open (up to a comma or the end of the sentence).
_REASON = re.compile(r"\b(?:because(?:\s+of)?|due\s+to|owing\s+to|as\s+a\s+result\s+of|thanks\s+to|caused\s+by|"
                     r"driven\s+by|fu?ell?ed\s+by|blamed\s+(?:\w+\s+)?on|citing|amid|in\s+order\s+to|so\s+that|"
                     r"the\s+reason\s+(?:is|was|being)|stemm(?:ed|ing)\s+from|result(?:ed|ing)\s+from|"
                     r"(?:caused|led\s+to|prompted|triggered|sparked)\b)[^,;.!?]{3,120}", re.I)
# "Which type of pet ...?", "what kind of sightings?": a kind of thing, not a name.
_KIND_OF = re.compile(r"\b(?:which|what)\s+(?:type|kind|sort|form|variety|category)s?\s+of\b", re.I)
_VAGUE_WHEN = {"week", "month", "year", "ago", "earlier", "later", "last", "next"}  # "last week" dates nothing
_YEAR = re.compile(r"(?:19|20)\d\d")


def span_kind(question: str) -> str | None:
    """The kind of span an answer should open with: answer_type's, a name also for 'where' ("Where will the
    debate take place?" wants a place), and none for "which type of X" (a kind of thing, rarely a name)."""
    kind = answer_type(question)
    if _WHY.match(question):
        return "why"  # a reason: "because two members were ill", "driven by higher steel prices"
    if re.match(r"\s*where\b", question, re.I):
        return "who"
    if kind == "who" and _KIND_OF.search(question) and not re.match(r"\s*(who|whom|whose)\b", question, re.I):
        return None
    return kind


def capitalised_mid(text: str) -> set[str]:
    """Words written with a capital inside a sentence (not as its first word): the names a text uses."""
    out: set[str] = set()
    for start, end in sentence_spans(text):
        out.update(_bare(t) for t in TOKEN.findall(text[start:end])[1:] if t[:1].isupper())
    return out


def _bare(token: str) -> str:
    """A token without trailing punctuation or a possessive: "Trump's" -> "Trump"."""
    bare = token.strip(".,")
    return _POSSESSIVE.sub("", bare) if "'" in bare or "’" in bare else bare


_FIGURE = re.compile(r"\$?\d[\d,.]*%?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|"
                     r"hundreds|thousands|millions", re.I)


_POSSESSIVE = re.compile(r"['’]s$")
_FIGURE_KEY = re.compile(r"\$?\d[\d,]*(?:\.\d+)?%?")
_COUNT_WORDS = {w: str(n) for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}


def figure_key(token: str) -> str | None:
    """One spelling for a figure however the text writes it: "four" and "4" are both "4", "75,000" is "75000"
    ("$200,000" keeps its "$", "50%" its "%"); None for a word that is no figure."""
    t = token.lower().strip(".,")
    if t in _COUNT_WORDS:
        return _COUNT_WORDS[t]
    if (t[:1] == "$" or t[:1].isdigit()) and _FIGURE_KEY.fullmatch(t):
        return t.replace(",", "")
    return None


def answer_spans(kind: str | None, text: str, question: str, known: set[str] | frozenset = frozenset()) -> list[str]:
    """The spans of the asked kind in the text that the question does not already give: runs of name words for
    'who' ("Chris Christie"; not a word the question says, even lowercase, like "President"; a sentence's first
    word only when `known`, the passage's mid-sentence names, holds it), figures for 'number' (not years),
    dates for 'when'."""
    tokens = TOKEN.findall(text)
    if kind == "who":
        asked = {w.lower() for w in question_names(question)}
        said = set(predicate_words(question))
        out: list[str] = []
        run: list[str] = []
        for i, t in enumerate(tokens + ["."]):
            w = _bare(t)
            if (i < len(tokens) and is_name(w, asked) and (stems := content_words(w)) and not set(stems) & said
                    and (i > 0 or w in known) and not (i == 0 and w.isupper() and len(w) > 4)):
                run.append(w)
                continue
            if run:
                out.append(" ".join(run))
            run = []
        return out
    if kind == "number":
        given = {t.strip(".,").lower() for t in TOKEN.findall(question) if NUMBER.search(t)}
        return [t.strip(".,") for t in tokens if _FIGURE.fullmatch(t.strip(".,"))
                and t.strip(".,").lower() not in given and not _YEAR.fullmatch(t.strip(".,"))]
    if kind == "when":
        given = {w.lower() for w in words(question)}
        return [t for t in tokens if WHEN.fullmatch(t.strip(".,").lower())
                and t.strip(".,").lower() not in given and t.strip(".,").lower() not in _VAGUE_WHEN]
    if kind == "why":  # each reason the text gives, from its cue to the end of its clause
        return [" ".join(m.group(0).split()) for m in _REASON.finditer(text)]
    return []
