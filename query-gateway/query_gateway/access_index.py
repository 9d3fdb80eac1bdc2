"""`AccessIndex`: a subject's "who accessed my data", built from the audit log itself.

Every answer about a subject is an ``allow`` entry of a bank in the audit log, with the
subject's pseudonym, the computation, the purpose and the access request. At start-up the
gateway reads the log once (`scan`) and keeps, per pseudonym, only the positions of the
entries that are accesses (compact integer arrays: nothing for the garbage collector to walk,
8 bytes an answer); every later answer is noted as its entry becomes durable (`note`). `of`
reads those entries back from the log. So the view shows exactly what the log holds, each
access with its entry's index, which an auditor can prove included in a signed checkpoint;
there is no second record that could disagree with the log.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from query_gateway.audit_sink import AuditEntry

ACCESS_ROLES = frozenset({"bank"})
QUOTA_ACTIONS = frozenset({"POST /v1/scores", "POST /v1/aggregates"})
_SUBJECT_NULL = b'"subject":null'


@dataclass(frozen=True, slots=True)
class LoggedAccess:
    index: int
    at: dt.datetime
    bank_id: str
    computation: str
    purpose: str
    access_request_id: str


def _access(index: int, doc: dict[str, Any]) -> LoggedAccess | None:
    if doc.get("decision") != "allow" or doc.get("role") not in ACCESS_ROLES:
        return None
    if not doc.get("subject") or not doc.get("computation"):
        return None
    at = dt.datetime.strptime(doc["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return LoggedAccess(index, at, doc["actor"], doc["computation"], doc.get("purpose") or "",
                        doc.get("access_request") or "")  # fmt: skip


class AccessIndex:
    def __init__(self, read: Callable[[int], bytes]) -> None:
        """``read(index)``: the log's leaf data of entry ``index``."""
        self._read = read
        self._by_subject: dict[str, array[int]] = defaultdict(lambda: array("q"))
        self._lock = threading.Lock()
        self.answered: dict[str, int] = defaultdict(int)  # per access request, at `scan`

    def _count(self, doc: dict[str, Any]) -> None:
        """Answers the log holds per access request: a floor for the quota used (previews
        of aggregates count too, so after a crash the floor errs on the side of refusing)."""
        counted = doc.get("action") in QUOTA_ACTIONS and doc.get("role") in ACCESS_ROLES
        if counted and doc.get("decision") == "allow" and doc.get("access_request"):
            self.answered[doc["access_request"]] += 1

    def scan(self, entries: Iterable[bytes]) -> int:
        """Index every access in ``entries`` (the log's leaf data, in order); returns how many."""
        found = 0
        for position, raw in enumerate(entries):
            if b'"decision":"allow"' not in raw or b'"access_request":null' in raw:
                continue  # most entries answered nothing under an approval: skip them unparsed
            doc = json.loads(raw)
            self._count(doc)
            if _SUBJECT_NULL in raw:
                continue
            access = _access(int(doc.get("index", position)), doc)
            if access is not None:
                with self._lock:
                    self._by_subject[doc["subject"]].append(access.index)
                found += 1
        return found

    def note(self, index: int, entry: AuditEntry) -> None:
        """Record a durable entry if it is an access."""
        access = _access(index, asdict(entry))
        if access is not None and entry.subject is not None:  # an access names its subject
            with self._lock:
                self._by_subject[entry.subject].append(index)

    def of(self, subject: str) -> list[LoggedAccess]:
        """The accesses to ``subject``'s data, oldest first, as the log holds them now."""
        with self._lock:
            indices = sorted(self._by_subject.get(subject, ()))
        found = []
        for index in indices:
            doc = json.loads(self._read(index))
            access = _access(index, doc)
            if access is None or doc.get("subject") != subject:
                raise ValueError(f"audit entry {index} is not an access to this subject")
            found.append(access)
        return found
