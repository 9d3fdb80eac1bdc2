"""Credit repair (信用修复): a negative record stops counting from the day its repair takes
effect (`vault.rows.record_repair`, the registry's publication windows).

- `file_repair`: the record's provider repairs it (its window must allow it: not before
  the window's minimum); granted at once.
- `apply_repair`: the resident applies for the repair of their own record once the
  window's minimum has passed (by the desk's clock); `decide_repair`: its provider grants
  it (from a day it names, by default today) or refuses it, with a note.

A granted repair is recorded in the vault (so the ``src`` views stop counting the row from
its day), the scores are recomputed, and every score of the resident says so in a note of
its reasons (RP01). It is also a ``row_changed`` leaf of the anchored dispute log
(`DisputeLog.add_change`, committed with the repair's row and anchored after it), so an
auditor can check that every repair in the vault was logged, and nothing else
(`governance.row_change_audit`). Applications, decisions and filings are audited requests; reasons and
notes are stored sealed. Refusals: `NotFound` (``record_not_found``, ``repair_not_found``:
not the caller's), `Conflict` (``not_repairable``, ``repair_before_minimum``,
``already_repaired``, ``window_already_ended``, ``repair_already_pending``,
``repair_already_decided``), `InvalidRequest` (``repair_date_in_future``).

A provider proves its own filing and decision (`governance.repair_signatures`): each carries
its detached signature over the canonical repair statement, verified against its registered
keys before anything changes (`SignatureRefused`: ``repair_unsigned``,
``repair_statement_invalid``, ``repair_signature_invalid``, ``repair_statement_mismatch``),
kept with the repair (``attestation``) and bound by a granted repair's ``row_changed`` leaf.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from governance.answer_signatures import SignedAnswer, answer_fields
from governance.credentials import Principal, Role
from governance.dispute_log import RowChange
from governance.dispute_models import Repair
from governance.disputes import dispute_desk, provider_of
from governance.errors import Conflict, InvalidRequest, NotFound
from governance.ids import new_id
from governance.repair_signatures import check_signed_repair
from vault import RowChangeRefused, RowNotFound, RowRef, StoredRecord, find_row, record_repair

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["RepairView", "apply_repair", "decide_repair", "file_repair", "repair_list"]

PENDING, GRANTED, REFUSED = "pending", "granted", "refused"


@dataclass(frozen=True)
class RepairView:
    id: str
    origin: str
    provider: str
    record: RowRef
    record_key: str
    status: str
    applied_at: dt.datetime
    decided_at: dt.datetime | None
    repaired_on: dt.date | None
    reason: str | None = None
    note: str | None = None


def _view(services: Services, r: Repair, texts: bool = False) -> RepairView:
    sealer = dispute_desk(services).sealer
    ref = RowRef(table=r.table_name, contribution_id=r.contribution_id, row=r.row_no)
    reason = sealer.open(r.id, "reason", r.reason).decode() if texts and r.reason else None
    note = sealer.open(r.id, "note", r.note).decode() if texts and r.note else None
    return RepairView(id=r.id, origin=r.origin, provider=r.provider, record=ref,
                      record_key=r.record_key, status=r.status, applied_at=r.applied_at,
                      decided_at=r.decided_at, repaired_on=r.repaired_on, reason=reason,
                      note=note)  # fmt: skip


def _record(services: Services, ref: RowRef) -> StoredRecord:
    try:
        return find_row(services.vault, ref)
    except RowNotFound:
        raise NotFound("record_not_found") from None


def _row(found: StoredRecord, origin: str, now: dt.datetime) -> Repair:
    return Repair(id=new_id("rep"), origin=origin, subject=found.subject,
                  provider=found.provider, table_name=found.ref.table,
                  contribution_id=found.ref.contribution_id, row_no=found.ref.row,
                  row_digest=found.row_digest, record_key=found.key[:64], applied_at=now,
                  status=PENDING)  # fmt: skip


def _repair_in_vault(services: Services, ref: RowRef, on: dt.date, reference: str) -> None:
    """Record the repair and recompute the scores (one writer at a time)."""
    services.require_vault_owner("a repair")
    if on > dispute_desk(services).now().date():
        raise InvalidRequest(reason="repair_date_in_future")
    with services.ingest_lock:
        try:
            record_repair(
                services.vault, ref, on, reference, dispute_desk(services).now().isoformat()
            )
        except RowChangeRefused as exc:
            raise Conflict(exc.reason) from None
        except RowNotFound:
            raise NotFound("record_not_found") from None
        services.scores.refresh()


@dataclass(frozen=True)
class _SignedChange(RowChange):
    """A repair's change with what its leaf binds of the provider's signature."""

    signature: dict[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), **self.signature}


def _signed(services: Services, who: Principal, signed: SignedAnswer | None, *,
            repair: str | None, record: RowRef | None, decision: str, on: dt.date | None,
            note: str) -> str:  # fmt: skip
    assert who.client_id is not None
    named = None if record is None else {"table": record.table,
                                         "contribution_id": record.contribution_id,
                                         "row": record.row}  # fmt: skip
    return check_signed_repair(signed, client_id=who.client_id, repair=repair, record=named,
                               decision=decision, repaired_on=on, note=note,
                               keys=services.control.keys.keys_at(who.client_id),
                               now=dispute_desk(services).now())  # fmt: skip


def file_repair(services: Services, who: Principal, ref: RowRef, on: dt.date | None,
                note: str, audit: dict[str, Any],
                signed: SignedAnswer | None = None) -> RepairView:  # fmt: skip
    """The provider repairs its own record from ``on`` (default: today by the clock),
    ``signed`` by it (see the module docstring)."""
    d = dispute_desk(services)
    found = _record(services, ref)
    if found.provider != provider_of(services, who):
        raise NotFound("record_not_found")
    kept = _signed(services, who, signed, repair=None, record=ref, decision=GRANTED, on=on,
                   note=note)  # fmt: skip
    repair = _row(found, "provider", d.now())
    audit.update(subject=found.subject, computation="repair", parameters={"repair": repair.id})
    day = on or d.now().date()
    _repair_in_vault(services, ref, day, repair.id)
    repair.status, repair.decided_at, repair.decided_by = GRANTED, d.now(), who.client_id
    repair.repaired_on = day
    repair.note = d.sealer.seal(repair.id, "note", note.encode())
    repair.attestation = kept
    with d.logged() as s:
        s.add(repair)
        d.log.add_change(s, _change(repair, day), d.now())
    return _view(services, repair, texts=True)


def _change(r: Repair, day: dt.date) -> RowChange:
    return _SignedChange("repaired", r.id, r.provider, r.table_name, r.contribution_id,
                         r.row_no, r.row_digest, day, answer_fields(r.attestation))  # fmt: skip


def apply_repair(services: Services, subject: str, ref: RowRef, reason: str,
                 audit: dict[str, Any]) -> RepairView:  # fmt: skip
    """The resident applies for the repair of their own record (see the module docstring)."""
    d = dispute_desk(services)
    found = _record(services, ref)
    if found.subject != subject:
        raise NotFound("record_not_found")
    _check_applicable(found, d.now().date())
    repair = _row(found, "resident", d.now())
    repair.reason = d.sealer.seal(repair.id, "reason", reason.encode())
    audit.update(subject=subject, computation="repair", parameters={"repair": repair.id})
    with d.sessions.begin() as s:
        pending = select(Repair.id).where(Repair.contribution_id == ref.contribution_id,
                                          Repair.row_no == ref.row, Repair.status == PENDING)  # fmt: skip
        if s.scalar(pending.limit(1)) is not None:
            raise Conflict("repair_already_pending")
        s.add(repair)
    return _view(services, repair, texts=True)


def _check_applicable(found: StoredRecord, today: dt.date) -> None:
    if found.repairable_from is None:
        raise Conflict("not_repairable")
    if found.repaired_on is not None:
        raise Conflict("already_repaired")
    if today < found.repairable_from:
        raise Conflict("repair_before_minimum")


def decide_repair(
    services: Services, who: Principal, repair_id: str, decision: Literal["granted", "refused"],
    on: dt.date | None, note: str, audit: dict[str, Any], signed: SignedAnswer | None = None,
) -> RepairView:  # fmt: skip
    """The provider grants (from ``on``, default today) or refuses a resident's application,
    ``signed`` by it (see the module docstring)."""
    d = dispute_desk(services)
    with d.sessions() as s:
        repair = s.get(Repair, repair_id)
    if repair is None or repair.provider != provider_of(services, who):
        raise NotFound("repair_not_found")
    audit.update(subject=repair.subject, computation="repair", parameters={"repair": repair.id})
    if repair.status != PENDING:
        raise Conflict("repair_already_decided")
    kept = _signed(services, who, signed, repair=repair_id, record=None, decision=decision,
                   on=on if decision == GRANTED else None, note=note)  # fmt: skip
    day = on or d.now().date()
    if decision == GRANTED:
        ref = RowRef(table=repair.table_name, contribution_id=repair.contribution_id,
                     row=repair.row_no)  # fmt: skip
        _repair_in_vault(services, ref, day, repair.id)
    with d.logged() as s:
        row = s.get(Repair, repair_id)
        assert row is not None
        row.status, row.decided_at, row.decided_by = decision, d.now(), who.client_id
        row.repaired_on = day if decision == GRANTED else None
        row.note = d.sealer.seal(row.id, "note", note.encode())
        row.attestation = kept
        if decision == GRANTED:
            d.log.add_change(s, _change(row, day), d.now())
        view = _view(services, row, texts=True)
    return view


def repair_list(services: Services, who: Principal) -> list[RepairView]:
    """The resident's own repairs (with reasons and notes), a provider's (its records'), or
    every repair for officers, auditors and admins; pending ones first."""
    q = select(Repair)
    texts = who.role in (Role.SUBJECT, Role.PROVIDER)
    if who.role is Role.SUBJECT:
        q = q.where(Repair.subject == who.subject)
    elif who.role is Role.PROVIDER:
        q = q.where(Repair.provider == provider_of(services, who))
    with dispute_desk(services).sessions() as s:
        rows = list(s.scalars(q))
    rows.sort(key=lambda r: (r.status != PENDING, r.applied_at))
    return [_view(services, r, texts) for r in rows]
