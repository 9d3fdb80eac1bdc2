"""`ReplayCache`: identifiers seen once (a DPoP proof's ``jti``, a client assertion's ``jti``).

An identifier is remembered until the moment after which the thing it names would be refused
anyway (a proof too old, an assertion expired), so the cache never grows beyond what one
window of traffic holds. It lives in the memory of one gateway process: several processes
behind one address need requests of a client to reach the same process, or a shared cache
(docs/api.md, "Several gateway processes").
"""

from __future__ import annotations

import heapq
import threading
import time

__all__ = ["ReplayCache"]

MAX_ENTRIES = 1_000_000  # one window of traffic is far below this; beyond it, refuse


class ReplayCache:
    """``first_use(key, until)`` is True exactly once per key while it is remembered."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._until: dict[str, float] = {}
        self._expiry: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._max = max_entries

    def first_use(self, key: str, until: float, now: float | None = None) -> bool:
        """Remember ``key`` until the epoch second ``until``; False if it was seen already
        (or the cache is full: fail closed rather than forget a use)."""
        now = time.time() if now is None else now
        with self._lock:
            self._expire(now)
            if key in self._until or len(self._until) >= self._max:
                return False
            self._until[key] = until
            heapq.heappush(self._expiry, (until, key))
            return True

    def _expire(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] < now:
            until, key = heapq.heappop(self._expiry)
            if self._until.get(key) == until:
                del self._until[key]

    def __len__(self) -> int:
        return len(self._until)
