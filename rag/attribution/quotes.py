"""Who the text credits with which words: quotations and reported statements, each with its speaker.

`find_quotes(text)` finds
- direct quotes in quote marks, with the cue after them ('"…," Smith said', '"…," said Smith, a spokesperson
  for Y', '"…," she added') or before them in the same sentence ('Smith said: "…"', 'according to Smith, "…"');
  a quotation that runs over paragraphs (the next paragraph opens with a quote mark) is one quote; a second quote
  in the same paragraph with no cue of its own keeps the speaker of the one before;
- reported statements without quote marks ('Smith said the plan was dead', 'The plan is dead, Smith said',
  'In a statement, the company said …', 'Smith tweeted …', 'according to Smith, …').
A quotation with no cue beside it is credited from its sentence or the one before: the sentence's subject
('Lee pointed to a joke that "…"', 'She waved the grant away, saying: "…"'), a paragraph that introduces it
('Kardashian also tweeted after the removal,' / 'She did not stop there:'), the subject of the sentence just
before it when that sentence is about them; a quoted title or term ('a book called "…"') is credited to nobody.
A pronoun cue ("she said") is resolved to the last speaker or sentence subject named before it in its paragraph
(else the last person named there, else a speaker or subject of the three paragraphs before), never to a name
inside quotation marks; titles and roles go to `description`. `credited(quotes, start, end)` says whom the text
credits for a span.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from rag.core.schema import Quote
from rag.nlp.sentences import sentence_spans
from rag.nlp.text import (
    CUE_VERB,
    NAME_PARTICLES,
    NOT_NAMES,
    QUOTE_MARKS,
    SPEECH_VERB,
    fold,
    is_cue_word,
)

__all__ = ["find_quotes", "quote_spans", "credited", "credited_quotes", "ROLE_WORDS", "NOT_SPEAKERS"]

# Words that make a title or role, not a name ("RNC Chairwoman Ronna McDaniel", "Secretary-General António
# Guterres"): they go to Quote.description.
ROLE_WORDS = frozenset("""president vice chairman chairwoman chair chairperson ceo cfo coo cto chief executive officer
spokesperson spokeswoman spokesman spokespeople secretary secretary-general minister prime director senator sen
representative rep congressman congresswoman governor gov mayor judge justice coach manager general attorney
commissioner founder co-founder chancellor ambassador sheriff lieutenant lt sergeant sgt captain capt detective
professor prof dr doctor head leader speaker deputy assistant analyst editor reporter correspondent economist
superintendent principal trustee councilman councilwoman councilmember delegate state
rev pastor rabbi bishop cardinal imam pope king queen prince princess lord lady dame sir mr mrs ms miss""".split())
NOT_SPEAKERS = NOT_NAMES | {"Police", "Officials", "Authorities", "Experts", "Researchers", "Critics", "Witnesses",
                             "Residents", "Sources", "Analysts", "Prosecutors", "Officers", "Scientists", "Doctors",
                             "Reports", "Data", "Studies", "Polls"}
_TOKEN = r"(?:[A-Z][a-z]{0,3}\.|[A-Z][\w'\-]*)"  # "Rep." and "J." may end in a full stop; "Perry." ends a sentence
_NAME = rf"{_TOKEN}(?:\s+(?:{_TOKEN}|(?:{'|'.join(sorted(NAME_PARTICLES))})(?=\s+[A-Z])))*"
_VERB = SPEECH_VERB.replace("|according to", "")  # the one speech-verb pattern; "according to X" has its own cue
_CUE = CUE_VERB.replace("|according to", "")  # beside a quotation, more verbs credit it ('"…," Carter estimated')
_ADV = r"(?:(?:also|later|then|soon|again|once|finally|[a-z]+ly)\s+)?"  # '"…," she soon added'
_ROLES = "|".join(sorted((re.escape(w) for w in ROLE_WORDS), key=len, reverse=True))
_NO_ROLE_AFTER = rf"(?![\w'\-])(?!\s+(?:{_ROLES})\b)"  # 'wrote US attorney Damian Williams': "US" is not the name
_PRONOUN = r"[Hh]e|[Ss]he|[Tt]hey|[Ii]t|[Ww]e|I"
_PRONOUNS = {"he", "she", "they", "it", "we", "i"}
_POST_VERBS = {"tweeted", "tweets", "posted", "posts", "wrote", "writes", "shared"}

# A cue after a closing quote mark: ', Smith said' / ', Smith, a spokesperson, said' / ', said Smith, a …'
_AFTER_NAME_VERB = re.compile(
    rf"^[\s,]*(?P<pre>(?:[\w'\-.]+\s+){{0,4}}?)(?P<name>{_NAME})(?:,\s*(?P<desc>[^,\"]{{2,90}}),)?\s+"
    rf"{_ADV}(?P<verb>{_CUE})\b")
_AFTER_PRONOUN = re.compile(rf"^[\s,]*(?P<name>{_PRONOUN})\s+{_ADV}(?P<verb>{_CUE})\b")
_AFTER_VERB_NAME = re.compile(
    rf"^[\s,]*(?P<verb>{_CUE})\s+(?P<pre>(?:[\w'\-.]+\s+){{0,4}}?)(?P<name>{_NAME}){_NO_ROLE_AFTER}"
    rf"(?:,\s*(?P<desc>[^.\";]{{2,100}}?)(?=[.,;]|$))?")
# '"…," the store's night worker, identified only as Duke, told …': the description comes before the name
_AFTER_DESC_NAME = re.compile(
    rf"^[\s,]*(?P<desc>(?:the|a|an|one)\s+[^,.;\"]{{2,60}}?),\s+(?:(?:identified|known|described)\s+(?:only\s+)?as\s+"
    rf"|named\s+|called\s+)?(?P<name>{_NAME}),\s+{_ADV}(?P<verb>{_CUE})\b")
_AFTER_DESC = re.compile(rf"^[\s,]*(?P<desc>(?:the|a|an|one)\s+[^,.;\"]{{2,60}}?)\s+(?P<verb>{_VERB})\b")
# A cue before an opening quote mark, in the same sentence: 'Smith said: ' / 'Smith told reporters, '
_BEFORE = re.compile(
    rf"(?P<pre>(?:[\w'\-.]+,?\s+){{0,4}}?)(?P<name>{_NAME}|\b(?:{_PRONOUN})\b)(?:,\s*(?P<desc>[^,\"]{{2,90}}),)?,?\s+"
    rf"{_ADV}(?P<verb>{_CUE})\b[^\"]{{0,80}}?[:,]?\s*$")
_ACCORDING = re.compile(rf"\baccording to\s+(?P<pre>(?:[a-z][\w'\-]*\s+){{0,3}}?)(?P<name>{_NAME})")
_STATEMENT = re.compile(r"\b(?:in|a|the|its|his|her|their)\s+(?:\w+\s+){0,2}statement\b", re.I)
# Reported speech: 'Smith said (that) …' at a sentence start, and '…, Smith said.' at its end.
_REPORTED_HEAD = re.compile(
    rf"^(?:[^,\"]{{0,50}},\s+|(?:[A-Z]\w*\s+)?(?:[a-z][\w\-]*\s+){{0,4}}?)??(?P<name>{_NAME}|(?:{_PRONOUN})\b)"
    rf"(?:,\s*(?P<desc>[^,\"]{{2,90}}),)?\s+(?:also\s+|later\s+|then\s+|has\s+|had\s+)?(?P<verb>{_VERB})\b"
    rf"(?:\s+(?:on|in)\s+\w+)?[,:]?\s+(?:that\s+)?")
_REPORTED_TAIL = re.compile(
    rf",\s+(?P<pre>(?:[\w'\-.]+\s+){{0,4}}?)(?P<name>{_NAME}|(?:{_PRONOUN})\b)(?:,\s*(?P<desc>[^,\"]{{2,90}}),)?"
    rf"\s+(?P<verb>{_VERB})\b(?:\s+[^,.]{{0,40}})?[.!?]?$")
# '…, said retired police officer Dan Selekman.': the verb before the name
_REPORTED_TAIL_INV = re.compile(
    rf",\s+(?P<verb>{_VERB})\s+(?P<pre>(?:[\w'\-.]+\s+){{0,4}}?)(?P<name>{_NAME}){_NO_ROLE_AFTER}"
    rf"(?:,\s*(?P<desc>[^,\"]{{2,90}}))?[.!?]?$")
_SPEECH_IN_GAP = re.compile(rf"\b(?:{_VERB})\b")
_PERSON = re.compile(rf"\b{_TOKEN}(?:\s+{_TOKEN})+")


def find_quotes(text: str, article_id: str = "") -> list[Quote]:
    """Quotations and reported statements in `text`, in order, each with the speaker the text credits."""
    return [Quote(article_id, *q[:2], text[q[0]:q[1]], *q[2:]) for q in _find(text)]


def quote_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words inside each pair of quote marks (a mark's direction decides the pairing)."""
    return [_inner(text, s, e) for s, e, _ in _quote_spans(text, fold(text))]


