"""Slack mrkdwn for newsrag: answers with [n] links and a sources block, refusals, notices, and back again.

Slack messages are a `text` fallback (notifications, screen readers, old clients) plus Block Kit blocks.
Every piece of user or article text is escaped (&, <, >) so nothing in the coverage can ping a channel or
forge a link. The reverse direction (`clean_slack_text`, `bot_message_content`) turns thread messages back
into plain history turns for follow-up questions.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from rag.check.reasons import doubted_lines, removed_lines
from rag.core.links import safe_url
from rag.core.schema import Answer, Citation, Hit
from rag.nlp.text import clip as _clip

__all__ = [
    "SlackMessage",
    "SECTION_LIMIT",
    "MAX_BLOCKS",
    "REFUSAL",
    "escape",
    "unescape",
    "slack_link",
    "link_citations",
    "markdown_to_mrkdwn",
    "split_mrkdwn",
    "format_answer",
    "format_refusal",
    "format_notice",
    "is_notice",
    "clean_slack_text",
    "bot_message_content",
]

SlackMessage = dict[str, Any]  # {"text": str, "blocks": list[dict]} — ready for chat.postMessage or respond()

SECTION_LIMIT = 3000  # characters of mrkdwn per section block
MAX_BLOCKS = 50  # blocks per message
TEXT_LIMIT = 3900  # the fallback text; Slack truncates far later, but notifications need no more
QUOTE_CHARS = 300
TITLE_CHARS = 200
CLOSEST = 3  # passages shown with a refusal
SOURCES_MARKER = "\n\nSources:"
REFUSAL = "I couldn't find this in the coverage I have."

_BOLD_RE = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_HEADING_RE = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)
_MARKER_RE = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NOTICE_RE = re.compile(r"^:[a-z0-9_+\-]+: ")  # notices start with an emoji code; answers never do
_MENTION_RE = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_SPECIAL_RE = re.compile(r"<!([^|>]+)(?:\|([^>]*))?>")
_CHANNEL_RE = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_LINK_RE = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control sequences."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo `escape` (and Slack's own escaping of incoming text)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _safe_url(url: str | None) -> str | None:
    """An http(s) URL made safe to put inside <...|...>, or None."""
    url = safe_url(url)
    if url is None:
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def slack_link(url: str | None, label: str) -> str:
    """`<url|label>` when the URL is usable, else the (already escaped) label alone."""
    safe = _safe_url(url)
    return f"<{safe}|{label}>" if safe else label


def link_citations(escaped_text: str, citations: Sequence[Citation]) -> str:
    """Turn [n] (and [n, m]) markers in already-escaped text into <url|[n]> links; plain [n] without a URL."""
    urls = {c.n: c.url for c in citations}

    def one(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        return "".join(slack_link(urls.get(n), f"[{n}]") for n in numbers)

    return _MARKER_RE.sub(one, escaped_text)


def markdown_to_mrkdwn(text: str) -> str:
    """The bits of Markdown LLMs like to write, in Slack's dialect: **bold** -> *bold*, # Heading -> *Heading*."""
    return _HEADING_RE.sub(r"*\1*", _BOLD_RE.sub(r"*\1*", text))


def _safe_cut(text: str, cut: int) -> int:
    """Move `cut` back so it does not fall inside a <...> link or an &entity;."""
    opened = text.rfind("<", 0, cut)
    if opened > text.rfind(">", 0, cut):
        cut = opened
    amp = text.rfind("&", 0, cut)
    if amp != -1 and cut - amp < 6 and ";" not in text[amp:cut]:
        cut = amp
    return cut


