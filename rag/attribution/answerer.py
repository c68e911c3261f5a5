"""Who said what, answered from the quote index rather than from the best-matching passages.

- "What did X say (about Y)?" lists X's quotes (on Y first), newest first, each with date and outlet, cited;
- "Who said "…"?" finds the quote, also when quoted loosely, and names the speaker the index credits;
- "How did X respond to Y?" and "Did X comment on Y?" give X's words on Y, or say that none were found and show
  what X did say.

A speaker is named only when the index credits the quote to them. The answer's passages are the passages that
hold the quotes, so the citation check verifies every quoted word like any other answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Sequence

from rag.attribution.quote_index import IndexedQuote
from rag.attribution.quotes import ROLE_WORDS, credited, find_quotes
from rag.attribution.speakers import asked_speaker
from rag.core.schema import Hit, Passage
from rag.nlp.lexical import STOP, content_words, coverage
from rag.nlp.lexicon import alternatives
from rag.nlp.text import name_key, normalize, same_person

__all__ = ["QuoteAnswerer", "QuoteAsk", "QuoteDraft", "parse_quote_question", "quote_followup"]

_SAY = (r"say|said|tweet|tweeted|post|posted|write|wrote|tell|told|claim|claimed|announce|announced|state|stated|"
        r"comment|commented|respond|responded|react|reacted|reply|replied|think|argue|argued|add|added")
_WHO_SAID = re.compile(rf"^\s*who\s+(?:has\s+|had\s+|first\s+)?(?:{_SAY}|called|described)\b[\s,:]*(?P<rest>.+?)\s*\??\s*$",
                       re.I | re.S)
_ROLE_ASK = re.compile(rf"\b(?:what|how)\s+(?:did|does|has|have)\s+(?:the|a|an)\s+(?P<desc>[a-z][a-z\- ]{{2,60}}?)\s+"
                       rf"(?:{_SAY})\b", re.I)
_ABOUT = re.compile(rf"\b(?:{_SAY}|response|statement|reaction|comments?|remarks?)\b\s+(?:\w+\s+)?"
                    r"(?:about|on|to|regarding|over|of|after)\s+(?P<about>.+?)\s*\??\s*$", re.I)
# "What did the economist say caused the rise?": what follows the speech verb directly is what was said about
# (the clause opens with a verb: "caused", "was to blame", "would happen next"; not "during the debate")
_SAID_CLAUSE = re.compile(rf"\b(?:{_SAY})\s+(?P<clause>(?:[a-z]+ed|was|were|is|are|will|would|should|could|can|might|may|"
                          r"must|had|has|have|led|drove|drives|made|makes|took|brought|caused|causes|happens|"
                          r"means|meant)\b[\w' \-]{2,80}?)\s*\??\s*$", re.I)
_QUOTED = re.compile(r"[\"“”‘’']([^\"“”]{6,}?)[\"“”’']\s*[?.!]?\s*$|[\"“]([^\"“”]{6,})[\"”]")
_MAX_WORDS = 60


@dataclass
class QuoteDraft:
    """A who-said-what answer before the check: `body` holds the quotes with their [n] (claims to check); `lead`
    and `trail` are the product's own words about the index ("I could not find anything X said about Y in the
    coverage.", "The coverage I have holds 3 more quotes from X."), added around the checked body as they are."""
    body: str
    hits: list[Hit]
    lead: str = ""
    trail: str = ""


@dataclass
class QuoteAsk:
    kind: str  # "who_said" | "what_said" | "did_comment" | "respond"
    speaker: str | None = None
    description: list[str] = field(default_factory=list)  # role words, for "the transport minister"
    about: str = ""
    fragment: str = ""
    said: str = ""  # what the question says was said ("caused the rise"): matched like `about`


