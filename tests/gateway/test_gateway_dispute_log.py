"""The auditor's check of disputes' deadlines (`governance.dispute_audit`) on a ledger and a
control plane of its own: what the anchored dispute log proves about when each dispute was
answered, and what an operator cannot make it say (a post-dated opening, a backdated answer,
an altered entry). Times are written into the log directly: no clock is waited on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from audit import VerificationError
from dexin.app import open_ledger
from dexin.settings import Settings
from governance.anchoring import GATEWAY_LABEL
from governance.db import migrate, open_engine, session_factory
from governance.dispute_audit import dispute_deadlines
from governance.dispute_log import DisputeLog, RowChange
from governance.dispute_models import DisputeEvent
from governance.row_change_audit import row_change_findings
from ledger import Ledger
from vault.store import Vault

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


@dataclass
class Log:
    sessions: sessionmaker[Session]
    log: DisputeLog
    ledger: Ledger
    engine: object

    def event(self, dispute: str, event: str, at: dt.datetime, anchor: bool = True) -> None:
        fields = {"due": (at + 20 * DAY).isoformat(), "table": "administrative_penalties",
                  "provider": "market_regulation"} if event == "opened" else {"outcome": "confirmed"}  # fmt: skip
        with self.sessions.begin() as s:
            DisputeLog.add(s, dispute, event, at, fields)
        if anchor:
            assert self.log.anchor() is not None

    def check(self, now: dt.datetime = NOW) -> tuple[int, list[str], list[str]]:
        checked, findings, notes = dispute_deadlines(self.engine, self.ledger.events(0), now)  # type: ignore[arg-type]
        return checked, [f"{f.dispute_id}:{f.problem}" for f in findings], notes


@pytest.fixture
def log(settings: Settings, vault: Vault, tmp_path: Path) -> Iterator[Log]:
    engine = open_engine(f"sqlite:///{tmp_path / 'control.sqlite'}")
    migrate(engine)
    sessions = session_factory(engine)
    with open_ledger(settings) as ledger:
        yield Log(sessions, DisputeLog(sessions, ledger, GATEWAY_LABEL), ledger, engine)
    engine.dispose()


def test_deadlines_as_the_anchored_log_proves_them(log: Log) -> None:
    log.event("dsp_in_time", "opened", NOW - 19 * DAY)
    log.event("dsp_in_time", "answered", NOW - DAY)
    log.event("dsp_open", "opened", NOW - 10 * DAY)  # open, and still within its 20 days
    log.event("dsp_never", "opened", NOW - 25 * DAY)
    log.event("dsp_late", "opened", NOW - 30 * DAY)
    log.event("dsp_late", "answered", NOW - DAY)  # 9 days after its deadline
    assert log.check() == (4, ["dsp_never:unanswered", "dsp_late:answered_late"], [])
    assert log.check(NOW + 11 * DAY)[1] == ["dsp_open:unanswered", "dsp_never:unanswered",
                                            "dsp_late:answered_late"]  # fmt: skip


def test_an_answer_backdated_in_a_log_anchored_after_the_deadline_is_late(log: Log) -> None:
    log.event("dsp_back", "opened", NOW - 30 * DAY)
    log.event("dsp_back", "answered", NOW - 15 * DAY)  # claims the deadline; anchored today
    assert log.check()[1] == ["dsp_back:answered_late"]


def test_a_post_dated_opening_fails_the_verification(log: Log) -> None:
    log.event("dsp_gain", "opened", NOW + 3 * DAY)  # to give its provider three more days
    with pytest.raises(VerificationError) as failed:
        log.check()
    assert failed.value.check == "dispute-log" and "after it was anchored" in failed.value.detail


def test_an_altered_entry_fails_the_verification(log: Log) -> None:
    log.event("dsp_a", "opened", NOW - 25 * DAY)
    log.event("dsp_a", "answered", NOW - 20 * DAY)
    with log.sessions.begin() as s:  # the operator rewrites the answer's time behind the log
        entry = s.get(DisputeEvent, 2)
        assert entry is not None
        changed = entry.entry.replace(str((NOW - 20 * DAY).year), "1999")
        s.execute(update(DisputeEvent).where(DisputeEvent.seq == 2).values(entry=changed))
    with pytest.raises(VerificationError) as failed:
        log.check()
    assert failed.value.check == "dispute-log"
    assert "do not have the anchored root" in failed.value.detail


def test_events_after_the_last_anchor_are_not_used(log: Log) -> None:
    log.event("dsp_b", "opened", NOW - 25 * DAY)
    log.event("dsp_b", "answered", NOW - 24 * DAY, anchor=False)  # the ledger did not answer
    checked, findings, notes = log.check()
    assert (checked, findings) == (1, ["dsp_b:unanswered"])
    assert notes == ["dispute log: 1 events after the last anchor not used"]


def _change(reference: str, row: int) -> RowChange:
    return RowChange("repaired", reference, "market_regulation", "administrative_penalties",
                     "c" + "0" * 23, row, "ab" * 32, NOW.date())  # fmt: skip


def test_every_repair_is_compared_with_the_anchored_log_both_ways(log: Log) -> None:
    """A change in the vault but not in the log, one logged but not yet anchored, and a
    leaf the vault does not hold are each named; a change in both is not."""
    logged, waiting, only_logged = _change("rep_a", 1), _change("rep_b", 2), _change("rep_c", 3)
    with log.sessions.begin() as s:
        DisputeLog.add_change(s, logged, NOW)
        DisputeLog.add_change(s, only_logged, NOW)
    assert log.log.anchor() is not None
    with log.sessions.begin() as s:
        DisputeLog.add_change(s, waiting, NOW)  # not anchored (yet)
    vault = [logged, waiting, _change("rep_d", 4)]
    count, findings = row_change_findings(log.engine, log.ledger.events(0), vault)  # type: ignore[arg-type]
    assert count == 3
    assert [f.split(" (")[0] + " " + f.split(") ")[1] for f in findings] == [
        "repair rep_b is in the dispute log but not yet anchored",
        "repair rep_d is not in the anchored dispute log",
        "repair rep_c is in the anchored dispute log but not recorded",
    ]
    assert log.log.anchor() is not None
    assert len(row_change_findings(log.engine, log.ledger.events(0), vault)[1]) == 2  # type: ignore[arg-type]