def split_mrkdwn(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split mrkdwn into pieces of at most `limit` characters, at paragraph, line, sentence or word breaks."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            at = window.rfind(sep)
            if at > limit // 3:
                cut = at + (1 if sep == ". " else 0)
                break
        cut = _safe_cut(rest, cut if cut > 0 else limit)
        if cut <= 0:  # a single enormous link: cut it anyway rather than loop
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _byline(source: str | None, published_at: str | None) -> str:
    parts = [escape(_clip(source, 80)) if source else "", (published_at or "")[:10]]
    return ", ".join(p for p in parts if p)


def _source_entry(c: Citation) -> str:
    """`[n] *Title* — Outlet, 2022-11-28 — <url|link>` then the quote as an italic blockquote."""
    title = escape(_clip(c.title or "Untitled", TITLE_CHARS)).replace("*", "")
    line = f"[{c.n}] *{title}*"
    byline = _byline(c.source, c.published_at)
    if byline:
        line += f" — {byline}"
    if _safe_url(c.url):
        line += f" — {slack_link(c.url, 'link')}"
    quote = _clip(c.quote or "", QUOTE_CHARS).replace("_", " ").strip()
    return line + (f"\n>_{escape(quote)}_" if quote else "")


def _pack(entries: list[str], heading: str = "") -> list[str]:
    """Join entries into as few sections as fit, each at most SECTION_LIMIT characters."""
    sections: list[str] = []
    current = heading
    for entry in entries:
        for part in split_mrkdwn(entry):
            candidate = f"{current}\n{part}" if current else part
            if len(candidate) > SECTION_LIMIT and current:
                sections.append(current)
                candidate = part
            current = candidate
    if current:
        sections.append(current)
    return sections


def _cap(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return blocks[: MAX_BLOCKS - 1] + [_section("_…the rest did not fit in one Slack message._")]


def _notices(answer: Answer) -> list[dict[str, Any]]:
    notices = [*answer.notices, *(f"removed: {x}" for x in removed_lines(answer.dropped)),
               *(f"doubted: {x}" for x in doubted_lines(answer.verdicts))]
    if not notices:
        return []
    text = escape(_clip(" · ".join(notices), 1900))
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def _unique(citations: Sequence[Citation]) -> list[Citation]:
    seen: dict[int, Citation] = {}
    for c in citations:
        seen.setdefault(c.n, c)
    return [seen[n] for n in sorted(seen)]


def format_answer(answer: Answer) -> SlackMessage:
    """An Answer as a Slack message: linked [n] markers, a sources block, notices; refusals worded plainly."""
    if answer.refused:
        return format_refusal(answer)
    citations = _unique(answer.citations)
    body = link_citations(markdown_to_mrkdwn(escape(answer.text.strip())), citations) or escape(REFUSAL)
    blocks = [_section(piece) for piece in split_mrkdwn(body)]
    if citations:
        blocks.append({"type": "divider"})
        blocks.extend(_section(s) for s in _pack([_source_entry(c) for c in citations], "*Sources*"))
    blocks.extend(_notices(answer))
    fallback = escape(answer.text.strip())
    if citations:
        fallback += SOURCES_MARKER + "".join(
            f"\n[{c.n}] {escape(_clip(c.title or 'Untitled', TITLE_CHARS))}"
            + (f" — {_byline(c.source, c.published_at)}" if c.source or c.published_at else "")
            for c in citations
        )
    return {"text": _clip_text(fallback), "blocks": _cap(blocks)}


def format_refusal(answer: Answer) -> SlackMessage:
    """"I couldn't find this in the coverage I have. Closest passages: ..." with up to three passages."""
    hits: list[Hit] = list(answer.passages)[:CLOSEST]
    blocks = [_section(escape(REFUSAL) + (" Closest passages:" if hits else ""))]
    entries, names = [], []
    for hit in hits:
        p = hit.passage
        title = escape(_clip(p.title or "Untitled", TITLE_CHARS)).replace("*", "")
        line = f"• *{title}*"
        byline = _byline(p.source, p.published_at)
        line += f" — {byline}" if byline else ""
        line += f" — {slack_link(p.url, 'link')}" if _safe_url(p.url) else ""
        snippet = _clip(p.text, 200).replace("_", " ")
        entries.append(line + f"\n>_{escape(snippet)}_")
        names.append(escape(_clip(p.title or "Untitled", 80)) + (f" ({escape(p.source)})" if p.source else ""))
    blocks.extend(_section(s) for s in _pack(entries))
    blocks.extend(_notices(answer))
    fallback = escape(REFUSAL) + (" Closest passages: " + "; ".join(names) if names else "")
    return {"text": _clip_text(fallback), "blocks": _cap(blocks)}


def format_notice(text: str, emoji: str = "information_source") -> SlackMessage:
    """A one-line bot notice (help, rate limit, error) as a message; notices are left out of thread history."""
    mrkdwn = f":{emoji}: " + escape(_clip(text, SECTION_LIMIT - 40))
    return {"text": mrkdwn, "blocks": [_section(mrkdwn)]}


def is_notice(text: str) -> bool:
    """True for a message `format_notice` wrote."""
    return bool(_NOTICE_RE.match(text or ""))


def _clip_text(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else _safe_text_cut(text)


def _safe_text_cut(text: str) -> str:
    cut = _safe_cut(text, TEXT_LIMIT - 1)
    return text[:cut].rstrip() + "…"


def clean_slack_text(text: str) -> str:
    """Slack message text as plain text: mentions of users dropped, links to their labels, entities decoded."""
    text = _MENTION_RE.sub(" ", text or "")
    text = _SPECIAL_RE.sub(lambda m: "@" + (m.group(2) or m.group(1).split("^")[0]), text)
    text = _CHANNEL_RE.sub(lambda m: "#" + (m.group(1) or "channel"), text)
    text = _LINK_RE.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(unescape(text).split())


def bot_message_content(text: str) -> str:
    """What the bot said in an answer message, for history: the fallback text without its sources list."""
    return clean_slack_text((text or "").split(SOURCES_MARKER, 1)[0])
