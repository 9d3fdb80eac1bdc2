"""Per-client token buckets: ``rate`` requests per second, bursts of ``burst``.

One gateway process keeps the buckets in memory. Several answer workers on one PostgreSQL
control plane share them (``sessions``): taking a token is one statement on ``rate_buckets``
(insert the bucket full less one, or refill the row by the time passed and take one if there
is one), so a client gets ``rate`` requests a second in all, not per worker. That
statement is its own transaction (one round trip) and commits without waiting for the WAL
flush (``synchronous_commit`` off for it alone, set inside the statement): a bucket lost if
PostgreSQL crashes costs a client at most one burst more, and the answer path does not wait
for a disk sync to take a token.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from typing import Any

from sqlalchemy import Connection, case, literal, select
from sqlalchemy.orm import Session, sessionmaker

from governance.db import NO_FLUSH_WAIT, lone_statements
from governance.models import RateBucket
from governance.upsert import insert_for


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, sessions: sessionmaker[Session] | None = None
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._sessions = sessions

    @property
    def shared(self) -> bool:
        return self._sessions is not None

    def acquire(self, key: str, now: float | None = None) -> int:
        """0 if a request may go now, else the seconds to wait (for Retry-After). ``now``:
        monotonic seconds in memory, epoch seconds when shared (every worker's clock)."""
        if self._sessions is not None:
            return self._acquire_shared(self._sessions, key, time.time() if now is None else now)
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return self._wait(tokens)

    def _wait(self, tokens: float) -> int:
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def _acquire_shared(self, sessions: sessionmaker[Session], key: str, now: float) -> int:
        """Take a token in one statement; the row is written only when one is taken (the
        refill is a function of the time passed, so a refusal need not store it). A clock
        behind the row's counts no time passed."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        with lone_statements(sessions) as conn:  # one round trip: the statement commits itself
            if conn.execute(self.take_statement(conn, digest, now)).first() is not None:
                return 0
            row = conn.execute(select(RateBucket.tokens, RateBucket.at).where(
                RateBucket.key == digest)).one()  # fmt: skip
        left = min(float(self.burst), row.tokens + max(0.0, now - row.at) * self.rate)
        return self._wait(left)

    def take_statement(self, conn: Connection, digest: str, now: float) -> Any:
        """Insert the bucket full less one, or refill it and take one if there is one; the
        key comes back only when a token was taken."""
        passed = case((RateBucket.at < now, now - RateBucket.at), else_=0.0)
        refilled = RateBucket.tokens + passed * self.rate
        tokens = case((refilled < self.burst, refilled), else_=float(self.burst))
        full = select(literal(digest), literal(self.burst - 1.0), literal(now))
        if conn.dialect.name == "postgresql":  # see the module docstring
            full = full.select_from(select(NO_FLUSH_WAIT).subquery())
        insert = insert_for(conn, RateBucket).from_select(["key", "tokens", "at"], full)
        return insert.on_conflict_do_update(
            index_elements=[RateBucket.key],
            set_={"tokens": tokens - 1.0,
                  "at": case((RateBucket.at < now, now), else_=RateBucket.at)},
            where=tokens >= 1.0,
        ).returning(RateBucket.key)  # fmt: skip
