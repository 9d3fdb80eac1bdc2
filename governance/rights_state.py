"""What one gateway process keeps in memory about residents' rights, and its clock.

A score answer carries the short statements of the records it used and whether a review of
the resident's score is open (issue 18), so the answer path must know, without a database
round trip, which residents have either: `RightsState` holds the pseudonyms of residents
with active statements and those with an open review, read once from the control plane and
updated by every change this process commits. Where several answer workers share a
PostgreSQL control plane, the snapshot is also compared on each use with the ``rights`` row
of ``control_versions``, which a trigger raises in the transaction of every change to those
rows (migration 0011), so a statement or review made through another process counts on the
next answer. On SQLite (one process) a change written behind its back is seen after
`forget`.

``clock`` is the one source of "now" for the rights' deadlines and counts (a review's due
date, the year of a report): tests inject a fixed time instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from governance.control import is_shared, read_version, utcnow
from governance.rights_models import RecordStatement, ScoreReview

# the resident's year (two free reports a year) is China Standard Time's
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
RIGHTS = "rights"  # its row of ``control_versions``


@dataclass(frozen=True)
class _Known:
    with_statements: frozenset[str]
    under_review: frozenset[str]
    version: int | None = None  # of ``rights``, read before the rows (shared control plane)


@dataclass
class RightsState:
    clock: Callable[[], dt.datetime] = utcnow
    _known: _Known | None = None
    _generation: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> dt.datetime:
        """The current time, timezone-aware (the injected clock's in tests)."""
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the rights clock must return an aware time")
        return moment

    def year(self) -> int:
        """The current year in China Standard Time."""
        return self.now().astimezone(CHINA).year

    def has_statements(self, sessions: sessionmaker[Session], subject: str) -> bool:
        return subject in self._read(sessions).with_statements

    def under_review(self, sessions: sessionmaker[Session], subject: str) -> bool:
        return subject in self._read(sessions).under_review

    def forget(self) -> None:
        """Read the control plane again on next use (called after a change is committed; a
        read that raced the change is not kept)."""
        with self._lock:
            self._generation += 1
            self._known = None

    def _read(self, sessions: sessionmaker[Session]) -> _Known:
        known = self._known
        version = read_version(sessions, RIGHTS) if is_shared(sessions) else None
        if known is not None and known.version == version:
            return known
        generation = self._generation
        fresh = _load(sessions, version)
        with self._lock:
            if generation == self._generation:
                self._known = fresh
        return fresh


def _load(sessions: sessionmaker[Session], version: int | None) -> _Known:
    with sessions() as s:
        stated = s.scalars(
            select(RecordStatement.subject).where(RecordStatement.withdrawn_at.is_(None))
        )
        reviewed = s.scalars(select(ScoreReview.subject).where(ScoreReview.status == "open"))
        return _Known(frozenset(stated), frozenset(reviewed), version)
