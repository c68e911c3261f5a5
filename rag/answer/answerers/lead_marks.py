"""Markers a model writes before its sentence ("[1] Mike Pence dropped out.") moved to where the claim check
reads them: after the sentence's words ("Mike Pence dropped out [1]."). Small models often number their lines
like that; left in place, the marker would be taken for the previous sentence's and this one would go uncited.
Only the position changes: the sentence and its marker are checked as any other. A placeholder "[n]" (the
prompt's wording copied) names no passage and is dropped. "According to [2], X." and "The passage from [2] states
that X." become "X [2]."
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from rag.nlp.sentences import sentence_spans

__all__ = ["lead_marks_moved", "move_lead_marks"]

_MARK = r"\[\d+(?:\s*,\s*\d+)*\]"
_LEAD = re.compile(rf"([ \t]*)((?:{_MARK}[ \t]*)+)(.*)$", re.S)
_MAYBE = re.compile(r"[ \t]*(?:\[\d+(?:\s*,\s*\d+)*\][ \t]*)*(?:\[[\d,\s]*)?")  # a line start that may still open with one
# "According to [2], ..." / "The passage from [3] states that ...": the marker names the source of what follows
_OPENER = re.compile(rf"([ \t]*)(?:according to|the passage from|in passage|passage)[ \t]+((?:{_MARK}[ \t]*)+)"
                     r"[ \t]*(?:,|states|says|reports|mentions|notes)?[ \t]*(?:that\b)?[ \t]*:?[ \t]*(?=\S)", re.I)
_OPENERS = ("according to [", "the passage from [", "in passage [", "passage [")
_PLACEHOLDER = re.compile(r"[ \t]*\[n\]")


def move_lead_marks(line: str) -> str:
    """One line with the markers it opens with moved to the end of its first sentence, and without the
    placeholder "[n]" (a marker copied from the prompt's wording, naming no passage)."""
    line = _PLACEHOLDER.sub("", line)
    opener = _OPENER.match(line)
    if opener:
        rest = line[opener.end():]
        line = f"{opener.group(1)}{opener.group(2).strip()} {rest[:1].upper()}{rest[1:]}"
    m = _LEAD.match(line)
    if not m or not m.group(3).strip():
        return line
    marks = "".join(re.findall(_MARK, m.group(2)))
    rest = m.group(3)
    spans = sentence_spans(rest)
    if spans and spans[0][1] < len(rest.rstrip()):  # after the first sentence (its closing marks included)
        cut = spans[0][1]
        return f"{m.group(1)}{rest[:cut].rstrip()} {marks}{rest[cut:]}"
    return f"{m.group(1)}{rest.rstrip()} {marks}"


def _opening(buf: str) -> bool:
    """Could `buf` still become a line that opens with "According to [n]" (or the like)?"""
    head = buf.lstrip(" \t").lower()
    if not head or "\n" in head:
        return False
    for o in _OPENERS:
        if o.startswith(head):
            return True
        if head.startswith(o):
            closed = re.match(r"[^\]]*\]", head[len(o):])
            # the marker is still being written, or the words after it ("states that:") may still come
            return not closed or len(head) - len(o) - closed.end() < 16
    return False


def lead_marks_moved(pieces: Iterable[str]) -> Iterator[str]:
    """The same text, streamed; a line that opens with markers is held back until it ends."""
    buf, line_start = "", True
    for piece in pieces:
        buf += piece
        out = ""
        while buf:
            if line_start:
                if _MAYBE.fullmatch(buf) or _opening(buf):
                    break  # only the start of a marker (or of "According to [n]") so far: wait for more
                if (_LEAD.match(buf) and re.match(rf"[ \t]*{_MARK}", buf)) or _OPENER.match(buf):
                    if "\n" not in buf:
                        break
                    line, buf = buf.split("\n", 1)
                    out += move_lead_marks(line) + "\n"
                    continue
                line_start = False
            if "\n" in buf:
                line, buf = buf.split("\n", 1)
                out += _PLACEHOLDER.sub("", line) + "\n"
                line_start = True
                continue
            tail = re.search(r"[ \t]*(?:\[n?)?$", buf)
            if tail and tail.start() < len(buf):  # spaces, or a placeholder "[n]" still being written: wait
                out += _PLACEHOLDER.sub("", buf[:tail.start()])
                buf = buf[tail.start():]
                break
            out, buf = out + _PLACEHOLDER.sub("", buf), ""
        if out:
            yield out
    if buf:
        yield move_lead_marks(buf) if line_start else _PLACEHOLDER.sub("", buf)
