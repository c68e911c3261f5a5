"""Markers a model writes before its sentence ("[1] Mike Pence dropped out.") moved to where the claim check
reads them: after the sentence's words ("Mike Pence dropped out [1]."). Small models often number their lines
like that; left in place, the marker would be taken for the previous sentence's and this one would go uncited.
Only the position changes: the sentence and its marker are checked as any other."""

from __future__ import annotations

import re
from typing import Iterable, Iterator

__all__ = ["lead_marks_moved", "move_lead_marks"]

_MARK = r"\[\d+(?:\s*,\s*\d+)*\]"
_LEAD = re.compile(rf"([ \t]*)((?:{_MARK}[ \t]*)+)(.*)$", re.S)
_MAYBE = re.compile(r"[ \t]*(?:\[\d+(?:\s*,\s*\d+)*\][ \t]*)*(?:\[[\d,\s]*)?")  # a line start that may still open with one
_END = re.compile(r"[.!?][\"”’)]*(?=\s|$)")


def move_lead_marks(line: str) -> str:
    """One line with the markers it opens with moved to the end of its first sentence."""
    m = _LEAD.match(line)
    if not m or not m.group(3).strip():
        return line
    marks = "".join(re.findall(_MARK, m.group(2)))
    rest = m.group(3)
    end = _END.search(rest)
    if end:
        return f"{m.group(1)}{rest[:end.start()].rstrip()} {marks}{rest[end.start():]}"
    return f"{m.group(1)}{rest.rstrip()} {marks}"


def lead_marks_moved(pieces: Iterable[str]) -> Iterator[str]:
    """The same text, streamed; a line that opens with markers is held back until it ends."""
    buf, line_start = "", True
    for piece in pieces:
        buf += piece
        out = ""
        while buf:
            if line_start:
                if _MAYBE.fullmatch(buf):
                    break  # only the start of a marker so far: wait for more
                if _LEAD.match(buf) and re.match(rf"[ \t]*{_MARK}", buf):
                    if "\n" not in buf:
                        break
                    line, buf = buf.split("\n", 1)
                    out += move_lead_marks(line) + "\n"
                    continue
                line_start = False
            if "\n" in buf:
                line, buf = buf.split("\n", 1)
                out += line + "\n"
                line_start = True
                continue
            out, buf = out + buf, ""
        if out:
            yield out
    if buf:
        yield move_lead_marks(buf) if line_start else buf