def parse_quote_question(question: str) -> QuoteAsk | None:
    """What a who-said-what question asks, or None for any other question."""
    m = _WHO_SAID.match(question)
    if m:
        rest = m.group("rest")
        q = _QUOTED.search(rest)
        fragment = (q.group(1) or q.group(2)) if q else rest
        if len(fragment.split()) >= 3:
            return QuoteAsk("who_said", fragment=fragment.strip(" ,.?\"'“”"))
        return None
    speaker = asked_speaker(question)
    description: list[str] = []
    if not speaker:
        r = _ROLE_ASK.search(question)
        if not r:
            return None
        description = [w for w in r.group("desc").lower().split() if w not in STOP]
        if not description:
            return None
    low = question.lower().lstrip()
    kind = ("did_comment" if re.match(r"(did|has|does|have)\b", low)
            else "respond" if re.match(r"how\b", low) else "what_said")
    a = _ABOUT.search(question)
    c = None if a else _SAID_CLAUSE.search(question)
    return QuoteAsk(kind, speaker=speaker, description=description, about=a.group("about") if a else "",
                    said=c.group("clause") if c else "")


_FOLLOW_UP = re.compile(r"^\s*(?:and|but|also|so|what about|how about|and what about|and how about|same for)?\s*,?\s*"
                        r"(?P<x>[^?.!]{2,60}?)\s*[?.!]*\s*$", re.I)
_PERSON_LEAD = re.compile(r"^(?:the|a|an|her|his|their|its)\s+", re.I)


def quote_followup(question: str, previous: str) -> str | None:
    """A short follow-up to a who-said-what question, asked in full: after "What did the coach of the robotics team
    say?", "and the principal?" is "What did the principal say?"; after "What did Kardashian say about
    Balenciaga?", "what about her kids?" is "What did Kardashian say about her kids?". None when the follow-up is
    not of that kind (then the answerer's own rewrite applies)."""
    before = parse_quote_question(previous)
    if before is None or before.kind == "who_said" or parse_quote_question(question) is not None:
        return None
    m = _FOLLOW_UP.match(question)
    if not m or len(m.group("x").split()) > 5:
        return None
    x = m.group("x").strip(" ,")
    if re.match(r"(?:who|what|when|where|why|how|which|is|are|was|were|did|does|do|can|will)\b", x, re.I):
        return None  # a question of its own kind ("and when was that?")
    bare = _PERSON_LEAD.sub("", x)
    if not content_words(bare):
        return None  # "and ???", "and the": nothing asked about
    words = bare.split()
    person = bool(words) and (words[-1].lower() in ROLE_WORDS or all(w[:1].isupper() for w in words))
    if person:
        about = f" about {before.about.rstrip('?. ')}" if before.about else ""
        return f"What did {x} say{about}?"
    speaker = before.speaker or ("the " + " ".join(before.description) if before.description else "")
    return f"What did {speaker} say about {x}?" if speaker else None


def _in_filters(q: IndexedQuote, sources: Sequence[str] | None, since: date | None, until: date | None,
                as_of: date | None = None) -> bool:
    if sources and q.source not in sources:
        return False
    day = (q.published_at or "")[:10]
    if as_of and day and day > as_of.isoformat():  # published after the reader's day: not yet written
        return False
    if since and (not day or day < since.isoformat()):
        return False
    if until and (not day or day > until.isoformat()):
        return False
    return True


def _clip(text: str) -> str:
    """The quote's words, verbatim, cut at a word boundary when long (the cut is marked outside the quote)."""
    text = " ".join(text.split()).strip(" ,;:")
    words = text.split()
    if len(words) <= _MAX_WORDS:
        return text
    return " ".join(words[:_MAX_WORDS])


