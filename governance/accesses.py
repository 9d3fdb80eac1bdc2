"""`AccessIndex`: a subject's "who accessed my data", built from the audit log itself.

Every answer about a subject is an ``allow`` entry of a bank in the audit log, with the
subject's pseudonym, the computation, the purpose and the access request; a household answer
leaves one such entry for every member whose data it used (`governance.households`), so it
shows in each of their views. At start-up the
gateway reads the log once (`scan`) and keeps, per pseudonym, only the positions of the
entries that are accesses (compact integer arrays: nothing for the garbage collector to walk,
8 bytes an answer). `of` reads those entries back from the log. So the view shows exactly
what the log holds, each access with its entry's index, which an auditor can prove included
in a signed checkpoint; there is no second record that could disagree with the log.

The log may be shared by several gateway processes (the PostgreSQL log): given the log's
``size``, every `of` first catches up (`catch_up`), reading only the entries appended since
the last index it considered, whichever process appended them; so an access answered by one
worker is listed by every worker on its next call. Entries this process appends are fed in
as they become durable (`note`): while they follow on from what was considered, they move
the mark forward without being read back, so with one writer (the file log) a catch-up reads
nothing at all.
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
    def __init__(self, read: Callable[[int], bytes], size: Callable[[], int] | None = None) -> None:
        """``read(index)``: the log's leaf data of entry ``index``; ``size()``: how many
        entries the log holds now (from every process). Without ``size`` the index holds what
        `scan` and `note` give it, and nothing else."""
        self._read = read
        self._size = size
        self._by_subject: dict[str, array[int]] = defaultdict(lambda: array("q"))
        self._lock = threading.Lock()  # the arrays and the mark
        self._catching = threading.Lock()  # one catch-up at a time (it reads the log)
        self._considered = 0  # every entry below this index is indexed (if ``size`` is given)
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
        """Index every access in ``entries`` (the log's leaf data, in order, from the first);
        returns how many. Later catch-ups start after the last entry scanned."""
        found = 0
        for raw in entries:
            index, entry = decode_entry(raw)
            self._count(entry)
            with self._lock:
                if self._size is not None and index < self._considered:
                    continue  # noted meanwhile
                if self._add(index, entry):
                    found += 1
                self._considered = max(self._considered, index + 1)
        return found

    def note(self, index: int, entry: AuditEntry) -> None:
        """Record a durable entry this process appended (any entry: what is not an access is
        skipped). With ``size``, an entry that does not follow on from what was considered is
        left to the next catch-up, and one considered already is not indexed twice."""
        with self._lock:
            if self._size is None:
                self._add(index, entry)
            elif index == self._considered:
                self._add(index, entry)
                self._considered += 1

    @property
    def considered(self) -> int:
        """How many entries of the log the index has considered (with ``size``)."""
        return self._considered

    def catch_up(self) -> int:
        """Index the entries the log gained since the last index considered, whoever
        appended them (read through ``read``); returns how many were read. Without ``size``,
        nothing. Raises what ``size`` and ``read`` raise (the log is unavailable)."""
        if self._size is None:
            return 0
        with self._catching:
            size = self._size()
            read = 0
            while True:
                with self._lock:
                    index = self._considered
                if index >= size:
                    return read
                _, entry = decode_entry(self._read(index))  # outside the lock: a log read
                read += 1
                with self._lock:
                    if index == self._considered:  # not noted while it was read
                        self._add(index, entry)
                        self._considered += 1

    def _add(self, index: int, entry: AuditEntry) -> bool:
        """Under ``_lock`` (or before the index is shared)."""
        if _access(index, entry) is None or entry.subject is None:
            return False
        self._by_subject[entry.subject].append(index)
        return True

    def of(self, subject: str) -> list[LoggedAccess]:
        """The accesses to ``subject``'s data, oldest first, as the log holds them now
        (caught up first: every process's appends are included)."""
        self.catch_up()
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