def credited_quotes(quotes: Iterable[Quote], start: int, end: int) -> list[Quote]:
    """The quotes whose credited words overlap text[start:end]."""
    return [q for q in quotes if q.start < end and start < q.end]


def credited(quotes: Iterable[Quote], start: int, end: int) -> set[str]:
    """Whom the text credits for the span text[start:end] (the speakers of the quotes that overlap it)."""
    return {q.speaker for q in credited_quotes(quotes, start, end) if q.speaker}


@lru_cache(maxsize=4096)
def _find(text: str) -> tuple[tuple, ...]:
    plain = fold(text)
    spans = _quote_spans(text, plain)
    people = _people(plain, spans)
    known = {t for _, n, _ in people for t in n.split() if t not in NOT_NAMES}  # words of full names it gives
    items: list[tuple] = []  # (start, end, cue or None, kind, paragraph, quote end)
    for k, (qs, qe, para) in enumerate(spans):
        s, e = _inner(text, qs, qe)
        cue = _cue_after(plain, qe, text[s:e]) or _cue_before(plain, qs)
        if cue is None and k + 1 < len(spans) and re.fullmatch(r"\s+(?:and|or)\s+", plain[qe:spans[k + 1][0]]):
            nqs, nqe, _ = spans[k + 1]  # '"the hottest markets" and "most job growth," Chapple said': one cue
            cue = _cue_after(plain, nqe, text[slice(*_inner(text, nqs, nqe))])
        if cue is None:
            cue = (_subject_cue(plain, qs, text[s:e], known) or _paragraph_cue(plain, qs, known)
                   or _previous_sentence_cue(plain, qs, qe, text[s:e], known))
        items.append((s, e, cue, "direct", para, qs, qe))
    covered = [(qs, qe) for qs, qe, _ in spans]
    for ss, se in sentence_spans(plain):
        if any(qs < se and ss < qe for qs, qe in covered):
            continue  # the sentence holds a direct quote: its cue is that quote's
        found = _reported(plain, ss, se)
        if found:
            (s, e), cue, kind = found
            items.append((s, e, cue, kind, -1, ss, se))
    items.sort(key=lambda x: x[0])
    out: list[tuple] = []
    last = None  # (paragraph, end of quote and cue, resolved) of the last direct quote
    for s, e, cue, kind, para, qs, qe in items:
        if cue is None and kind == "direct" and last and last[0] == para and _adjacent(plain[last[1]:qs]):
            resolved = last[2]  # '"…," she said. "More …"': the next quote, right after, is the same speaker's
        elif (cue is None and kind == "direct" and last and para == last[0] + 1 and _whole_paragraph(plain, qs, qe)
              and _adjacent(plain[last[1]:qs].strip())):
            resolved = last[2]  # a paragraph that is only a quotation, right after a credited one, continues it
        elif cue is None:
            resolved = (None, None, -1, -1, False)
        else:
            resolved = _resolve(cue, people, plain)
        speaker, desc, cs, ce, pronoun = resolved
        if kind == "direct":
            out.append((s, e, speaker, desc, kind, cs, ce, pronoun))
            last = (para, max(qe, ce), resolved)
        elif speaker or desc:
            out.append((s, e, speaker, desc, kind, cs, ce, pronoun))
        if speaker and not pronoun and cs >= 0:
            people.append((cs, speaker, True))  # a named speaker is someone a later "she said" can mean
            people.sort()
    return tuple(out)