class QuoteAnswerer:
    """Answers who-said-what questions from the catalog's quote index."""

    name = "quotes"

    def __init__(self, catalog, max_quotes: int = 5) -> None:
        self.catalog = catalog
        self.max_quotes = max_quotes

    def answer(self, question: str, *, sources: Sequence[str] | None = None, since: date | None = None,
               until: date | None = None, as_of: date | None = None) -> QuoteDraft | None:
        """The quotes that answer, with the passages they cite, or None when the index has nothing for the
        question."""
        ask = parse_quote_question(question)
        if ask is None:
            return None
        keep = lambda qs: [q for q in qs if _in_filters(q, sources, since, until, as_of)]  # noqa: E731
        if ask.kind == "who_said":
            return self._who_said(ask, keep(self._by_text(ask.fragment)))
        quotes = keep(self.catalog.quotes_by_speaker(ask.speaker) if ask.speaker
                      else self._by_description(ask.description))
        quotes = [q for q in quotes if q.quote.speaker]
        if not quotes:
            return None
        return self._what_said(ask, quotes)

    def find(self, *, speaker: str | None = None, topic: str | None = None, sources: Sequence[str] | None = None,
             since: date | None = None, until: date | None = None, as_of: date | None = None) -> list[IndexedQuote]:
        """Credited quotes, newest first: the speaker's (any form of their name), on the topic (its words in the
        quote, its cue or the headline) when one is given; without a speaker, quotes whose words hold the topic's."""
        def keep(quotes: list[IndexedQuote]) -> list[IndexedQuote]:
            return [q for q in quotes if q.quote.speaker and _in_filters(q, sources, since, until, as_of)]

        if speaker:
            found = keep(self.catalog.quotes_by_speaker(speaker))
        else:
            tokens = [t for t in re.findall(r"[\w']+", normalize(topic or "")) if t not in STOP]
            found = keep(self.catalog.find_quote_text(sorted(set(tokens), key=len, reverse=True)[:2])) if tokens else []
        words = set(content_words(topic or ""))
        if words:
            found = [q for q in found if coverage(words, set(content_words(self._context(q)))) >= 0.5]
        return found

    # -- lookups -------------------------------------------------------------------------------------------
    def _by_description(self, words: list[str]) -> list[IndexedQuote]:
        """Quotes of the person a role question names: a speaker described with every word ("the transport
        minister"), else one whose role word matches ("coach") where the other words ("of the robotics team")
        are in the speaker's description or in what the quote's article says around it."""
        found = self.catalog.quotes_by_description(words)
        roles = [w for w in words if w in ROLE_WORDS]
        rest = set(content_words(" ".join(w for w in words if w not in roles)))
        if found or not roles or not rest:
            return found
        return [q for q in self.catalog.quotes_by_description(roles)
                if coverage(rest, set(content_words(f"{q.quote.description or ''} {self._context(q)}"))) >= 0.5]

    def _by_text(self, fragment: str) -> list[IndexedQuote]:
        """Quotes holding the fragment, exactly or loosely (most of its words, in any order), best first."""
        frag = normalize(fragment).strip(" ,.?!")
        tokens = [t for t in re.findall(r"[\w']+", frag) if t not in STOP] or re.findall(r"[\w']+", frag)
        if not tokens:
            return []
        probe = sorted(set(tokens), key=len, reverse=True)[:2]
        scored = []
        for q in self.catalog.find_quote_text(probe):
            norm = normalize(q.quote.text)
            if frag in norm:
                scored.append((2.0, q))
                continue
            have = set(re.findall(r"[\w']+", norm))
            share = sum(t in have for t in tokens) / len(tokens)
            if share >= 0.7:
                scored.append((share, q))
        scored.sort(key=lambda x: -x[0])
        return [q for _, q in scored]

    def _hits(self, quotes: Sequence[IndexedQuote]) -> tuple[list[Hit], list[int]]:
        hits: list[Hit] = []
        numbers: list[int] = []
        where: dict[str, int] = {}
        for q in quotes:
            p: Passage | None = self.catalog.passage_at(q.quote.article_id, q.quote.start, q.quote.end)
            if p is None:
                numbers.append(0)
                continue
            if p.id not in where:
                hits.append(Hit(p, 1.0 / (1 + len(hits)), speaker=True, rank=len(hits) + 1))
                where[p.id] = len(hits)
            numbers.append(where[p.id])
        return hits, numbers

    # -- answers -------------------------------------------------------------------------------------------
    def _who_said(self, ask: QuoteAsk, found: list[IndexedQuote]) -> QuoteDraft | None:
        if not found:
            return None
        best = found[0]
        hits, (n,) = self._hits([best])
        if not n:
            return None
        q = best.quote
        if not q.speaker:
            return QuoteDraft(f"The coverage has these words but does not say who said them: \"{_clip(q.text)}\" [{n}]",
                              hits)
        passage = hits[n - 1].passage.text
        return QuoteDraft(f"{_as_cited(q.speaker, passage)} said it{_render(q.text, q.kind, passage)} [{n}]", hits)

    def _what_said(self, ask: QuoteAsk, quotes: list[IndexedQuote]) -> QuoteDraft:
        asked_about = ask.about or ask.said
        topic = set(content_words(asked_about)) if asked_about else set()
        on_topic = [q for q in quotes if topic and _covers(topic, set(content_words(self._context(q)))) >= 0.5]
        name = ask.speaker or quotes[0].quote.speaker or ""
        lead = ""
        if topic and not on_topic:
            lead = (f"I could not find anything {name} said about {ask.about.rstrip('?. ')} in the coverage."
                    if ask.about else f"I could not find what {name} said {ask.said.rstrip('?. ')} in the coverage.")
            chosen = quotes
        else:
            chosen = on_topic if topic else quotes
        # Newest first; on one day (or undated), the person's own words (direct quotes) before reported ones,
        # whole sentences credited by name before fragments and pronoun cues, and quotes credited under the
        # full name asked for before those credited to the surname alone.
        asked = name_key(name)
        # With a topic, the quotes whose own words say it most (in its words before other words for them) first.
        chosen = sorted(chosen, key=lambda q: (-_topic_score(topic, q.quote.text), _day_rank(q.published_at),
                                               q.quote.kind != "direct",
                                               _fragment(q.quote.text) or q.quote.via_pronoun,
                                               name_key(q.quote.speaker or "") != asked))
        seen: set[str] = set()
        unique = []
        for q in chosen:
            key = normalize(q.quote.text)[:80]
            # a reported statement under 8 words is more often a misread cue than words someone said
            if key not in seen and len(q.quote.text.split()) >= (3 if q.quote.kind == "direct" else 8):
                seen.add(key)
                unique.append(q)
        shown = self._pick(_by_turns(unique), self.max_quotes)
        hits, numbers = self._hits(shown)
        lines = []
        for q, n in zip(shown, numbers):
            if not n:
                continue
            # The date and outlet are the citation's (shown with it): the claim check reads only the passage.
            who = _as_cited(q.quote.speaker or "", hits[n - 1].passage.text)
            lines.append(f"{who} said{_render(q.quote.text, q.quote.kind, hits[n - 1].passage.text)} [{n}]")
        if ask.kind == "did_comment" and topic and on_topic and lines:
            lines[0] = "Yes: " + lines[0][0].lower() + lines[0][1:]
        more = len(unique) - len(shown)
        trail = f"The coverage I have holds {more} more quote{'s' if more > 1 else ''} from {name}." if more > 0 else ""
        return QuoteDraft(" ".join(lines), hits, lead=lead, trail=trail)

    def _pick(self, quotes: list[IndexedQuote], n: int) -> list[IndexedQuote]:
        """The first n quotes whose cited passage itself credits the speaker (the citation check reads only the
        passage: a quote credited from a cue outside it would be dropped), then the others, in order."""
        own, other = [], []
        for q in quotes[: n * 4]:
            p = self.catalog.passage_at(q.quote.article_id, q.quote.start, q.quote.end)
            if p is None:
                continue
            s, e = q.quote.start - p.start, q.quote.end - p.start
            named = [x for x in find_quotes(p.text) if x.speaker and not x.via_pronoun]
            (own if any(same_person(x, q.quote.speaker) for x in credited(named, s, e)) else other).append(q)
            if len(own) >= n:
                break
        rest = [q for q in quotes if q not in own and q not in other]
        return (own + other + rest)[:n]

    def _context(self, q: IndexedQuote) -> str:
        """What a quote is about: its words, its attribution cue ("…, she said of the plan") and the headline."""
        row = self.catalog.get(q.quote.article_id)
        cue = ""
        if row and q.quote.cue_start >= 0:
            cue = row.article.text[q.quote.cue_start:q.quote.cue_end + 80]
        return f"{q.title} {q.quote.text} {cue}"


