"""The dispute log: an append-only list of dispute events whose Merkle root is anchored.

Every opening, escalation and answer of a dispute is one leaf: the RFC 6962 leaf hash of
the RFC 8785 canonical entry (`opened`: the dispute, what it concerns — the record's table,
contribution, leaf index and digest, or the score —, the resident as a keyed digest, the
SHA-256 of what they sent, when, and the deadline; `answered`: the outcome, the SHA-256 of
the note, the correcting contribution and its root, the provider's signing key and the
SHA-256 of its signature over the answer, when; `escalated`: when). So is every change of
what counts about a person made outside a contribution (`add_change`, event
``row_changed``): a granted repair (``repaired``, from its day) and a deletion by a
dispute's answer (``deleted``), each naming the row (table, contribution, leaf index,
digest), its provider, the day it takes effect and its reference (the repair or the
dispute, as the vault's ``row_changes`` records it); `governance.row_change_audit` checks
the vault against them. After each
event the root over all leaves is anchored on the ledger as ``CONSENT_LOG`` with the
metadata digest `METADATA` (a kind the gateway account may write; the digest keeps the two
logs apart, so no contract change was needed), signed by the gateway's account.

The event is added in the caller's transaction (`add`), so a dispute's row and its leaf
commit together; `anchor` runs after the commit. Anchoring is best effort: a dispute is
opened and answered whether or not the ledger answers, and the next anchor covers it.
Callers hold one lock around a transaction and its anchor, so leaves are committed in
sequence order and every anchored size is a prefix of the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import rfc8785
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from audit import merkle
from governance.dispute_models import DisputeEvent
from ledger import AlreadyAnchoredError, AnchorKind, Ledger, LedgerError, Role

__all__ = ["CHANGED", "KIND", "METADATA", "DisputeLog", "RowChange"]

METADATA = hashlib.sha256(b"dexin.dispute-log.v1").digest()
KIND = AnchorKind.CONSENT_LOG
CHANGED = "row_changed"


@dataclass(frozen=True)
class RowChange:
    """A change of a stored row made outside a contribution: ``change`` is ``repaired`` or
    ``deleted``, ``reference`` the repair or dispute it comes from (the vault's reference)."""

    change: str
    reference: str
    provider: str
    table: str
    contribution: str
    row: int
    row_digest: str
    effective: dt.date

    def fields(self) -> dict[str, Any]:
        return {"change": self.change, "reference": self.reference, "provider": self.provider,
                "table": self.table, "contribution": self.contribution, "row": self.row,
                "row_digest": self.row_digest, "effective": self.effective.isoformat()}  # fmt: skip

    def describe(self) -> str:
        what = "repair" if self.change == "repaired" else "deletion by dispute"
        return (f"{what} {self.reference} ({self.table} of {self.provider}, row {self.row} of "
                f"{self.contribution}, from {self.effective.isoformat()})")  # fmt: skip


class DisputeLog:
    def __init__(self, sessions: sessionmaker[Session], ledger: Ledger, signer: str) -> None:
        self.sessions = sessions
        self.ledger = ledger
        self.signer = signer

    @staticmethod
    def add(
        s: Session, dispute_id: str, event: str, at: dt.datetime, fields: dict[str, Any]
    ) -> None:
        """Add one event to the log inside the caller's transaction ``s``."""
        entry = rfc8785.dumps({"dispute": dispute_id, "event": event,
                               "at": at.isoformat(), **fields})  # fmt: skip
        s.add(DisputeEvent(dispute_id=dispute_id, event=event, entry=entry.decode(),
                           leaf_hash=merkle.leaf_hash(entry).hex(), at=at))  # fmt: skip

    @staticmethod
    def add_change(s: Session, change: RowChange, at: dt.datetime) -> None:
        """Add a row's change to the log inside the caller's transaction ``s`` (its leaf's
        ``dispute`` column holds the change's reference)."""
        entry = rfc8785.dumps({"event": CHANGED, "at": at.isoformat(), **change.fields()})
        s.add(DisputeEvent(dispute_id=change.reference, event=CHANGED, entry=entry.decode(),
                           leaf_hash=merkle.leaf_hash(entry).hex(), at=at))  # fmt: skip

    def state(self) -> tuple[int, bytes]:
        """The log's size and root (the empty root of an empty log)."""
        with self.sessions() as s:
            hashes = s.scalars(select(DisputeEvent.leaf_hash).order_by(DisputeEvent.seq))
            leaves = [bytes.fromhex(h) for h in hashes]
        return len(leaves), merkle.root(leaves) if leaves else hashlib.sha256(b"").digest()

    def anchor(self) -> str | None:
        """Anchor the current root (best effort); the reference, or None if not anchored now."""
        size, root = self.state()
        if size == 0:
            return None
        try:
            self.ledger.ensure_account(self.signer, Role.GATEWAY)
            done = self.ledger.anchor(KIND, root, size, METADATA, signer=self.signer)
        except (AlreadyAnchoredError, LedgerError):
            return None  # anchored already, or the next event's anchor covers this one
        reference = f"block {done.block_number} tx {done.tx_hash}"
        with self.sessions.begin() as s:
            last = s.scalar(select(DisputeEvent.seq).order_by(DisputeEvent.seq.desc()).limit(1))
            s.execute(update(DisputeEvent).where(DisputeEvent.seq == last).values(anchor=reference))
        return reference

    def last_anchor(self) -> str | None:
        with self.sessions() as s:
            q = select(DisputeEvent.anchor).where(DisputeEvent.anchor.is_not(None))
            return s.scalar(q.order_by(DisputeEvent.seq.desc()).limit(1))
