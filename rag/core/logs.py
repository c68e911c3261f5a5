"""Logging for the front ends: our messages at WARNING and above by default, and nothing below it from
libraries that set their own loggers to DEBUG when imported (bm25s does)."""

from __future__ import annotations

import logging
import sys

__all__ = ["setup_logging", "FORMAT"]

FORMAT = "%(levelname)s %(name)s: %(message)s"
_MARK = "_newsrag_handler"


def setup_logging(level: int = logging.WARNING) -> logging.Handler:
    """One stderr handler on the root logger whose own level is `level`: a library logger that sets itself
    to DEBUG still propagates records, and the handler level is what drops them. Idempotent."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, _MARK, False):
            handler.setLevel(level)
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(level)
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    return handler
