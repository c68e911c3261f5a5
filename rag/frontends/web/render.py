"""HTML and Markdown for the web chat: answers with [n] links, the sources panel, status lines, ingest reports.

Pure functions of newsrag records (no gradio import), so they are cheap to test. Every piece of article or
user text is escaped before it reaches the page: HTML-escaped for HTML, and Markdown-escaped for the chatbot
(which renders Markdown). Braces and dollar signs are escaped too, because gr.HTML fills a JS template.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

from rag.check.citations import unconfirmed_mark
from rag.check.reasons import doubted_lines, removed_lines
from rag.core.links import safe_url
from rag.core.schema import Answer, Citation, Hit, Passage
from rag.nlp.text import clip as _clip

__all__ = [
    "esc",
    "md_escape",
    "answer_markdown",
    "sources_html",
    "answer_sources",
    "sources_panel",
    "cite_id",
    "empty_sources_html",
    "notice_markdown",
    "error_notice",
    "status_line",
    "report_html",
    "locate_quote",
    "closest_articles",
    "merged_text",
    "plain_history",
    "CONTEXT_CHARS",
    "CSS",
    "HEAD",
]

CONTEXT_CHARS = 200  # characters of passage shown on each side of a highlighted quote
CLOSEST = 3  # articles listed with a refusal (one card each)
CLOSEST_STRETCHES = 2  # separate stretches of one article's text shown on its card
CLOSEST_CHARS = 420  # characters of text on a closest-article card

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
_SPACE = re.compile(r"\s+")


def esc(text: Any) -> str:
    """HTML-escape text (quotes included), and neutralise template syntax (`${`, `{{`)."""
    out = html.escape("" if text is None else str(text), quote=True)
    return out.replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def md_escape(text: str) -> str:
    """Text shown literally by a Markdown renderer: HTML-escaped, Markdown punctuation backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("$", "&#36;")