def _whole_paragraph(plain: str, qs: int, qe: int) -> bool:
    """The quotation is its paragraph: nothing but white space before its opening mark and after its close."""
    start = plain.rfind("\n", 0, qs) + 1
    end = plain.find("\n", qe)
    end = len(plain) if end < 0 else end
    return not plain[start:qs].strip() and not plain[qe:end].strip(" .")


def _adjacent(gap: str) -> bool:
    """Only the rest of the cue's sentence lies between two quotes ('she wrote on Instagram. ')."""
    ends = sum(gap.count(c) for c in ".?!")
    if '"' in gap or _SPEECH_IN_GAP.search(gap):
        return False
    # the rest of the cue's sentence, or the same sentence going on ('X said, adding that … and "…"')
    return (len(gap) <= 140 and ends <= 1) or (len(gap) <= 200 and ends == 0 and "\n" not in gap)


def _quote_spans(text: str, plain: str) -> list[tuple[int, int, int]]:
    """(open mark, close mark + 1, paragraph number) of each quotation; one over paragraphs when the next
    paragraph reopens it. A closing mark with no opening one (a passage cut mid-quote) is skipped."""
    out: list[tuple[int, int, int]] = []
    paras = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", plain)]
    open_at, open_para = -1, -1
    for n, (ps, pe) in enumerate(paras):
        for i in range(ps, pe):
            if plain[i] != '"':
                continue
            if open_at >= 0 and open_para < n and i == _first_char(plain, ps):
                continue  # the reopening mark of a quotation carried over from the paragraph before
            opening = _opens(text, i)
            if opening:
                open_at, open_para = i, n  # a second opening mark: the first one was never closed
            elif open_at >= 0:
                out.append((open_at, i + 1, open_para))
                open_at = -1
            elif not any(p == n for _, _, p in out) and i - ps > 12:
                out.append((ps - 1, i + 1, n))  # text cut mid-quote: the quote ran from the paragraph's start
        if open_at >= 0:
            nxt = paras[n + 1][0] if n + 1 < len(paras) else -1
            if nxt < 0 or plain[_first_char(plain, nxt)] != '"':
                out.append((open_at, pe, open_para))  # never closed: it runs to the paragraph's end
                open_at = -1
    return [(s, e, p) for s, e, p in out if e - s > 3]


