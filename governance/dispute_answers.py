"""Answering a dispute (征信业管理条例 第二十五条): confirm, correct or delete, within 20 days.

The record's provider answers a record's dispute; the officers answer a dispute of the score
as a whole (confirmed, with their note). Every answer clears the dispute's mark, records
the outcome, the note (sealed) and who answered, and is a leaf of the anchored dispute log
(its closing digest): whether it came before the deadline is then for anyone to check
(``dexin audit verify``). An answer after the deadline is still taken, and stays late.

- ``confirmed``: the record is right; it stays as it is.
- ``deleted``: the row is deleted from the vault (its leaf kept, so its contribution's root
  still verifies) and the scores are recomputed.
- ``corrected`` (`correct_dispute`): the provider uploads a correcting contribution of one
  row restating the record; it goes through the ingest like any contribution (its own
  receipt, its root anchored under the provider's account) and supersedes the disputed row
  in the same vault transaction; the scores are recomputed.

A provider proves its own answer (`governance.answer_signatures`): a confirmation or a
deletion carries its detached signature over the canonical answer, a correction the
provider's signed statement over exactly that upload, naming the dispute (like every
contribution, `governance.contribution_signatures`). Either is verified against the
provider's registered keys before anything changes (`SignatureRefused` otherwise), kept
with the dispute and bound by the ``answered`` leaf; the correction's statement is also kept
with its contribution in the vault. The officers' answers to a score's dispute are theirs
(an officer is authenticated by the console or its token) and carry no provider signature.
A deletion is also a ``row_changed`` leaf of the log (`DisputeLog.add_change`), in the
answer's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any, Literal

from governance.anchoring import anchor_receipt
from governance.answer_signatures import SignedAnswer, answer_fields, check_signed_answer
from governance.contribution_signatures import (
    SignedContribution,
    attestation_document,
    check_signed_contribution,
)
from governance.contributions import RefusedContribution
from governance.credentials import Principal, Role
from governance.dispute_log import RowChange
from governance.dispute_models import Dispute
from governance.disputes import ANSWERED, DisputeDesk, DisputeView, dispute_desk, readable
from governance.errors import Conflict, InvalidRequest, NotFound
from ledger import LedgerError
from vault import (
    Attestation,
    ContributionRefused,
    Receipt,
    RowNotFound,
    RowRef,
    SealedUpload,
    Supersession,
    delete_row,
    ingest_file,
    superseding,
)

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["answer_dispute", "correct_dispute"]

Outcome = Literal["confirmed", "deleted"]


def answer_dispute(
    services: Services, who: Principal, dispute_id: str, outcome: Outcome, note: str,
    audit: dict[str, Any], signed: SignedAnswer | None = None,
) -> DisputeView:  # fmt: skip
    """Confirm, or delete the disputed row; a provider's answer ``signed`` by it. Raises
    `NotFound` (not this caller's to answer), `Conflict` (``dispute_already_answered``),
    `InvalidRequest` (``score_dispute_confirm_only``: a score's dispute is confirmed or
    corrected by a fresh score, never deleted), `SignatureRefused` (``answer_unsigned``,
    ``answer_statement_invalid``, ``answer_signature_invalid``,
    ``answer_statement_mismatch``: nothing changed)."""
    d = dispute_desk(services)
    row = _answerable(services, d, who, dispute_id, audit)
    kept = None
    if who.role is Role.PROVIDER:
        assert who.client_id is not None
        kept = check_signed_answer(signed, client_id=who.client_id, dispute_id=dispute_id,
                                   outcome=outcome, note=note, now=d.now(),
                                   keys=services.control.keys.keys_at(who.client_id))  # fmt: skip
    change = None
    if outcome == "deleted":
        if row.scope != "record":
            raise InvalidRequest(reason="score_dispute_confirm_only")
        change = _delete(services, row, d.now())
    return _close(d, who, dispute_id, outcome, note, None, kept, change)


def correct_dispute(
    services: Services, who: Principal, dispute_id: str, table: str, upload: SealedUpload,
    audit: dict[str, Any], note: str = "", signed: SignedContribution | None = None,
) -> tuple[DisputeView, Receipt]:  # fmt: skip
    """Answer by a correcting contribution (see the module docstring), ``signed`` by the
    provider over exactly ``upload`` (its statement naming ``dispute_id``); its receipt with
    where it is anchored. Raises `SignatureRefused` (``contribution_unsigned``, …: checked
    before a row is read), `RefusedContribution` (it does not restate exactly the disputed
    record), `NotFound`, `Conflict`, `InvalidRequest` (``wrong_table``)."""
    services.require_vault_owner("a correction")
    d = dispute_desk(services)
    row = _answerable(services, d, who, dispute_id, audit)
    if row.scope != "record" or who.role is not Role.PROVIDER:
        raise InvalidRequest(reason="not_a_record_dispute")
    if table != row.table_name:
        raise InvalidRequest(reason="wrong_table")
    assert who.client_id is not None and row.provider is not None
    statement, key = check_signed_contribution(
        signed, client_id=who.client_id, provider=row.provider, table=table,
        file_sha256=upload.sha256, keys=services.control.keys.keys_at(who.client_id),
        dispute=dispute_id,
    )  # fmt: skip
    assert signed is not None
    kept = attestation_document(signed, key)
    receipt = _corrected(services, row, upload, Attestation(statement.rows, kept))
    view = _close(d, who, dispute_id, "corrected", note, receipt, kept)
    return view, receipt


def _answerable(services: Services, d: DisputeDesk, who: Principal, dispute_id: str,
                audit: dict[str, Any]) -> Dispute:  # fmt: skip
    """The open dispute ``who`` may answer: its record's provider; an officer for a
    score's dispute. The audit entry names the resident and the dispute."""
    with d.sessions() as s:
        row = readable(services, s, who, dispute_id)
    audit.update(subject=row.subject, computation="dispute", parameters={"dispute": row.id})
    mine = (who.role is Role.PROVIDER and row.scope == "record") or (
        who.role is Role.OFFICER and row.scope == "score"
    )
    if not mine:
        raise NotFound("dispute_not_found")
    if row.status == ANSWERED:
        raise Conflict("dispute_already_answered")
    return row


def _ref(row: Dispute) -> RowRef:
    assert row.table_name and row.contribution_id and row.row_no is not None
    return RowRef(table=row.table_name, contribution_id=row.contribution_id, row=row.row_no)


def _delete(services: Services, row: Dispute, now: dt.datetime) -> RowChange:
    """Delete the row in the vault; the change the dispute log records."""
    services.require_vault_owner("deleting a disputed record")
    with services.ingest_lock:
        try:
            delete_row(services.vault, _ref(row), now.date(), row.id, now.isoformat())
        except RowNotFound:
            raise Conflict("record_already_changed") from None
        services.scores.refresh()
    assert row.provider and row.table_name and row.contribution_id and row.row_no is not None
    return RowChange("deleted", row.id, row.provider, row.table_name, row.contribution_id,
                     row.row_no, row.row_digest or "", now.date())  # fmt: skip


def _corrected(
    services: Services, row: Dispute, upload: SealedUpload, attestation: Attestation
) -> Receipt:
    """Ingest the correction with the provider's signed statement (idempotent: the same
    file again finds its earlier receipt, if it superseded this very row), anchor its root,
    recompute the scores."""
    ref = _ref(row)
    with services.ingest_lock:
        receipt = _ingest(services, row, ref, upload, attestation)
        if receipt.already_loaded and superseding(services.vault, ref) != receipt.contribution_id:
            raise RefusedContribution(receipt, "correction_must_restate_the_record")
        try:
            anchor = anchor_receipt(services.ledger, services.vault, receipt)
        except LedgerError:
            anchor = None  # recorded unanchored; `dexin ledger anchor` completes it later
        services.scores.refresh()
    return receipt.model_copy(update={"anchor": anchor or receipt.anchor})


def _ingest(services: Services, row: Dispute, ref: RowRef, upload: SealedUpload,
            attestation: Attestation) -> Receipt:  # fmt: skip
    assert row.provider is not None and row.table_name is not None
    try:
        return ingest_file(services.vault, row.provider, row.table_name, upload,
                           supersedes=Supersession(ref, row.id), attestation=attestation)  # fmt: skip
    except ContributionRefused as exc:
        refused = exc.receipt if isinstance(exc.receipt, Receipt) else None
        raise RefusedContribution(refused, exc.reason) from None
    except RowNotFound:
        raise Conflict("record_already_changed") from None


def _close(d: DisputeDesk, who: Principal, dispute_id: str, outcome: str, note: str,
           receipt: Receipt | None, kept: str | None = None,
           change: RowChange | None = None) -> DisputeView:  # fmt: skip
    now = d.now()
    with d.logged() as s:
        row = s.get(Dispute, dispute_id)
        if row is None or row.status == ANSWERED:
            raise Conflict("dispute_already_answered")  # answered meanwhile
        row.status, row.outcome, row.answered_at = ANSWERED, outcome, now
        row.answered_by = who.client_id
        row.note = d.sealer.seal(row.id, "note", note.encode())
        row.correction = receipt.contribution_id if receipt else None
        row.answer_attestation = kept
        d.log.add(s, row.id, "answered", now, _answered_fields(row, note, receipt))
        if change is not None:
            d.log.add_change(s, change, now)
        view = d.view(row, texts=True)
    return view


def _answered_fields(row: Dispute, note: str, receipt: Receipt | None) -> dict[str, Any]:
    return {
        "outcome": row.outcome,
        "by": "provider" if row.scope == "record" else "officer",
        "note_digest": hashlib.sha256(note.encode()).hexdigest(),
        "correction": receipt.contribution_id if receipt else None,
        "correction_root": receipt.merkle_root if receipt else None,
        "due": row.due_at.isoformat(),
        **answer_fields(row.answer_attestation),
    }