def answer_markdown(answer: Answer, turn: int | None = None) -> str:
    """The answer for the chatbot: escaped text whose [n] markers link to their span in the sources panel
    (`#cite-T-n` for answer T of a chat, see `cite_id`)."""
    known = {c.n for c in answer.citations}
    text = _punctuation_first(answer.text, known)
    parts: list[str] = []
    last = 0
    for m in _MARKERS.finditer(text):
        numbers = [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
        linked = all(n in known for n in numbers)
        before = text[last:m.start()]
        parts.append(md_escape(before.rstrip() if linked else before))  # a linked marker is a superscript
        if linked:
            parts.append("".join(f"[\\[{n}\\]](#{cite_id(n, turn)})" for n in numbers))
        else:
            parts.append(md_escape(m.group(0)))
        last = m.end()
    parts.append(md_escape(text[last:]))
    mark = md_escape(unconfirmed_mark())  # a sentence no passage states: set apart, never linked
    return "".join(parts).strip().replace(mark, f"_{mark}_")


_MARKER_RUN = re.compile(r"[ \t]*((?:\[\d+(?:\s*,\s*\d+)*\][ \t]*)+?)[ \t]*([.,;:!?]+)")


def _punctuation_first(text: str, known: set[int]) -> str:
    """"the market [1]." -> "the market.[1]": the full stop goes before linked markers, which show as raised
    badges; left after one it reads as a stray " ." on its own."""
    def move(m: re.Match) -> str:
        numbers = [int(x) for x in re.findall(r"\d+", m.group(1))]
        if not all(n in known for n in numbers):
            return m.group(0)
        return m.group(2) + m.group(1).rstrip()

    return _MARKER_RUN.sub(move, text)


def locate_quote(citation: Citation, hits: Sequence[Hit] = ()) -> tuple[int, int] | None:
    """Offsets of the citation's quote inside its passage: by the article offsets when the passage is among the
    hits, else by searching the passage text (exactly, then ignoring whitespace differences)."""
    passage, quote = citation.passage, citation.quote
    if not quote:
        return None
    for h in hits:
        if h.passage.id == citation.passage_id:
            s = citation.start - h.passage.start
            if 0 <= s and passage[s:s + len(quote)] == quote:
                return s, s + len(quote)
            break
    s = passage.find(quote)
    if s >= 0:
        return s, s + len(quote)
    words = [re.escape(w) for w in quote.split()]
    if words:
        m = re.search(r"\s+".join(words), passage)
        if m:
            return m.start(), m.end()
    return None


def _meta(source: str | None, date: str | None, url: str | None) -> str:
    bits = [esc(source) if source else "unknown outlet", esc(date) if date else "undated"]
    line = " · ".join(bits)
    href = safe_url(url)
    if href:
        line += f' · <a href="{esc(href)}" target="_blank" rel="noopener noreferrer">open article ↗</a>'
    elif url:  # a javascript:, data: or otherwise odd URL is shown as text, never as a link
        line += f' · <span class="nr-dim" title="not an http(s) link">{esc(_clip(str(url), 80))}</span>'
    return line


def _title(title: str, url: str | None) -> str:
    title = (title or "").strip() or "(untitled)"
    href = safe_url(url)
    if href:
        return f'<a href="{esc(href)}" target="_blank" rel="noopener noreferrer">{esc(title)}</a>'
    return esc(title)


def _window(passage: str, span: tuple[int, int]) -> tuple[int, int]:
    """The part of the passage shown around a quote: CONTEXT_CHARS each side, cut at spaces."""
    s, e = span
    lo, hi = max(0, s - CONTEXT_CHARS), min(len(passage), e + CONTEXT_CHARS)
    lo = passage.rfind(" ", 0, lo) + 1 if lo > 0 else 0
    hi_space = passage.find(" ", hi)
    hi = len(passage) if hi >= len(passage) or hi_space < 0 else hi_space
    return lo, hi


def _excerpt(passage: str, span: tuple[int, int] | None) -> str:
    """The passage around the quote, the quote in <mark>; the whole passage stays one click away."""
    if span is None:
        return f'<p class="nr-passage">{_para(esc(_clip(passage, 2 * CONTEXT_CHARS, keep_lines=True)))}</p>'
    s, e = span
    lo, hi = _window(passage, span)
    before = ("… " if lo > 0 else "") + passage[lo:s]
    after = passage[e:hi] + (" …" if hi < len(passage) else "")
    body = f"{esc(before)}<mark>{esc(passage[s:e])}</mark>{esc(after)}"
    out = f'<p class="nr-passage">{_para(body)}</p>'
    if lo > 0 or hi < len(passage):
        out += f'<details><summary>Whole passage</summary><p class="nr-passage">{_para(esc(passage))}</p></details>'
    return out


def _para(escaped: str) -> str:
    return re.sub(r"\s*\n\s*", "<br>", escaped.strip())


def cite_id(n: int, turn: int | None = None) -> str:
    """The element id a [n] marker links to: `cite-T-N` for answer T of a chat (so each answer's markers keep
    pointing at that answer's sources), `cite-N` for an answer shown on its own."""
    return f"cite-{n}" if turn is None else f"cite-{turn}-{n}"


def _by_article(citations: Sequence[Citation]) -> list[list[Citation]]:
    """Citations grouped by article, in the order each article is first cited."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.article_id or c.title, []).append(c)
    return list(groups.values())


class _Shown:
    """Quotes of one article shown together: their passages' text over [lo, hi) of the article (article
    offsets), each quote's article range, and the whole stretch the passages cover."""

    def __init__(self, c: Citation, span: tuple[int, int]) -> None:
        start = c.start - span[0]  # where the passage starts in the article
        lo, hi = _window(c.passage, span)
        self.cites = [(c, start + span[0], start + span[1])]
        self.lo, self.hi = start + lo, start + hi
        self.pieces = [(start, c.passage)]

    def take(self, other: "_Shown") -> bool:
        """Join another quote's excerpt when the two overlap and the passages cover the joined stretch."""
        lo, hi = min(self.lo, other.lo), max(self.hi, other.hi)
        if other.lo > self.hi or other.hi < self.lo:
            return False
        pieces = self.pieces + other.pieces
        if _covered(pieces, lo, hi) is None:
            return False
        self.cites += other.cites
        self.lo, self.hi, self.pieces = lo, hi, pieces
        return True


