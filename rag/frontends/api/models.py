"""The shapes the JSON API and the MCP tools take and give, as pydantic models: they make the OpenAPI description
(`/api/openapi.json`) and the MCP tools' input and output schemas. Output models allow fields they do not name,
so whatever `Answer.to_dict()` gains reaches callers without a change here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Turn", "AskRequest", "AnswerOut", "SearchOut", "QuotesOut", "CoverageOut", "ArticlesOut", "ArticleOut",
           "ArticleIn", "IngestRequest", "JobOut", "ErrorOut", "DAY"]

DAY = r"^\d{4}-\d{2}-\d{2}$"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question about the ingested news.",
                          examples=["What did Kardashian say about Balenciaga?"])
    history: list[Turn] | None = Field(None, description="Earlier turns, oldest first, for a follow-up question.")
    sources: list[str] | None = Field(None, description="Only these outlets.")
    since: str | None = Field(None, description="Only coverage published on or after this day (YYYY-MM-DD).")
    until: str | None = Field(None, description="Only coverage published on or before this day (YYYY-MM-DD).")
    as_of: str | None = Field(None, description="Answer as of this day (YYYY-MM-DD): date words count back from "
                                                "it, later coverage is left out.")


class CitationOut(_Open):
    n: int = Field(description="The [n] marker in the answer text.")
    article_id: str
    passage_id: str = ""
    title: str = ""
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    passage: str = ""
    quote: str = Field("", description="The exact words of the passage that support the sentence.")
    start: int = Field(0, description="Offset of the quote in the article's text.")
    end: int = 0


class DroppedOut(_Open):
    sentence: Any = Field(None, description="The sentence the check removed.")
    rule: Any = Field(None, description="Which check removed it.")
    detail: Any = Field(None, description="The word, number, name or quote it turned on.")
    passage: Any = Field(None, description="The [n] it cited, if any.")


class PassageOut(_Open):
    id: str
    article_id: str
    index: int = 0
    start: int = 0
    end: int = 0
    text: str = ""
    title: str = ""
    source: str | None = None
    published_at: str | None = None
    url: str | None = None
    author: str | None = None


class HitOut(_Open):
    passage: PassageOut
    score: float = Field(description="The fused score that ranked it.")
    dense: float | None = Field(None, description="Cosine similarity to the query.")
    keyword: float | None = Field(None, description="BM25 score.")
    rank: int = 0
    speaker: bool = False


class AnswerOut(_Open):
    """The checked answer: every [n] in `text` was checked against passage n; `dropped` says what the check
    removed and why; `refused` is true when the coverage does not answer the question."""

    question: str = ""
    standalone_question: str = ""
    text: str
    refused: bool = False
    answerer: str = ""
    claims_checked: int = 0
    claims_dropped: int = 0
    dropped: list[DroppedOut] = []
    notices: list[str] = []
    citations: list[CitationOut] = []
    passages: list[HitOut] = []
    timings: dict[str, float] = {}


class SearchOut(_Open):
    query: str
    passages: list[HitOut]


class QuoteOut(_Open):
    speaker: str | None
    description: str | None = None
    kind: str = Field("direct", description="direct (in quote marks), reported, statement or post.")
    text: str = Field(description="The words, exactly as the article has them.")
    article_id: str
    start: int
    end: int
    title: str = ""
    source: str | None = None
    published_at: str | None = None
    url: str | None = None


class QuotesOut(_Open):
    speaker: str | None = None
    topic: str | None = None
    total: int = Field(description="How many quotes match (more than listed when over the limit).")
    quotes: list[QuoteOut]


class DayCount(BaseModel):
    day: str
    outlet: str
    articles: int


class CoverageOut(_Open):
    articles: int
    undated: int = Field(description="Articles without a date (not in `days`).")
    outlets: dict[str, int]
    days: list[DayCount]


class ArticleRowOut(_Open):
    id: str
    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""
    file: str = ""


class ArticlesOut(_Open):
    total: int
    offset: int
    articles: list[ArticleRowOut]


class ArticleOut(_Open):
    id: str
    title: str = ""
    text: str = ""
    url: str | None = None
    source: str | None = None
    published_at: str | None = None
    author: str | None = None
    passages: int = 0
    duplicates: list[str] = []


class ArticleIn(BaseModel):
    text: str = Field(description="The article's text.")
    title: str | None = None
    url: str | None = None
    source: str | None = Field(None, description="The outlet.")
    published_at: str | None = Field(None, description="YYYY-MM-DD (or an ISO date-time).")
    author: str | None = None


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urls: list[str] = Field([], description="Article or feed URLs (http or https; public addresses only).")
    articles: list[ArticleIn] = Field([], description="Article texts with their metadata.")


class JobOut(_Open):
    id: int
    state: Literal["waiting", "running", "done", "failed", "stopped"]
    inputs_read: int = 0
    report: dict[str, Any] | None = Field(None, description="Once done: counts, and the items added, updated, "
                                                           "set aside as duplicates and failed (with reasons).")
    error: str | None = None


class ErrorOut(BaseModel):
    error: str = Field(description="What went wrong and what to do about it.")
