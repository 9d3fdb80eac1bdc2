"""`ReplayCache`: identifiers seen once (a DPoP proof's ``jti``, a client assertion's ``jti``).

An identifier is remembered until the moment after which the thing it names would be refused
anyway (a proof too old, an assertion expired), so the cache never grows beyond what one
window of traffic holds. One gateway process keeps it in memory; several answer workers on
one PostgreSQL control plane share it there (``sessions``): the first use is an INSERT of the
key's SHA-256 into ``seen_once`` whose primary key refuses a second, so a proof replayed to
another worker is refused exactly as one replayed to the same worker (docs/architecture.md,
"What the answer workers share").
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import time

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from governance.db import lone_statements
from governance.models import SeenOnce
from governance.upsert import insert_for

__all__ = ["ReplayCache"]

MAX_ENTRIES = 1_000_000  # one window of traffic is far below this; beyond it, refuse
PURGE_EVERY = 60.0  # seconds between two deletions of expired keys (shared cache)


class ReplayCache:
    """``first_use(key, until)`` is True exactly once per key while it is remembered: in this
    process's memory, or in the control plane's ``seen_once`` when ``sessions`` are given."""

    def __init__(
        self, max_entries: int = MAX_ENTRIES, sessions: sessionmaker[Session] | None = None
    ) -> None:
        self._until: dict[str, float] = {}
        self._expiry: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._max = max_entries
        self._sessions = sessions
        self._purged = 0.0

    @property
    def shared(self) -> bool:
        return self._sessions is not None

    def first_use(self, key: str, until: float, now: float | None = None) -> bool:
        """Remember ``key`` until the epoch second ``until``; False if it was seen already
        (or the cache is full: fail closed rather than forget a use)."""
        now = time.time() if now is None else now
        if self._sessions is not None:
            return self._first_shared(self._sessions, key, until, now)
        with self._lock:
            self._expire(now)
            if key in self._until or len(self._until) >= self._max:
                return False
            self._until[key] = until
            heapq.heappush(self._expiry, (until, key))
            return True

    def _first_shared(
        self, sessions: sessionmaker[Session], key: str, until: float, now: float
    ) -> bool:
        """One statement: insert the key, or take over its row if it has expired; a row
        comes back only then. Two workers inserting the same key at once: the primary key
        makes the second wait for the first and then find its row (not expired)."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        with lone_statements(sessions) as conn:  # one round trip
            insert = insert_for(conn, SeenOnce).values(key=digest, until=until)
            stmt = insert.on_conflict_do_update(
                index_elements=[SeenOnce.key],
                set_={"until": until},
                where=SeenOnce.until < now,
            ).returning(SeenOnce.key)
            first = conn.execute(stmt).first() is not None
        if time.monotonic() - self._purged > PURGE_EVERY:
            self._purged = time.monotonic()
            with sessions.begin() as s:
                s.execute(delete(SeenOnce).where(SeenOnce.until < now))
        return first

    def _expire(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] < now:
            until, key = heapq.heappop(self._expiry)
            if self._until.get(key) == until:
                del self._until[key]

    def __len__(self) -> int:
        return len(self._until)