def _as_cited(speaker: str, passage: str) -> str:
    """The speaker's name as the cited passage gives it: the index may know a fuller name from elsewhere in the
    article ("Jerry Clifton"), but the sentence is checked against the passage, which may say only "Clifton"."""
    words = speaker.split()
    for i in range(len(words)):
        tail = " ".join(words[i:])
        if re.search(rf"(?<!\w){re.escape(tail)}(?!\w)", passage):
            return tail
    return speaker


def _fragment(text: str) -> bool:
    """Part of a sentence ('"double its presence"'), not whole sentences of the speaker's."""
    words = text.split()
    return len(words) < 5 or not words[0][:1].isupper()


def _by_turns(quotes: list[IndexedQuote]) -> list[IndexedQuote]:
    """Each article's best quote before any article's second: a list of five shows five articles' words when
    there are five (articles in the order of their best quote)."""
    groups: dict[str, list[IndexedQuote]] = {}
    for q in quotes:
        groups.setdefault(q.quote.article_id, []).append(q)
    out: list[IndexedQuote] = []
    for turn in range(max((len(g) for g in groups.values()), default=0)):
        out.extend(g[turn] for g in groups.values() if turn < len(g))
    return out


def _day_rank(day: str | None) -> int:
    """Sorts newest first: minus the day number, undated last."""
    try:
        return -date.fromisoformat((day or "")[:10]).toordinal()
    except ValueError:
        return 0


