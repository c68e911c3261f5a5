"""The web chat's login check, throttled per client address: after a few wrong passwords for a user name from
one address, that name is locked for that address for a while (doubling with each further failure, capped); an
address that keeps failing over any names is locked whole; and only a flood far beyond what one address can
send (its tries stop counting once it is locked) pauses every login briefly, as a safety ceiling against many
addresses at once. A locked try is refused without looking at the password, so guessing costs minutes, not
milliseconds, and a guesser on one address cannot keep the real user on another one out.

Gradio calls the check with the user name and password only: the client's address comes from
`ClientAddressMiddleware` (ASGI), which every request to the served app passes (the login page and the API's
HTTP Basic alike). The address is the one uvicorn reports (behind a proxy on 127.0.0.1, its X-Forwarded-For).
"""

from __future__ import annotations

import contextvars
import hmac
import logging
import threading
import time
from collections import deque
from typing import Any, Callable

from rag.core.errors import StoreError

__all__ = ["LoginGuard", "MemoryLoginStore", "ClientAddressMiddleware", "CLIENT_ADDRESS", "lock_for",
           "address_lock_for", "MAX_FAILURES", "ADDRESS_MAX_FAILURES", "BASE_LOCK_SECONDS", "MAX_LOCK_SECONDS",
           "FLOOD_FAILURES"]

from rag.core.login_policy import (  # noqa: F401 - the policy's numbers, read here and by the shared store
    ADDRESS_MAX_FAILURES,
    BASE_LOCK_SECONDS,
    FLOOD_FAILURES,
    FLOOD_LOCK,
    FLOOD_WINDOW,
    MAX_FAILURES,
    MAX_LOCK_SECONDS,
)

log = logging.getLogger("newsrag.web")

CLIENT_ADDRESS: contextvars.ContextVar[str] = contextvars.ContextVar("newsrag_client_address", default="")


class ClientAddressMiddleware:
    """ASGI middleware: the request's client address in CLIENT_ADDRESS while the request is handled."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        client = scope.get("client")
        token = CLIENT_ADDRESS.set(str(client[0]) if client else "")
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)


class LoginGuard:
    """Callable(user, password) -> bool for `gr.Blocks.launch(auth=...)`. The counts live in `store`: this
    process's memory by default, or one shared by every replica (the PostgreSQL catalog's, rag/index)."""

    def __init__(self, user: str, password: str, *, clock: Callable[[], float] | None = None,
                 store=None) -> None:
        self._user, self._password = user.encode(), password.encode()
        self._store = store if store is not None else MemoryLoginStore()
        self._local = MemoryLoginStore()  # this replica's own counts while a shared store cannot be reached
        self._away_logged = False
        # a shared store compares times written by several machines: wall-clock time, not this process's clock
        self._clock = clock or (time.time if getattr(self._store, "shared", False) else time.monotonic)

    def __call__(self, user: str, password: str, address: str | None = None) -> bool:
        now = self._clock()
        address = (CLIENT_ADDRESS.get() if address is None else address)[:100]
        name = (user or "").strip().lower()[:200]
        pair, whole = f"user {address} {name}", f"addr {address}"  # that name from that address; that address
        if self._count("locked", pair, now) or self._count("locked", whole, now):
            return False  # not even compared: a locked try gives a guesser nothing
        ok = hmac.compare_digest((user or "").encode(), self._user) & hmac.compare_digest(
            (password or "").encode(), self._password)
        if ok:
            self._count("succeeded", pair)
            self._count("succeeded", whole)
            return True
        n, wait, flood = self._count("failed", pair, now, lock_for)
        if wait is not None:
            log.warning("web: %d wrong passwords in a row for one user name from %s; locked there for %.0f s",
                        n, address or "an unknown address", wait)
        n, wait, _ = self._count("failed", whole, now, address_lock_for, flood=False)
        if wait is not None:
            log.warning("web: %d wrong passwords in a row from %s; that address is locked for %.0f s",
                        n, address or "an unknown address", wait)
        if flood:
            log.warning("web: %d wrong passwords within %.0f s from many addresses; all logins paused for %.0f s",
                        FLOOD_FAILURES, FLOOD_WINDOW, FLOOD_LOCK)
        return False


    def _count(self, what: str, *args: Any, **kwargs: Any) -> Any:
        """The shared store's answer; while it cannot be reached (PostgreSQL away), this replica's own counts, so
        logins go on working and guessing is still slowed here."""
        try:
            answer = getattr(self._store, what)(*args, **kwargs)
            self._away_logged = False
            return answer
        except StoreError as exc:
            if not self._away_logged:
                self._away_logged = True
                log.warning("web: the shared login counts cannot be reached (%s); counting on this replica until "
                            "they can", exc)
            return getattr(self._local, what)(*args, **kwargs)


def lock_for(failures: int) -> float | None:
    """Seconds a name is locked after this many wrong passwords in a row (None: not yet)."""
    if failures < MAX_FAILURES:
        return None
    return min(MAX_LOCK_SECONDS, BASE_LOCK_SECONDS * 2 ** (failures - MAX_FAILURES))


def address_lock_for(failures: int) -> float | None:
    """Seconds an address is locked after this many wrong passwords in a row from it, over any names."""
    if failures < ADDRESS_MAX_FAILURES:
        return None
    return min(MAX_LOCK_SECONDS, BASE_LOCK_SECONDS * 2 ** min(30, failures - ADDRESS_MAX_FAILURES))


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

    def failed(self, name: str, now: float, lock_for, *, flood: bool = True) -> tuple[int, float | None, bool]:
        """(failures in a row for the key, seconds it is now locked for or None, whether all keys paused);
        `flood=False` counts this failure for the key only, not toward the flood ceiling."""
        with self._lock:
            n = self._failures[name] = self._failures.get(name, 0) + 1
            wait = lock_for(n)
            if wait is not None:
                self._locked_until[name] = now + wait
            if not flood:
                return n, wait, False
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
