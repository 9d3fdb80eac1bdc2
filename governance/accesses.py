"""`AccessIndex`: a subject's "who accessed my data", built from the audit log itself.

Every answer about a subject is an ``allow`` entry of a bank in the audit log, with the
subject's pseudonym, the computation, the purpose and the access request; a household answer
leaves one such entry for every member whose data it used (`governance.households`), so it
shows in each of their views. At start-up the
gateway reads the log once (`scan`) and keeps, per pseudonym, only the positions of the
entries that are accesses (compact integer arrays: nothing for the garbage collector to walk,
8 bytes an answer); every later answer is noted as its entry becomes durable (`note`). `of`
reads those entries back from the log. So the view shows exactly what the log holds, each
access with its entry's index, which an auditor can prove included in a signed checkpoint;
there is no second record that could disagree with the log.
"""

from __future__ import annotations

import datetime as dt
import threading
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from audit import AuditEntry, decode_entry
from governance.idempotency import REPLAY_REASON

ACCESS_ROLES = frozenset({"bank"})
QUOTA_ACTIONS = frozenset({"POST /v1/scores", "POST /v1/aggregates"})


@dataclass(frozen=True, slots=True)
class LoggedAccess:
    index: int
    at: dt.datetime
    bank_id: str
    computation: str
    purpose: str
    access_request_id: str


def _access(index: int, entry: AuditEntry) -> LoggedAccess | None:
    if entry.decision != "allow" or entry.role not in ACCESS_ROLES:
        return None
    if not entry.subject or not entry.computation:
        return None
    return LoggedAccess(index, entry.time_value, entry.actor, entry.computation,
                        entry.purpose or "", entry.access_request or "")  # fmt: skip


class AccessIndex:
    def __init__(self, read: Callable[[int], bytes]) -> None:
        """``read(index)``: the log's leaf data of entry ``index``."""
        self._read = read
        self._by_subject: dict[str, array[int]] = defaultdict(lambda: array("q"))
        self._lock = threading.Lock()
        self.answered: dict[str, int] = defaultdict(int)  # per access request, at `scan`

    def _count(self, entry: AuditEntry) -> None:
        """Answers the log holds per access request: a floor for the quota used (previews
        of aggregates count too, so after a crash the floor errs on the side of refusing;
        a household answer's member entries have their own action and do not, nor does the
        replay of a kept answer to a retry: `governance.idempotency`)."""
        counted = entry.action in QUOTA_ACTIONS and entry.role in ACCESS_ROLES
        if counted and entry.reason == REPLAY_REASON:
            return
        if counted and entry.decision == "allow" and entry.access_request:
            self.answered[entry.access_request] += 1

    def scan(self, entries: Iterable[bytes]) -> int:
        """Index every access in ``entries`` (the log's leaf data, in order); returns how many."""
        found = 0
        for raw in entries:
            index, entry = decode_entry(raw)
            self._count(entry)
            if self._add(index, entry):
                found += 1
        return found

    def note(self, index: int, entry: AuditEntry) -> None:
        """Record a durable entry if it is an access."""
        self._add(index, entry)

    def _add(self, index: int, entry: AuditEntry) -> bool:
        if _access(index, entry) is None or entry.subject is None:
            return False
        with self._lock:
            self._by_subject[entry.subject].append(index)
        return True

    def of(self, subject: str) -> list[LoggedAccess]:
        """The accesses to ``subject``'s data, oldest first, as the log holds them now."""
        with self._lock:
            indices = sorted(self._by_subject.get(subject, ()))
        found = []
        for index in indices:
            _, entry = decode_entry(self._read(index))
            access = _access(index, entry)
            if access is None or entry.subject != subject:
                raise ValueError(f"audit entry {index} is not an access to this subject")
            found.append(access)
        return found