def _stretches(pieces: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """(start, text) pieces of one article joined where they overlap or touch (each character once)."""
    out: list[tuple[int, str]] = []
    for start, text in sorted(pieces):
        if out and start <= out[-1][0] + len(out[-1][1]):
            s0, t0 = out[-1]
            end0 = s0 + len(t0)
            if start + len(text) > end0:
                out[-1] = (s0, t0 + text[end0 - start:])
        else:
            out.append((start, text))
    return out


def _covered(pieces: Sequence[tuple[int, str]], lo: int, hi: int) -> str | None:
    """The article's text over [lo, hi) when one joined stretch of the pieces covers it, else None."""
    for start, text in _stretches(pieces):
        if start <= lo and hi <= start + len(text):
            return text[lo - start:hi - start]
    return None


def _joined_span(shown: _Shown, turn: int | None) -> str:
    """One excerpt for quotes whose passages overlap: every quote marked in the one text (no line shown twice);
    the first quote's [n] target is the block, each other's an anchor at its quote."""
    text = _covered(shown.pieces, shown.lo, shown.hi) or ""
    cites = sorted(shown.cites, key=lambda x: x[1])
    marks: list[list[int]] = []
    for _, qs, qe in cites:
        if marks and qs <= marks[-1][1]:
            marks[-1][1] = max(marks[-1][1], qe)
        else:
            marks.append([qs, qe])
    first_n = shown.cites[0][0].n
    anchors = {qs: [c.n for c, s, _ in cites if s == qs and c.n != first_n] for _, qs, _ in cites}
    out, pos = [], shown.lo
    for ms, me in marks:
        out.append(esc(text[pos - shown.lo:ms - shown.lo]))
        inner, at = [], ms
        for cut in sorted(q for q in anchors if ms <= q < me):
            inner.append(esc(text[at - shown.lo:cut - shown.lo]))
            inner.extend(f'<span class="nr-anchor" id="{cite_id(n, turn)}"></span>' for n in anchors[cut])
            at = cut
        inner.append(esc(text[at - shown.lo:me - shown.lo]))
        out.append(f"<mark>{''.join(inner)}</mark>")
        pos = me
    out.append(esc(text[pos - shown.lo:]))
    whole = _stretches(shown.pieces)
    full = next((t for s, t in whole if s <= shown.lo and shown.hi <= s + len(t)), text)
    before = "… " if len(full) > len(text) and not full.startswith(text) else ""
    after = " …" if len(full) > len(text) and not full.endswith(text) else ""
    body = f'<p class="nr-passage">{_para(before + "".join(out) + after)}</p>'
    if before or after:
        body += f'<details><summary>Whole passages</summary><p class="nr-passage">{_para(esc(full))}</p></details>'
    numbers = "".join(f'<span class="nr-n nr-n-small">{c.n}</span>' for c, _, _ in shown.cites)
    return (f'<div class="nr-span nr-joined" id="{cite_id(first_n, turn)}"><span class="nr-ns">{numbers}</span>'
            f'<div class="nr-span-body">{body}</div></div>')


def _article_card(group: Sequence[Citation], hits: Sequence[Hit], turn: int | None, index: int) -> str:
    """One card per article: title, outlet, date and link once, then every span of it this answer quotes;
    quotes whose excerpts overlap (passages of one article overlap) share one excerpt."""
    first = group[0]
    badges = "".join(f'<span class="nr-n">{c.n}</span>' for c in group)
    shown: list[_Shown | Citation] = []
    for c in group:
        span = locate_quote(c, hits)
        item = _Shown(c, span) if span else None
        if item is not None and any(isinstance(g, _Shown) and g.take(item) for g in shown):
            continue
        shown.append(item if item is not None else c)
    spans = []
    for item in shown:
        if isinstance(item, _Shown) and len(item.cites) > 1:
            spans.append(_joined_span(item, turn))
            continue
        c = item.cites[0][0] if isinstance(item, _Shown) else item
        span = locate_quote(c, hits)
        spans.append(
            f'<div class="nr-span" id="{cite_id(c.n, turn)}"><span class="nr-n nr-n-small">{c.n}</span>'
            f'<div class="nr-span-body">{_excerpt(c.passage, span)}'
            + ("" if span else f'<blockquote class="nr-quote"><mark>{esc(c.quote)}</mark></blockquote>')
            + "</div></div>")
    prefix = "src" if turn is None else f"src-{turn}"
    return (f'<div class="nr-card" id="{prefix}-{index}"><div class="nr-card-head"><span class="nr-ns">{badges}</span>'
            f'<div><div class="nr-title">{_title(first.title, first.url)}</div>'
            f'<div class="nr-meta">{_meta(first.source, first.published_at, first.url)}</div></div></div>'
            f'{"".join(spans)}</div>')


def answer_sources(answer: Answer, turn: int | None = None) -> str:
    """One answer's sources: a card per cited article holding each quoted span (its quote marked), or, for a
    refusal, the closest passages found."""
    head = f'<div class="nr-sources-q">Sources for <q>{esc(_clip(answer.question, 160))}</q></div>'
    if answer.citations:
        cards = [_article_card(g, answer.passages, turn, i) for i, g in enumerate(_by_article(answer.citations), 1)]
        return head + "".join(cards)
    if answer.passages:
        prefix = "closest" if turn is None else f"closest-{turn}"
        cards = [_closest_card(group, f"{prefix}-{i}")
                 for i, group in enumerate(closest_articles(answer.passages), 1)]
        note = ('<div class="nr-note">Not covered. The closest passages found:</div>' if answer.refused else
                '<div class="nr-note">Nothing in this answer could be confirmed. The passages it was written from:</div>')
        return head + note + "".join(cards)
    return head + '<div class="nr-note">No passages matched.</div>'


def closest_articles(hits: Sequence[Hit], limit: int = CLOSEST) -> list[list[Passage]]:
    """The passages of a refusal's closest `limit` articles, grouped by article in rank order: one article is
    one card however many of its passages were found."""
    groups: dict[str, list[Passage]] = {}
    for h in hits:
        p = h.passage
        if p.article_id not in groups and len(groups) >= limit:
            continue
        groups.setdefault(p.article_id, []).append(p)
    return list(groups.values())


def merged_text(passages: Sequence[Passage]) -> list[str]:
    """The article's text that these passages cover, in article order: overlapping or touching passages joined
    into one stretch (each word once), separate stretches kept apart."""
    stretches: list[list[int | str]] = []  # [start, end, text]
    for p in sorted(passages, key=lambda p: (p.start, p.end)):
        if stretches and p.start <= stretches[-1][1]:
            start, end, text = stretches[-1]
            if p.end > end:
                stretches[-1] = [start, p.end, str(text) + p.text[int(end) - p.start:]]
        else:
            stretches.append([p.start, p.end, p.text])
    return [str(t) for _, _, t in stretches]


def _closest_card(passages: Sequence[Passage], element_id: str) -> str:
    first = passages[0]
    stretches = merged_text(passages)[:CLOSEST_STRETCHES]
    budget = max(160, CLOSEST_CHARS // len(stretches))
    body = "".join(f'<p class="nr-passage">{_para(esc(_clip(t, budget, keep_lines=True)))}</p>' for t in stretches)
    return (f'<div class="nr-card nr-closest" id="{element_id}"><div class="nr-card-head">'
            f'<span class="nr-n nr-n-muted">~</span><div><div class="nr-title">{_title(first.title, first.url)}</div>'
            f'<div class="nr-meta">{_meta(first.source, first.published_at, first.url)}</div></div></div>{body}</div>')


def sources_html(answer: Answer, turn: int | None = None) -> str:
    """The sources panel for one answer (see `answer_sources`)."""
    return f'<div class="nr-sources">{answer_sources(answer, turn)}</div>'


def sources_panel(sections: Sequence[str]) -> str:
    """The panel for a whole chat: the newest answer's sources open, each earlier answer's folded below it, so
    an older [n] still finds its card (the page script unfolds it)."""
    if not sections:
        return empty_sources_html()
    *older, newest = sections
    parts = [f'<section class="nr-answer-sources" id="answer-{len(sections)}">{newest}</section>']
    for k in range(len(older), 0, -1):
        body = older[k - 1]
        parts.append(f'<details class="nr-older" id="answer-{k}"><summary>Sources of earlier answer {k}</summary>{body}</details>')
    return f'<div class="nr-sources">{"".join(parts)}</div>'


def empty_sources_html() -> str:
    """The sources panel before the first answer."""
    return ('<div class="nr-sources nr-empty"><div class="nr-empty-title">Sources</div>'
            "<p>Ask a question: every [n] in the answer links to the passage it comes from, shown here with "
            "the quoted words <mark>highlighted</mark>.</p></div>")


def notice_markdown(answer: Answer) -> str:
    """One subtle line under the chat: who answered, how long it took, and any notices."""
    bits = [f"answered by {answer.answerer or 'unknown'}"]
    total = answer.timings.get("total")
    if total is not None:
        bits.append(f"{total:.2f}s")
    if answer.claims_dropped:
        bits.append(f"{answer.claims_dropped} sentence{'s' if answer.claims_dropped > 1 else ''} removed by the check")
    unconfirmed = len(answer.unconfirmed)
    if unconfirmed:
        bits.append(f"{unconfirmed} marked not confirmed by the sources")
    line = " · ".join(bits)
    notes = [md_escape(n) for n in dict.fromkeys(answer.notices)]
    notes += [f"removed: {md_escape(x)}" for x in removed_lines(answer.dropped)]
    notes += [f"doubted: {md_escape(x)}" for x in doubted_lines(answer.verdicts)]
    return md_escape(line) + ("" if not notes else "  \n" + "  \n".join(f"ⓘ {n}" for n in notes))


def error_notice(message: str) -> str:
    """A problem with the question, for the line under the chat (the conversation above it stays)."""
    return f"⚠️ **{md_escape(message)}**"


def status_line(stats: Mapping[str, Any]) -> str:
    """'N articles, M passages indexed; newest article DATE'."""
    n, m = int(stats.get("articles") or 0), int(stats.get("passages") or 0)
    newest = stats.get("newest")
    line = (f"{n:,} article{'s' if n != 1 else ''}, {m:,} passage{'s' if m != 1 else ''} indexed; "
            + (f"newest article {newest}" if newest else "no dated articles yet"))
    dups = int(stats.get("duplicates") or 0)
    if dups:
        line += f" ({dups:,} duplicate{'s' if dups != 1 else ''} set aside)"
    return line


def _count(n: int, noun: str) -> str:
    """'1 passage', '3 passages'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _origin(item: Mapping[str, Any], names: Mapping[str, str]) -> str:
    origin = str(item.get("origin") or "")
    for path, name in names.items():  # "records.jsonl:3", "feed.rss#2": a record inside an upload
        if origin.startswith(path):
            return name + origin[len(path):]
    return origin


def report_html(report: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """An IngestReport.to_dict() as HTML: the counts, then what was added, copied and what failed and why.
    `names` maps upload temp paths back to the file names the user chose."""
    names = names or {}
    counts = Counter({k: int(report.get(k, 0)) for k in ("added", "updated", "unchanged", "duplicates", "failed")})
    items = report.get("items", {})
    kind = "nr-bad" if counts["failed"] and not (counts["added"] or counts["updated"]) else "nr-good"
    head = (f'<div class="nr-report-head {kind}">Added {counts["added"]}, updated {counts["updated"]}, '
            f'unchanged {counts["unchanged"]}, duplicates {counts["duplicates"]}, failed {counts["failed"]} '
            f'({_count(int(report.get("passages", 0)), "passage")}, {float(report.get("seconds", 0.0)):.1f}s)</div>')
    rows: list[str] = []
    for key, label in (("added", "added"), ("updated", "updated")):
        for it in items.get(key, []):
            rows.append(f"<li><b>{label}</b>: {esc(it.get('title'))} <span class='nr-dim'>"
                        f"({esc(_origin(it, names))})</span></li>")
    for it in items.get("duplicates", []):
        rows.append(f"<li><b>duplicate</b>: {esc(it.get('title'))} <span class='nr-dim'>"
                    f"({esc(it.get('source') or _origin(it, names))})</span> copies {esc(it.get('of_title'))}</li>")
    for it in items.get("unchanged", []):
        rows.append(f"<li><b>unchanged</b>: {esc(it.get('title'))} <span class='nr-dim'>(already ingested)</span></li>")
    for it in items.get("failed", []):
        rows.append(f"<li class='nr-bad'><b>failed</b>: {esc(_origin(it, names))}: {esc(it.get('reason'))}</li>")
    for it in items.get("warnings", []):  # read, but degraded (a guessed encoding, a flat text fallback)
        rows.append(f"<li><b>warning</b>: {esc(_origin(it, names))}: {esc(it.get('reason'))}</li>")
    return f'<div class="nr-report">{head}<ul>{"".join(rows)}</ul></div>'


def plain_history(turns: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """History turns reduced to {"role", "content"} strings (what the Assistant expects)."""
    out: list[dict[str, str]] = []
    for t in turns:
        role, content = t.get("role"), t.get("content")
        if role in ("user", "assistant") and isinstance(content, str) and content.strip():
            out.append({"role": role, "content": content})
    return out



CSS = """
.gradio-container { max-width: 1380px !important; }
#nr-header { align-items: center; gap: 8px; }
#nr-header h1 { margin: 0; font-size: 1.45rem; letter-spacing: -0.01em; }
#nr-header p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .9rem; }
#nr-status { text-align: right; color: var(--body-text-color-subdued); font-size: .85rem; }
#nr-ask-row button { white-space: nowrap; }
#nr-notice { font-size: .78rem; color: var(--body-text-color-subdued); min-height: 1.2em; }
#nr-notice p { margin: 0; }
#nr-notice strong { color: var(--error-text-color, #b91c1c); font-weight: 600; }
#nr-chat a[href*="#cite-"] { display: inline-block; font-size: .72em; font-weight: 600; line-height: 1;
  padding: 2px 5px; margin: 0 1px; border-radius: 8px; vertical-align: super; text-decoration: none;
  background: var(--color-accent-soft); color: var(--color-accent); }
#nr-sources-box { max-height: 600px; overflow-y: auto !important; padding-right: 6px; }
.nr-sources { display: flex; flex-direction: column; gap: 10px; }
.nr-sources-q, .nr-note { font-size: .82rem; color: var(--body-text-color-subdued); }
.nr-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  background: var(--background-fill-primary); transition: box-shadow .3s ease; scroll-margin: 12px; }
.nr-card.nr-flash, .nr-span.nr-flash { box-shadow: 0 0 0 3px var(--color-accent); }
.nr-ns { flex: none; display: inline-flex; gap: 3px; flex-wrap: wrap; max-width: 86px; }
.nr-span { display: flex; gap: 8px; align-items: flex-start; margin-top: 8px; padding: 2px 4px;
  border-radius: 8px; scroll-margin: 12px; transition: box-shadow .3s ease; }
