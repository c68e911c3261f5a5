"""The one home for text normalisation, the speech-verb pattern and name helpers.

Everything that compares text (quotes against passages, titles against first lines, gold answers against
retrieved text) folds it the same way here; everything that asks "does this report speech?" uses SPEECH.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rag.nlp.calendar import MONTHS, WEEKDAY_NAMES

__all__ = [
    "QUOTE_TABLE", "fold", "plain_letters", "normalize", "norm", "same_text", "clip",
    "SPEECH_VERB", "SPEECH", "CUE_VERB", "OPEN_QUOTES", "CLOSE_QUOTES", "QUOTE_MARKS",
    "NAME_PARTICLES", "NAME_TOKEN", "MONTHS", "name_key", "name_terms", "same_person", "NOT_NAMES", "is_cue_word",
    "TITLE_ABBREVIATIONS",
]

# Curly and other typographic marks -> plain ASCII; dashes -> "-"; odd spaces -> " ".
QUOTE_TABLE = str.maketrans({
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
    "–": "-", "—": "-", "‒": "-", "―": "-", "−": "-",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ",
})
OPEN_QUOTES = "“„‟«"
CLOSE_QUOTES = "”»"
QUOTE_MARKS = '"“”„‟«»'
_NON_WORD = re.compile(r"\W+")


def fold(text: str) -> str:
    """Typographic quotes, dashes and spaces made plain; nothing else changes (same length)."""
    return (text or "").translate(QUOTE_TABLE)


def plain_letters(text: str) -> str:
    """Each accented Latin letter as its plain letter ("Beyoncé" → "Beyonce", "Zürich" → "Zurich"), nothing else
    changed (same length), so a word is one token and "José" in one text is "Jose" in another."""
    if not text or text.isascii():
        return text or ""
    return "".join(_plain_letter(c) for c in text)


@lru_cache(maxsize=4096)
def _plain_letter(c: str) -> str:
    if c.isascii():
        return c
    d = unicodedata.normalize("NFKD", c)
    return d[0] if len(d) > 1 and d[0].isascii() and d[0].isalpha() and all(unicodedata.combining(x) for x in d[1:]) \
        else c


def normalize(text: str) -> str:
    """For comparing quotes: marks made plain, white space folded, case folded."""
    return " ".join(fold(text).split()).casefold()


def norm(text: str | None) -> str:
    """For comparing answers: NFKC, marks made plain, lower case, single spaces."""
    return " ".join(fold(unicodedata.normalize("NFKC", text or "")).lower().split())


def same_text(a: str, b: str) -> bool:
    """Equal but for case, punctuation and spacing ("Balenciaga's ad" == "Balenciaga’s ad")."""
    if len(a) > 200 or len(b) > 200:
        return a.lower() == b.lower()  # long paragraphs: only exact repeats matter, and this is cheap
    if abs(len(a) - len(b)) > 10 + min(len(a), len(b)) // 5:
        return False  # normalising never changes a length that much
    key_a, key_b = _NON_WORD.sub(" ", a).strip().lower(), _NON_WORD.sub(" ", b).strip().lower()
    return bool(key_a) and key_a == key_b


def clip(text: str, limit: int, *, keep_lines: bool = False) -> str:
    """Cut to at most `limit` characters at a word boundary, ending in "…"; white space is folded to single
    spaces (line breaks too, unless keep_lines)."""
    text = (text or "").strip() if keep_lines else " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    if " " in cut[len(cut) // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


# The one pattern for "this reports what someone said" (an alternation, to use inside \b(?:...)\b).
SPEECH_VERB = (
    r"said|says|say|told|tells|tweeted|tweets|wrote|writes|posted|posts|stated|states|added|adds|explained|"
    r"explains|announced|announces|claimed|claims|argued|argues|insisted|insists|noted|notes|responded|replied|"
    r"commented|recalled|admitted|revealed|asked|continued|acknowledged|warned|urged|testified|alleged|shared|"
    r"according to"
)
SPEECH = re.compile(rf"\b(?:{SPEECH_VERB})\b", re.I)
# Verbs that credit a quotation placed right beside them ('"…," Carter estimated', 'Lee agreed: "…"'), but that
# do not by themselves make a sentence report speech.
CUE_VERB = SPEECH_VERB + (
    r"|agreed|estimated|joked|quipped|laughed|explained|emphasized|emphasised|stressed|observed|concluded|"
    r"conceded|countered|suggested|predicted|cautioned|remarked|declared|exclaimed|wondered|recounted|"
    r"reiterated|boasted|complained|pleaded|shouted|screamed|whispered|cried|sighed|mused|offered|answered|"
    r"confirmed|maintained|contended|lamented|pointed out|went on|chimed in"
)

_CUE_WORD = re.compile(rf"(?:{CUE_VERB})")


def is_cue_word(token: str) -> bool:
    """Is this one word a speech verb ("Said" opening '"…!" Said McClain.')? Such a word is never a first name."""
    return bool(_CUE_WORD.fullmatch(token.lower()))


# Name tokens: a capitalised word ("O'Neill", "Jean-Pierre", "McDaniel", "J.") and the lowercase particles
# that sit inside names ("Ursula von der Leyen").
NAME_TOKEN = r"[A-Z][\w'’\-]*\.?"
NAME_PARTICLES = frozenset({"de", "van", "von", "der", "den", "al", "bin", "da", "di", "du", "la", "le", "del", "dos"})
# Capitalised words that start sentences or name days and months, not people.
NOT_NAMES = frozenset("""The A An In On At By For From To Of And But Or So If As It Its He She They We I You His Her
Their Our My This That These Those There Here Then When While After Before Since Although Though However Meanwhile
Also Still Yet Now Later Earlier Today Yesterday Tomorrow Last Next Some Many Most All Both Each Every Other Such
What Who Why How Where Which Whether Mr Mrs Ms Dr Sir Not No Yes""".split()) | WEEKDAY_NAMES | MONTHS
_TITLES = frozenset("mr mrs ms miss dr sir dame prof rev sen rep gov gen col lt sgt capt pres st".split())
# a title written out and the abbreviation news writes before a name ("Governor Doug Ducey", "Gov. Doug Ducey")
TITLE_ABBREVIATIONS = {"governor": "gov", "senator": "sen", "representative": "rep", "general": "gen",
                       "colonel": "col", "lieutenant": "lt", "sergeant": "sgt", "captain": "capt", "president": "pres",
                       "professor": "prof", "doctor": "dr", "reverend": "rev", "attorney": "atty"}


def _tokens(name: str) -> list[str]:
    out = []
    for raw in fold(name).split():
        t = raw.strip(".,;:!?\"()[]").lower()
        if t.endswith("'s"):
            t = t[:-2]  # the possessive, not the letter s: "Harris's" -> "harris", "Harris" stays "harris"
        t = t.strip("'")
        if t and t not in _TITLES:
            out.append(t)
    return out


def name_key(name: str) -> str:
    """A comparable form of a person's name: folded, lower case, no titles or possessive; never stemmed."""
    return " ".join(_tokens(name))


def name_terms(name: str) -> list[str]:
    """The forms a news text uses for a person: 'Kim Kardashian' -> ['kim kardashian', 'kardashian', 'kim']."""
    parts = [p for p in _tokens(name) if len(p) > 1 and p not in NAME_PARTICLES]
    if not parts:
        return []
    terms = [" ".join(_tokens(name)), parts[-1]]
    if len(parts) > 1:
        terms.append(parts[0])
    return list(dict.fromkeys(t for t in terms if t))


def same_person(a: str | None, b: str | None) -> bool:
    """Could the two names be the same person? Equal keys, or one's surname is the other's ("Harris" ~
    "Kamala Harris"); two different surnames never are."""
    if not a or not b:
        return False
    ta = [t for t in _tokens(a) if t not in NAME_PARTICLES]
    tb = [t for t in _tokens(b) if t not in NAME_PARTICLES]
    if not ta or not tb:
        return False
    if ta == tb:
        return True
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if short[-1] != long_[-1]:
        return False
    return all(t in long_ for t in short)
