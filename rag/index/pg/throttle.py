"""The web login throttle's counts in the PostgreSQL catalog, so every replica locks the same names: a guesser
spreading tries over replicas behind a load balancer meets one count (rag/frontends/web/login.py has the rules). Times are
wall-clock seconds (time.time), since the replicas' monotonic clocks do not agree."""

from __future__ import annotations

__all__ = ["PgLoginStore"]


class PgLoginStore:
    shared = True  # LoginGuard then keeps wall-clock time

    def __init__(self, catalog) -> None:
        self._catalog = catalog

    def locked(self, name: str, now: float) -> bool:
        row = self._catalog._one(
            "SELECT COALESCE((SELECT until FROM login_pause), 0) > %s OR"
            " COALESCE((SELECT locked_until FROM login_failures WHERE name=%s), 0) > %s", (now, name, now))
        return bool(row[0])

    def succeeded(self, name: str) -> None:
        with self._catalog._conn() as conn:
            conn.execute("DELETE FROM login_failures WHERE name=%s", (name,))

    def failed(self, name: str, now: float, lock_for, *, flood: bool = True) -> tuple[int, float | None, bool]:
        """Count a wrong password: (failures in a row for the key, seconds it is now locked for or None,
        whether the flood rule paused every key). `lock_for(n)` gives the lock after n failures (or None);
        `flood=False` counts it for the key only (the per-address count of a failure already counted)."""
        from rag.core.login_policy import FLOOD_FAILURES, FLOOD_LOCK, FLOOD_WINDOW

        with self._catalog._tx() as conn:
            n = conn.execute("INSERT INTO login_failures VALUES (%s, 1, 0, %s) ON CONFLICT (name) DO UPDATE SET"
                             " failures=login_failures.failures+1, last_at=excluded.last_at RETURNING failures",
                             (name, now)).fetchone()[0]
            wait = lock_for(n)
            if wait is not None:
                conn.execute("UPDATE login_failures SET locked_until=%s WHERE name=%s", (now + wait, name))
            if not flood:
                return n, wait, False
            conn.execute("INSERT INTO login_flood VALUES (%s)", (now,))
            conn.execute("DELETE FROM login_flood WHERE at < %s", (now - FLOOD_WINDOW,))
            flood = conn.execute("SELECT COUNT(*) FROM login_flood").fetchone()[0] >= FLOOD_FAILURES
            if flood:
                conn.execute("INSERT INTO login_pause VALUES (TRUE, %s) ON CONFLICT (one) DO UPDATE SET"
                             " until=excluded.until", (now + FLOOD_LOCK,))
                conn.execute("DELETE FROM login_flood")
            # bounded under a flood of made-up names: forget names idle for a day and not locked
            conn.execute("DELETE FROM login_failures WHERE last_at < %s AND locked_until < %s", (now - 86400, now))
        return n, wait, flood
