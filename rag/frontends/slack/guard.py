"""Small guards the Slack bot relies on: a per-user rate limit, a TTL set for dedup, and token redaction in logs."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Hashable, Iterable

__all__ = ["RateLimiter", "TTLSet", "RedactingFilter", "redact", "install_redaction", "REDACTOR"]

# Slack token shapes: bot (xoxb-), user (xoxp-), app-level (xapp-), config/refresh (xoxe.xoxp-, xoxe-) and friends.
_TOKEN_RE = re.compile(r"\b(xox[a-z]|xapp|xoxe\.xox[a-z])-[A-Za-z0-9.\-_]+")
_MIN_SECRET_CHARS = 6  # shorter "secrets" would redact ordinary words


class RateLimiter:
    """At most `limit` events per key within a sliding window of `window` seconds (limit <= 0: no limit)."""

    def __init__(
        self, limit: int, window: float = 60.0, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000
    ) -> None:
        self.limit = int(limit)
        self.window = float(window)
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: Hashable) -> bool:
        """Record one event for `key` and say whether it is within the limit (refused events are not recorded)."""
        if self.limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            stamps = self._events.pop(key, None) or deque()
            while stamps and now - stamps[0] >= self.window:
                stamps.popleft()
            allowed = len(stamps) < self.limit
            if allowed:
                stamps.append(now)
            if stamps:
                self._events[key] = stamps  # most recently active keys last
            while len(self._events) > self._max_keys:
                self._events.popitem(last=False)
            return allowed


class TTLSet:
    """A bounded set whose members expire after `ttl` seconds; `add` says whether the member was new."""

    def __init__(self, ttl: float = 600.0, maxsize: int = 10_000, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = float(ttl)
        self.maxsize = int(maxsize)
        self._clock = clock
        self._items: OrderedDict[Hashable, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, item: Hashable) -> bool:
        """Add `item`; True when it was not already present (and unexpired)."""
        now = self._clock()
        with self._lock:
            while self._items:
                oldest, added = next(iter(self._items.items()))
                if now - added < self.ttl and len(self._items) < self.maxsize:
                    break
                self._items.popitem(last=False)
            if item in self._items:
                return False
            self._items[item] = now
            return True

    def __contains__(self, item: object) -> bool:
        with self._lock:
            added = self._items.get(item)  # type: ignore[call-overload]
            return added is not None and self._clock() - added < self.ttl

    def __len__(self) -> int:
        return len(self._items)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites records so Slack tokens and registered secrets never reach a handler.

    It redacts the formatted message, the exception text and the stack text in place, so every handler
    downstream (including ones added later, such as pytest's caplog) sees the redacted record.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str | None) -> None:
        """Register a value (a signing secret, a token) to be replaced by [redacted]."""
        if secret and len(secret) >= _MIN_SECRET_CHARS:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        """`text` with registered secrets and anything shaped like a Slack token replaced."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        return _TOKEN_RE.sub(lambda m: m.group(1) + "-[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


REDACTOR = RedactingFilter()
"""The process-wide filter: every secret the Slack bot is given is registered here."""

_DEFAULT_LOGGERS = ("rag", "slack_bolt", "slack_sdk")


def redact(text: str) -> str:
    """`text` with Slack tokens and every registered secret replaced (for replies and error messages)."""
    return REDACTOR.redact(text)


def install_redaction(
    *secrets: str | None, loggers: Iterable[str | logging.Logger] = _DEFAULT_LOGGERS, root_handlers: bool = False
) -> RedactingFilter:
    """Register `secrets` and attach the redacting filter to `loggers` (and to the root handlers when asked).

    A logger's filter only sees records created on that logger, so the Slack app also passes its own
    logger to Bolt and the WebClient (Bolt copies the filter onto the loggers it derives from it), and
    `run` adds the filter to the root handlers that the CLI configured.
    """
    for secret in secrets:
        REDACTOR.add_secret(secret)
    targets = [logging.getLogger(t) if isinstance(t, str) else t for t in loggers]
    if root_handlers:
        targets.extend(logging.getLogger().handlers)  # type: ignore[arg-type]
    for target in targets:
        if REDACTOR not in target.filters:
            target.addFilter(REDACTOR)
    return REDACTOR