def _inner(text: str, s: int, e: int) -> tuple[int, int]:
    """The words between the marks of a quote span (the start may lie before the text: a cut quote)."""
    return s + 1, (e - 1 if text[e - 1:e] in tuple(QUOTE_MARKS) else e)


def _opens(text: str, i: int) -> bool:
    """Is the quote mark at i an opening one? Curly marks say so; a straight one opens after a space or a
    bracket (or at the start) and before a word."""
    ch = text[i]
    if ch in "“„‟«":
        return True
    if ch in "”»":
        return False
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([{—–-‘'") and not after.isspace()


def _first_char(plain: str, i: int) -> int:
    while i < len(plain) and plain[i] in " \t":
        i += 1
    return min(i, len(plain) - 1)


def _cue_after(plain: str, qe: int, inner: str) -> tuple | None:
    if inner.rstrip().endswith(".") and not inner.rstrip().endswith("..."):
        return None  # '"… greed." He told the jury': a quote closed by a full stop ends its sentence
    window = plain[qe:qe + 160].split("\n", 1)[0]
    if not window[:2].strip(" ,") == "" and not window.startswith((",", " ")):
        return None
    head = re.match(r"[\s,]*([A-Z][a-z]+)\b", window)
    if head and re.search(r"[!?]$", inner.rstrip()) and re.fullmatch(_CUE, head.group(1).lower()):
        window = window[:head.start(1)] + head.group(1).lower() + window[head.end(1):]  # '"…!" Said McClain.'
    for rx in (_AFTER_PRONOUN, _AFTER_VERB_NAME, _AFTER_NAME_VERB, _AFTER_DESC_NAME, _AFTER_DESC):
        m = rx.match(window)
        if m and _name_ok(m):
            return _cue(m, qe)
    return None


def _cue_before(plain: str, qs: int) -> tuple | None:
    if qs < 0 or plain[qs] != '"':
        return None  # a quote cut at the start of the text has nothing before it
    start = max(plain.rfind("\n", 0, qs) + 1, qs - 220)
    window = plain[start:qs]
    cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "), window.rfind('" '))
    if cut >= 0:
        start, window = start + cut + 2, window[cut + 2:]
    if _NAMING.search(window):
        return None  # 'a book called "…"': a title or a term, not words anyone is credited with
    m = _ACCORDING.search(window)
    if m and _name_ok(m):
        return _cue(m, start)
    m = _BEFORE.search(window)
    if m and _name_ok(m):
        of = re.search(rf"(?P<name>{_NAME})\s+(?:of|from|at)\s+(?:the\s+)?$", window[:m.start("name")])
        # 'Jordan Shapiro of Temple University, said': Shapiro, not the university
        if of and _name_ok(of) and len(of.group("name").split()) > 1 and window[m.end("name"):].startswith(","):
            return (of.group("name"), "", m.group("name"), start + of.start(), start + m.end())
        return _cue(m, start)
    return None


_ABBREV_END = re.compile(r"\b(?:[A-Z]|Mr|Mrs|Ms|Dr|St|Jr|Sr|Gov|Sen|Rep|Gen|Lt|Sgt|Capt|Prof|Rev)$")
_NAMING = re.compile(r"\b(?:called|titled|entitled|named|dubbed|known as|stands? for|such as|the words?|the phrase|"
                     r"the term|hashtag|slogan|headlined|labeled|labelled|nicknamed)\s*$", re.I)
# The subject of a sentence: after an opening phrase ("In a statement on Friday, ") and role words, a name (or a
# pronoun) followed by a lower-case word, its verb ("Lee pointed to …", "She brushed aside …, saying: ").
_OPENING = r"^(?:[^,\"]{0,70},\s+)?(?:(?:and|but|so)\s+)?"  # "In a statement on Friday, " / "But "
_TITLE_WORD = rf"(?:[A-Z][\w'\-.]*|{_ROLES}|and|of|the|former)\s+"  # "White House press secretary", "Rep."
_SUBJECT = re.compile(
    rf"{_OPENING}(?P<pre>(?:{_TITLE_WORD}){{0,6}}?)(?P<name>{_NAME}|(?:{_PRONOUN})\b)(?![\w'\-])"
    rf"(?:,\s*(?P<desc>[^,\"]{{2,90}}(?:,[^,\"]{{2,60}}){{0,2}}),)?\s+{_ADV}(?P<verb>[a-z][\w\-]*)\b")


def _sentence_start(plain: str, at: int) -> int:
    """Where the sentence holding offset `at` begins (a paragraph start, or after . ? ! and a space that are not
    an initial's or a title's full stop)."""
    start = plain.rfind("\n", 0, at) + 1
    best = start
    for m in re.finditer(r"[.?!][\"')\]]*\s+(?=[\"A-Z])", plain[start:at]):
        stop = start + m.start()  # the abbreviations are at most 4 letters: 8 characters before the stop decide
        if not _ABBREV_END.search(plain[max(start, stop - 8):stop]):
            best = start + m.end()
    return best


def _is_title(inner: str) -> bool:
    """A quoted title or term rather than words said: one or two words, or most words capitalised."""
    words = re.findall(r"[A-Za-z][\w'\-]*", inner)
    if len(words) < 3:
        return True
    return sum(w[0].isupper() for w in words) / len(words) > 0.6


# 'Said Flyers forward and former Predators Scott Hartnell: "…"': a sentence opening on its speech verb names the
# speaker last, right before the colon (the words between describe them).
_INVERTED_HEAD = re.compile(
    rf"^\s*(?P<verb>[A-Z][a-z]+)\s+(?P<desc>(?:[\w'\-.]+,?\s+){{0,12}}?)(?P<name>{_TOKEN}(?:\s+{_TOKEN})+)\s*:\s*$")


def _inverted_head(window: str, offset: int) -> tuple | None:
    m = _INVERTED_HEAD.match(window)
    if not m or not is_cue_word(m.group("verb")):
        return None
    tokens = m.group("name").split()
    name, extra = " ".join(tokens[-2:]), " ".join(tokens[:-2])  # "Predators Scott Hartnell": the person is last
    desc = " ".join(x for x in (m.group("desc").strip(" ,"), extra) if x)
    return name, "", desc, offset + m.start(), offset + m.end()


def _subject_cue(plain: str, qs: int, inner: str, known: set[str]) -> tuple | None:
    """A quotation inside a sentence about someone: 'Lee pointed to a joke that "…"', 'Police Chief Jason Fry
    adjusted that statement: "…"', 'She said society calls her selfish, "…"' -> the sentence's subject."""
    if qs < 0 or plain[qs] != '"' or _is_title(inner):
        return None
    ss = _sentence_start(plain, qs)
    window = plain[ss:qs]
    if not window.strip() or _NAMING.search(window):
        return None
    return _inverted_head(window, ss) or _subject_of(window, ss, known)


def _subject_of(sentence: str, offset: int, known: set[str]) -> tuple | None:
    m = _SUBJECT.match(sentence)
    if not m:
        return None
    name = m.group("name")
    if name.endswith("'s"):
        return None  # "Donald Trump's campaign said": someone of Trump's
    if name.lower() not in _PRONOUNS:
        role, person = _split_role(_strip_lead(name))
        tokens = (person or "").split()
        while tokens and tokens[0] in NOT_SPEAKERS:  # "Police Chief Jason Fry"
            tokens = tokens[1:]
        nxt = sentence[m.end("name"):]
        # 'White House press secretary Jen Psaki pushed …': the words between are a role, the name comes after
        r = re.match(rf"\s+(?:[a-z][\w\-]*\s+){{0,2}}?(?:{_ROLES})(?:\s+and)?\s+(?={_TOKEN})", nxt)
        if r:
            return _subject_of(sentence[m.end("name") + r.end():], offset + m.end("name") + r.end(), known)
        if not tokens or (len(tokens) < 2 and tokens[-1] not in known):
            return None  # "Coastal cities have …": one capitalised word the text never gives as a person's name
    elif name.lower() not in ("he", "she"):
        return None
    return _cue(m, offset)


def _paragraph_cue(plain: str, qs: int, known: set[str]) -> tuple | None:
    """A quotation that opens its paragraph, introduced by the end of the paragraph before ('Kardashian also
    tweeted after the removal,' / 'She did not stop there:')."""
    if qs < 0 or plain[qs] != '"' or plain[plain.rfind("\n", 0, qs) + 1:qs].strip():
        return None
    end = len(plain[:qs].rstrip())
    if end <= 0 or plain[end - 1] not in ":,":
        return None
    ss = _sentence_start(plain, end - 1)
    window = plain[ss:end]
    if _NAMING.search(window[:-1]):
        return None
    m = _ACCORDING.search(window) or _BEFORE.search(window)
    if m and _name_ok(m):
        return _cue(m, ss)
    if plain[end - 1] == ":":
        return _subject_of(window, ss, known)
    return None


def _previous_sentence_cue(plain: str, qs: int, qe: int, inner: str, known: set[str]) -> tuple | None:
    """A quotation with no cue of its own that starts a sentence: the person the sentence before speaks of, when
    it tells what they said or stressed ('Lee highlighted the pressures on women. "Marriage …"'; 'Professor Cho
    agreed, saying there is an expectation …' and a paragraph that is only the quotation)."""
    if qs <= 0 or plain[qs] != '"' or _is_title(inner) or len(inner.split()) < 5:
        return None
    before = plain[:qs].rstrip()
    if not before or before[-1] not in ".!?":
        return None
    if "\n" in plain[len(before):qs] and not _whole_paragraph(plain, qs, qe):
        return None  # a new paragraph that goes on after the quotation has its own subject
    ss = _sentence_start(plain, len(before) - 1)
    sentence = plain[ss:len(before)]
    if '"' in sentence:
        return None  # that sentence quotes someone itself: its quotation's cue is the one to follow
    m = _subject_of(sentence, ss, known)
    if m is None:
        return None
    if "\n" in plain[len(before):qs]:  # across a paragraph: only after a sentence that reports speech
        if not re.search(rf"\b(?:{_CUE}|saying|adding|noting|explaining|arguing|telling)\b", sentence):
            return None
    return m


def _reported(plain: str, ss: int, se: int) -> tuple | None:
    sentence = plain[ss:se]
    kind = "statement" if _STATEMENT.search(sentence) else "reported"
    m = _ACCORDING.search(sentence)
    if m and _name_ok(m):
        before, after = sentence[:m.start()].rstrip(" ,"), sentence[m.end():].lstrip(" ,")
        s, e = (ss + m.end() + (len(sentence[m.end():]) - len(after)), se) if len(after) > len(before) else (ss, ss + len(before))
        return (s, e), _cue(m, ss), kind
    m = _REPORTED_TAIL_INV.search(sentence)  # '"Yeah, right," said Castellanos': the name after the verb
    if m and _name_ok(m) and m.start() > 5:
        return (ss, ss + m.start()), _cue(m, ss), kind
    m = _REPORTED_HEAD.match(sentence)
    if m and _name_ok(m) and se - (ss + m.end()) > 10:
        kind = "post" if m.group("verb").lower() in _POST_VERBS else kind
        return (ss + m.end(), se), _cue(m, ss), kind
    m = _REPORTED_TAIL.search(sentence)
    if m and _name_ok(m) and m.start() > 10:
        kind = "post" if m.group("verb").lower() in _POST_VERBS else kind
        return (ss, ss + m.start()), _cue(m, ss), kind
    return None


def _name_ok(m: re.Match) -> bool:
    name = m.groupdict().get("name")
    if name is None:
        return True
    if name.lower() in _PRONOUNS:
        return True
    tokens = _strip_lead(name).split()
    if tokens and tokens[-1].endswith("'s"):
        return False  # "Donald Trump's campaign said": someone of Trump's, not Trump
    return bool(tokens) and tokens[0] not in NOT_SPEAKERS and not tokens[0][0].isdigit()


def _strip_lead(name: str) -> str:
    """'The Kansas State Fair' -> 'Kansas State Fair', 'Said McClain' -> 'McClain': a capitalised article, adverb
    or speech verb is not the name."""
    tokens = name.split()
    while len(tokens) > 1 and (tokens[0].rstrip(".") in NOT_NAMES or is_cue_word(tokens[0])):
        tokens = tokens[1:]
    return " ".join(tokens)


def _cue(m: re.Match, offset: int) -> tuple:
    g = m.groupdict()
    return (g.get("name"), (g.get("pre") or "").strip(), (g.get("desc") or "").strip(), offset + m.start(),
            offset + m.end())


def _resolve(cue: tuple, people: list[tuple[int, str, bool]], plain: str = "") -> tuple:
    """(speaker, description, cue_start, cue_end, via_pronoun) from a matched cue."""
    name, pre, desc, cs, ce = cue
    if name and name.lower() in ("he", "she"):
        person = _antecedent(people, cs, plain)
        return person, None, cs, ce, person is not None
    if name and name.lower() in ("they", "it", "we", "i"):
        return None, name.lower(), cs, ce, False
    if not name:
        return None, desc or None, cs, ce, False
    role, person = _split_role(_strip_lead(name))
    description = " ".join(x for x in (pre if _is_role_phrase(pre) else "", role, desc) if x) or None
    return person, description, cs, ce, False


def _antecedent(people: list[tuple[int, str, bool]], cs: int, plain: str) -> str | None:
    """Whom "he" / "she" at offset cs means. In the cue's own paragraph: the last speaker or sentence subject named
    before it, else the last person named there; before that paragraph: the last speaker or subject of the three
    paragraphs before, else the last person named anywhere before. Names inside quotation marks are not
    candidates (a pronoun after '"A portrait of James Baldwin," he said' is not Baldwin)."""
    before = [(at, n, lead) for at, n, lead in people if at < cs]
    if not before:
        return None
    if not plain:
        return before[-1][1]
    para = plain.rfind("\n", 0, cs) + 1
    here = [(at, n, lead) for at, n, lead in before if at >= para]
    for pool in ([x for x in here if x[2]], here):
        if pool:
            return pool[-1][1]
    starts = [m.start() for m in re.finditer(r"[^\n]*\S[^\n]*", plain[:para])]  # the paragraphs before
    reach = starts[-3] if len(starts) >= 3 else 0
    near = [x for x in before if x[0] >= reach and x[2]]
    return (near or before)[-1][1]


def _split_role(name: str) -> tuple[str, str | None]:
    """'RNC Chairwoman Ronna McDaniel' -> ('RNC Chairwoman', 'Ronna McDaniel')."""
    tokens = name.split()
    # the last word is the surname even when it is also a role word ("Gov. Jim Justice", "Dr. Amy King")
    last_role = max((i for i, t in enumerate(tokens[:-1]) if t.lower().rstrip(".") in ROLE_WORDS), default=-1)
    if last_role < 0:
        return "", name.rstrip(".")
    rest = " ".join(tokens[last_role + 1:]).rstrip(".")
    return " ".join(tokens[:last_role + 1]), rest or None


def _is_role_phrase(pre: str) -> bool:
    return any(w.lower().strip(".,") in ROLE_WORDS for w in pre.split())


def _people(plain: str, spans: list[tuple[int, int, int]] = ()) -> list[tuple[int, str, bool]]:
    """People the text names outside quotation marks, in order (offset, name, lead): runs of two or more
    capitalised words, and a surname alone once the full name has been given; `lead` when the name is the
    subject of its sentence ("Beckett wrote …", "Assistant Public Defender Meryem Dede represents …")."""
    quoted = [(qs, qe) for qs, qe, _ in spans]
    inside_quote = lambda at: any(qs <= at < qe for qs, qe in quoted)  # noqa: E731
    out: list[tuple[int, str, bool]] = []
    full: dict[str, str] = {}
    runs: set[int] = set()
    for m in _PERSON.finditer(plain):
        runs.update(range(m.start(), m.end()))
        role, person = _split_role(m.group(0))
        tokens = (person or "").split()
        while tokens and (tokens[0] in NOT_SPEAKERS or is_cue_word(tokens[0])):
            tokens = tokens[1:]  # '"…!" Said McClain.': the verb is not a first name
        if len(tokens) >= 2 and "\n" not in m.group(0):
            name = " ".join(tokens)
            full[tokens[-1]] = name
            if not inside_quote(m.start()):
                out.append((m.start(), name, _leads(plain, m.start(), m.end())))
    for m in re.finditer(rf"\b{_TOKEN}", plain):
        word = m.group(0).rstrip(".")
        if word in full and m.start() not in runs and not inside_quote(m.start()):
            out.append((m.start(), full[word], _leads(plain, m.start(), m.start() + len(word))))
    out.sort()
    return out


_LEAD_BEFORE = re.compile(rf"{_OPENING}(?:{_TITLE_WORD})*$")
_LEAD_AFTER = re.compile(rf"^(?:(?:,\s*[^,\"]{{2,90}}){{1,3}},)?\s+{_ADV}[a-z]")


def _leads(plain: str, start: int, end: int) -> bool:
    """Is the name at plain[start:end] its sentence's subject (only an opening phrase and role words before it,
    a lower-case word, its verb, after it, not a possessive)?"""
    ss = _sentence_start(plain, start)
    return bool(_LEAD_BEFORE.match(plain[ss:start]) and _LEAD_AFTER.match(plain[end:end + 120]))