def _where(q: IndexedQuote, capital: bool = False) -> str:
    day = (q.published_at or "")[:10]
    outlet = q.source or "an unnamed outlet"
    text = f"on {day} in {outlet}" if day else f"in {outlet} (undated)"
    return text[0].upper() + text[1:] if capital else text


def _covers(topic: set[str], words: set[str], alternative: float = 1.0) -> float:
    """The share of the topic's words the text says: each counts 1 said itself, `alternative` said in a word that
    may stand for it ("kids", "children")."""
    if not topic:
        return 0.0
    return sum(1.0 if t in words else alternative if alternatives(t) & words else 0.0 for t in topic) / len(topic)


def _topic_score(topic: set[str], text: str) -> float:
    """How much of the topic a quote's own words say, a word that stands for one counting half."""
    return _covers(topic, set(content_words(text)), alternative=0.5)


def _render(text: str, kind: str, context: str = "") -> str:
    """': "…".' for a direct quote, ' that ….' for a reported statement (its words as the article gives them, the
    first one in lower case unless it is a name: "said that work on the bridge …", "said that Reyes …")."""
    words = _clip(text)
    cut = len(text.split()) > _MAX_WORDS
    if kind == "direct":
        end = "" if re.search(r"[.!?]$", words) and not cut else "."
        return f": \"{words}\"" + (" (…)" if cut else "") + end
    return f" that {_reported_start(words.rstrip('.'), context)}" + (" (…)" if cut else "") + "."


def _reported_start(words: str, context: str) -> str:
    """A statement's first word after "said that", in lower case when it only had a capital for opening its
    sentence: not "I", an acronym, a name before another capitalised word, or a word the context capitalises
    mid-sentence (a name)."""
    m = re.match(r"([A-Z][a-z][\w'’\-]*)(\s+\S+)?", words)
    if not m:
        return words
    first, nxt = m.group(1), (m.group(2) or "").strip()
    if nxt[:1].isupper():
        return words
    for found in re.finditer(rf"\b{re.escape(first)}\b", context):
        before = context[:found.start()].rstrip(" \t\"“”‘’'(")
        if before and before[-1] not in ".!?:\n":
            return words  # capitalised inside a sentence: a name
    return first.lower() + words[len(first):]
