"""The records that flow through newsrag: raw article -> Article -> Passage -> Hit -> Citation -> Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["RawArticle", "LoadFailure", "Article", "Passage", "Quote", "Hit", "Citation", "Answer"]


@dataclass
class RawArticle:
    """What a loader read, before cleaning: the body may still hold captions, teasers and tails."""

    body: str
    origin: str  # the file path or URL it was read from (for reports)
    title: str | None = None
    url: str | None = None
    source: str | None = None  # the outlet (site name)
    published_at: str | None = None  # ISO 8601 date or datetime, or None
    author: str | None = None
    record_id: str | None = None  # an id the input carried (a JSONL record's "id")
    updated_at: str | None = None  # ISO 8601, when the input gives an updated/modified date
    date_source: str | None = None  # where published_at came from: "record" | "metadata" | "feed"
    fetched_at: str | None = None  # ISO 8601 time the page was fetched ("2 days ago" counts back from it)


@dataclass(frozen=True)
class LoadFailure:
    """One input that could not be read, with a one-line reason that says what to do."""

    origin: str
    reason: str


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str  # the cleaned text; passage offsets point into it
    source: str | None
    url: str | None
    published_at: str | None  # ISO date (YYYY-MM-DD) or None
    author: str | None
    credited_source: str | None  # the outlet the article credits ("Source: TMZ")
    ingested_at: str
    content_hash: str
    origin: str = ""
    updated_at: str | None = None  # ISO date of the last update, when the page gives one
    # which evidence gave published_at: "record" (the input's own field), "metadata" (the page's HTML
    # metadata), "feed", "url" (the URL path), "text" (a dateline) or "relative" ("2 days ago"); None: undated
    date_source: str | None = None


@dataclass(frozen=True)
class Passage:
    id: str  # "{article_id}:{index}"
    article_id: str
    index: int
    start: int  # character offsets in Article.text
    end: int
    text: str  # == article.text[start:end]
    title: str
    source: str | None
    published_at: str | None
    url: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Quote:
    """One span of an article that the text credits to a speaker: who is credited with which words.

    The single representation shared by the quote index (who-said-what answers) and the claim check's
    attribution rule. Offsets point into Article.text, like a Passage's."""

    article_id: str
    start: int  # offsets of the credited words in Article.text (inside the quote marks for a direct quote)
    end: int
    text: str  # == article.text[start:end]
    speaker: str | None  # the name as the text gives it ("Kim Kardashian"); None when the text names nobody
    description: str | None = None  # a title or role the text gives ("the transport minister")
    kind: str = "direct"  # "direct" (in quote marks) | "reported" (said that ...) | "statement" | "post"
    cue_start: int = -1  # offsets of the attribution cue ("she said", "according to X") in Article.text
    cue_end: int = -1
    via_pronoun: bool = False  # the cue named a pronoun ("she added"), resolved to the person last named

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Hit:
    """A retrieved passage with the scores that ranked it."""

    passage: Passage
    score: float  # the fused score used for ranking
    dense: float | None = None  # cosine similarity to the question, when dense retrieval saw it
    keyword: float | None = None  # BM25 score, when keyword retrieval saw it
    rank: int = 0
    speaker: bool = False  # the passage quotes or credits the person the question asks about

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d


@dataclass
class Citation:
    n: int
    article_id: str
    passage_id: str
    title: str
    source: str | None
    url: str | None
    published_at: str | None
    passage: str
    quote: str  # the exact span of the passage (and so of the article text) that supports the claim
    start: int  # offsets of the quote in the article text
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    text: str  # with [n] markers
    citations: list[Citation] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)
    refused: bool = False
    question: str = ""
    standalone_question: str = ""  # the follow-up rewritten on its own
    answerer: str = ""  # which answerer wrote it ("extractive", "openai:gpt-4o-mini", ...)
    claims_checked: int = 0
    claims_dropped: int = 0
    # Why each removed sentence went, one shape for all: {"sentence", "verdict" ("contradicted", "unconfirmed"
    # in strict mode, or "screened"), "rule" (rag.check.claims.RULES, "marker", "uncited", "screen", "dated" or "llm"),
    # "detail" (the word, number, name or quote; for "screen": link, instruction or fragment), "passage" (the
    # passage number, hits index + 1, or None)}
    dropped: list[dict] = field(default_factory=list)
    # Every sentence the answerer wrote, in order, with its verdict: {"sentence", "verdict" ("supported",
    # "contradicted", "unconfirmed", "screened"), "rule", "detail", "passage", "kept", "by" ("rules" or "llm"),
    # "citations" ([n] it carries)}. An unconfirmed sentence that was kept is marked in `text` and carries no [n].
    verdicts: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # e.g. "no LLM configured; using extractive answers"
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def unconfirmed(self) -> list[str]:
        """The sentences kept in the text, marked, that no passage states (see `verdicts`)."""
        return [v["sentence"] for v in self.verdicts if v["verdict"] == "unconfirmed" and v.get("kept")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "text": self.text,
            "refused": self.refused,
            "answerer": self.answerer,
            "claims_checked": self.claims_checked,
            "claims_dropped": self.claims_dropped,
            "dropped": [dict(d) for d in self.dropped],
            "verdicts": [dict(v) for v in self.verdicts],
            "notices": list(self.notices),
            "citations": [c.to_dict() for c in self.citations],
            "passages": [h.to_dict() for h in self.passages],
            "timings": dict(self.timings),
        }
