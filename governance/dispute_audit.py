"""The auditor's check of disputes' deadlines, from the anchored dispute log alone.

Every event's leaf is recomputed from its canonical entry and the tree over the first S
events must have the root anchored on the ledger (``CONSENT_LOG`` with the dispute log's
metadata digest, `governance.dispute_log`) with size S, for the largest anchored S;
otherwise `VerificationError` (``dispute-log``). Events after the last anchor are not used
(the note says how many). Then, for every dispute opened in that prefix:

- its deadline must be `DISPUTE_DAYS` after its opening, as the entry states;
- no event may claim a time later than the block of the first anchor that covers it (plus
  `CLOCK_TOLERANCE` for a node's clock): the gateway cannot post-date an opening to gain
  time, nor record an answer it has not given yet;
- its answer is *on time* if it claims a time before the deadline and was first anchored
  before the deadline (plus `ANCHOR_GRACE`): an answer backdated in a log anchored later is
  late; an answer not in the anchored prefix, once the deadline has passed (by the
  auditor's clock ``now``), is *unanswered*.

`dispute_deadlines` returns the count and the findings: each names the dispute, its table
and provider, when it was opened, its deadline and what happened.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from audit import VerificationError, merkle
from governance.db import session_factory
from governance.dispute_log import KIND, METADATA
from governance.dispute_models import DisputeEvent
from governance.disputes import DISPUTE_DAYS
from ledger import LedgerEvent

__all__ = ["ANCHOR_GRACE", "CLOCK_TOLERANCE", "DeadlineFinding", "dispute_deadlines"]

CLOCK_TOLERANCE = dt.timedelta(minutes=5)
ANCHOR_GRACE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class DeadlineFinding:
    dispute_id: str
    table: str | None
    provider: str | None
    opened_at: dt.datetime
    due_at: dt.datetime
    answered_at: dt.datetime | None  # the time it was proved by its anchor, if answered
    problem: str  # answered_late | unanswered

    def describe(self) -> str:
        what = f"{self.table} of {self.provider}" if self.table else "the score (officers)"
        when = (f"answered {self.answered_at:%Y-%m-%d %H:%M} UTC, after"
                if self.answered_at else "not answered by")  # fmt: skip
        return (f"dispute {self.dispute_id} ({what}), opened {self.opened_at:%Y-%m-%d %H:%M} "
                f"UTC: {when} its deadline {self.due_at:%Y-%m-%d %H:%M} UTC")  # fmt: skip


@dataclass(frozen=True)
class _Event:
    seq: int
    entry: dict[str, Any]
    at: dt.datetime
    anchored_at: dt.datetime  # the block time of the first anchor covering it


def dispute_deadlines(
    engine: Engine, chain: Iterable[LedgerEvent], now: dt.datetime
) -> tuple[int, list[DeadlineFinding], list[str]]:
    """(disputes checked, findings, notes); see the module docstring. Raises
    `VerificationError` (``dispute-log``) when the log does not match its anchors."""
    entries = _entries(engine)
    anchors = {_size(e): e for e in chain if _is_dispute_anchor(e)}
    if not anchors:
        return 0, [], [f"dispute log: no anchored root; {len(entries)} events not used"]
    events = _authenticated(entries, anchors)
    notes = []
    if len(entries) > len(events):
        notes.append(f"dispute log: {len(entries) - len(events)} events after the last "
                     "anchor not used")  # fmt: skip
    opened = [e for e in events if e.entry["event"] == "opened"]
    findings = [f for e in opened if (f := _finding(e, events, now)) is not None]
    return len(opened), findings, notes


def _entries(engine: Engine) -> list[str]:
    if "dispute_events" not in inspect(engine).get_table_names():
        return []
    with session_factory(engine)() as s:
        return list(s.scalars(select(DisputeEvent.entry).order_by(DisputeEvent.seq)))


def _is_dispute_anchor(e: LedgerEvent) -> bool:
    return (e.name == "Anchored" and e.args.get("kind") == KIND
            and e.args.get("metadataDigest") == METADATA)  # fmt: skip


def _size(e: LedgerEvent) -> int:
    size = e.args["size"]
    assert isinstance(size, int)
    return size


def _authenticated(entries: list[str], anchors: dict[int, LedgerEvent]) -> list[_Event]:
    size = max(anchors)
    if size > len(entries):
        raise VerificationError("dispute-log", f"an anchor covers {size} dispute events, the "
                                f"database has {len(entries)}", expected=str(size),
                                actual=str(len(entries)))  # fmt: skip
    root = merkle.root([merkle.leaf_hash(e.encode()) for e in entries[:size]])
    if root != anchors[size].args["root"]:
        raise VerificationError("dispute-log", f"the first {size} dispute events do not have "
                                "the anchored root", actual=root.hex())  # fmt: skip
    sizes = sorted(anchors)
    return [_event(i, entries[i], anchors[next(s for s in sizes if s > i)]) for i in range(size)]


def _event(i: int, text: str, anchor: LedgerEvent) -> _Event:
    entry = json.loads(text)
    time = anchor.args["time"]
    assert isinstance(time, int)
    anchored_at = dt.datetime.fromtimestamp(time, dt.UTC)
    at = _utc(entry["at"])
    if at > anchored_at + CLOCK_TOLERANCE:
        raise VerificationError("dispute-log", f"dispute event {i + 1} ({entry['event']} of "
                                f"{entry.get('dispute') or entry.get('reference')}) claims {at:%Y-%m-%d %H:%M} UTC, after it "
                                f"was anchored at {anchored_at:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    return _Event(i + 1, entry, at, anchored_at)


def _finding(opened: _Event, events: list[_Event], now: dt.datetime) -> DeadlineFinding | None:
    entry = opened.entry
    due = opened.at + dt.timedelta(days=DISPUTE_DAYS)
    if _utc(entry["due"]) != due:
        raise VerificationError("dispute-log", f"dispute {entry['dispute']}: its deadline is "
                                f"not {DISPUTE_DAYS} days after its opening",
                                expected=due.isoformat(), actual=entry["due"])  # fmt: skip
    answer = next((e for e in events if e.entry.get("dispute") == entry["dispute"]
                   and e.entry["event"] == "answered"), None)  # fmt: skip
    if answer is not None and answer.at <= due and answer.anchored_at <= due + ANCHOR_GRACE:
        return None
    if answer is None and now <= due:
        return None  # still open, and still in time
    proved = None if answer is None else max(answer.at, answer.anchored_at)
    return DeadlineFinding(entry["dispute"], entry["table"], entry["provider"], opened.at, due,
                           proved, "unanswered" if answer is None else "answered_late")  # fmt: skip


def _utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)