.nr-span .nr-passage { margin-top: 0; }
.nr-span-body { min-width: 0; }
.nr-n-small { min-width: 20px; height: 20px; font-size: .7rem; margin-top: 1px; }
.nr-joined > .nr-ns { flex-direction: column; max-width: 22px; }
.nr-older { border-top: 1px solid var(--border-color-primary); padding-top: 6px; }
.nr-older > summary { cursor: pointer; font-size: .82rem; color: var(--body-text-color-subdued); }
.nr-older[open] > summary { margin-bottom: 6px; }
.nr-answer-sources, .nr-older { display: flex; flex-direction: column; gap: 10px; }
#nr-table, #nr-table * { font-family: var(--font) !important; }
.nr-card-head { display: flex; gap: 10px; align-items: flex-start; }
.nr-n { flex: none; display: inline-flex; align-items: center; justify-content: center; min-width: 24px;
  height: 24px; border-radius: 12px; background: var(--color-accent); color: #fff; font-weight: 600;
  font-size: .78rem; }
.nr-n-muted { background: var(--neutral-400); }
.nr-title { font-weight: 600; line-height: 1.3; }
.nr-title a { color: inherit; text-decoration: none; }
.nr-title a:hover { text-decoration: underline; }
.nr-meta { font-size: .76rem; color: var(--body-text-color-subdued); margin-top: 2px; }
.nr-meta a { color: var(--color-accent); }
.nr-passage { font-size: .85rem; line-height: 1.55; margin: 8px 0 0; }
.nr-passage mark, .nr-quote mark { background: #fde68a; color: #1f2937; padding: 1px 2px; border-radius: 3px; }
.nr-card details summary { font-size: .76rem; cursor: pointer; color: var(--body-text-color-subdued);
  margin-top: 6px; }
.nr-empty { border: 1px dashed var(--border-color-primary); border-radius: 10px; padding: 14px 16px;
  color: var(--body-text-color-subdued); font-size: .88rem; }
.nr-empty-title { font-weight: 600; margin-bottom: 4px; color: var(--body-text-color); }
.nr-report-head { font-weight: 600; margin-bottom: 6px; }
.nr-report ul { margin: 0; padding-left: 1.2em; font-size: .88rem; }
.nr-bad { color: var(--error-text-color, #b91c1c); }
.nr-dim { color: var(--body-text-color-subdued); }
"""

# Citation links jump to their card in the sources panel (and flash it) instead of navigating.
HEAD = """
<script>
document.addEventListener('click', function (ev) {
  var a = ev.target && ev.target.closest ? ev.target.closest('a[href*="#cite-"]') : null;
  if (!a) { return; }
  var id = (a.getAttribute('href') || '').split('#').pop();
  var card = document.getElementById(id);
  if (card && card.classList.contains('nr-anchor')) { card = card.closest('.nr-span') || card; }  // a joined excerpt
  ev.preventDefault();
  ev.stopPropagation();
  if (!card) { return; }
  var fold = card.closest('details.nr-older');  // an earlier answer's sources: unfold them first
  if (fold && !fold.open) { fold.open = true; }
  card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  card.classList.remove('nr-flash');
  void card.offsetWidth;
  card.classList.add('nr-flash');
  setTimeout(function () { card.classList.remove('nr-flash'); }, 1600);
}, true);
</script>
"""
