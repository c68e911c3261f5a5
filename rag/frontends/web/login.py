"""The web chat's login check, throttled: after a few wrong passwords for a user name the name is locked for a
while (doubling with each further failure, capped), and a flood of failures over all names locks every name
briefly. A locked name is refused without looking at the password, so guessing costs minutes, not milliseconds.

Gradio calls the check with the user name and password only (no client address), so the throttle is per name
and global. A lockout also keeps the real user out for its duration; it is short and says nothing to a guesser.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import deque
from typing import Callable

__all__ = ["LoginGuard", "MemoryLoginStore", "lock_for", "MAX_FAILURES", "BASE_LOCK_SECONDS", "MAX_LOCK_SECONDS"]

MAX_FAILURES = 5  # wrong passwords in a row for one name before it is locked
BASE_LOCK_SECONDS = 1.0  # the first lock; each further failure doubles it
MAX_LOCK_SECONDS = 300.0
FLOOD_FAILURES = 50  # wrong passwords over all names within FLOOD_WINDOW lock every name for FLOOD_LOCK
FLOOD_WINDOW = 60.0
FLOOD_LOCK = 30.0
log = logging.getLogger("newsrag.web")


class LoginGuard:
    """Callable(user, password) -> bool for `gr.Blocks.launch(auth=...)`. The counts live in `store`: this
    process's memory by default, or one shared by every replica (the PostgreSQL catalog's, rag/index)."""

    def __init__(self, user: str, password: str, *, clock: Callable[[], float] | None = None,
                 store=None) -> None:
        self._user, self._password = user.encode(), password.encode()
        self._store = store if store is not None else MemoryLoginStore()
        # a shared store compares times written by several machines: wall-clock time, not this process's clock
        self._clock = clock or (time.time if getattr(self._store, "shared", False) else time.monotonic)

    def __call__(self, user: str, password: str) -> bool:
        now = self._clock()
        name = (user or "").strip().lower()[:200]
        if self._store.locked(name, now):
            return False  # not even compared: a locked name gives a guesser nothing
        ok = hmac.compare_digest((user or "").encode(), self._user) & hmac.compare_digest(
            (password or "").encode(), self._password)
        if ok:
            self._store.succeeded(name)
            return True
        n, wait, flood = self._store.failed(name, now, lock_for)
        if wait is not None:
            log.warning("web: %d wrong passwords in a row for one user name; locked for %.0f s", n, wait)
        if flood:
            log.warning("web: %d wrong passwords within %.0f s; all logins paused for %.0f s",
                        FLOOD_FAILURES, FLOOD_WINDOW, FLOOD_LOCK)
        return False


def lock_for(failures: int) -> float | None:
    """Seconds a name is locked after this many wrong passwords in a row (None: not yet)."""
    if failures < MAX_FAILURES:
        return None
    return min(MAX_LOCK_SECONDS, BASE_LOCK_SECONDS * 2 ** (failures - MAX_FAILURES))


class MemoryLoginStore:
    """The counts in this process (one web server on one machine)."""

    shared = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._all_locked_until = 0.0

    def locked(self, name: str, now: float) -> bool:
        with self._lock:
            return now < self._all_locked_until or now < self._locked_until.get(name, 0.0)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)

    def failed(self, name: str, now: float, lock_for) -> tuple[int, float | None, bool]:
        """(failures in a row for the name, seconds it is now locked for or None, whether all names paused)."""
        with self._lock:
            n = self._failures[name] = self._failures.get(name, 0) + 1
            wait = lock_for(n)
            if wait is not None:
                self._locked_until[name] = now + wait
            self._recent.append(now)
            while self._recent and self._recent[0] < now - FLOOD_WINDOW:
                self._recent.popleft()
            flood = len(self._recent) >= FLOOD_FAILURES
            if flood:
                self._all_locked_until = now + FLOOD_LOCK
                self._recent.clear()
            if len(self._failures) > 10_000:  # bounded memory under a flood of made-up names
                self._failures.clear()
                self._locked_until = {k: v for k, v in self._locked_until.items() if v > now}
            return n, wait, flood
