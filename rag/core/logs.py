"""Logging for the front ends: our messages at WARNING and above by default, and nothing below it from
libraries that set their own loggers to DEBUG when imported (bm25s does)."""

from __future__ import annotations

import logging
import sys

__all__ = ["setup_logging", "FORMAT"]

FORMAT = "%(levelname)s %(name)s: %(message)s"
_MARK = "_newsrag_handler"


class _Levels(logging.Filter):
    """Records of `newsrag.*` loggers from `ours` up, everyone else's from `level` up."""

    def __init__(self, level: int, ours: int) -> None:
        super().__init__()
        self.level, self.ours = level, ours

    def filter(self, record: logging.LogRecord) -> bool:
        mine = record.name == "newsrag" or record.name.startswith("newsrag.")
        return record.levelno >= (self.ours if mine else self.level)


def setup_logging(level: int = logging.WARNING, ours: int | None = None) -> logging.Handler:
    """One stderr handler on the root logger that passes records from `level` up, and our own (`newsrag.*`)
    from `ours` up (a long-running worker says what it does at INFO without every library's INFO chatter): a
    library logger that sets itself to DEBUG still propagates records, and the handler's filter drops them.
    Idempotent."""
    ours = level if ours is None else ours
    root = logging.getLogger()
    root.setLevel(min(level, ours))
    handler = next((h for h in root.handlers if getattr(h, _MARK, False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    for f in [f for f in handler.filters if isinstance(f, _Levels)]:
        handler.removeFilter(f)
    handler.setLevel(min(level, ours))
    handler.addFilter(_Levels(level, ours))
    return handler
