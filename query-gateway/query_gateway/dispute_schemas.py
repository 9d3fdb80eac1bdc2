"""Request and response bodies of disputes and credit repair (issue 18, parts 2 and 5).

Frozen and strict like every body (`query_gateway.schemas`). A record is named by its place
in the vault (`rights_schemas.RecordRef`: table, contribution, leaf index), never by an ID
number or a pseudonym; a dispute's reason and its answer's note are returned only to those
who may read them (the resident, the record's provider, the officers).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from governance import MEDIA_TYPES, DisputeView, RepairView, SignedAnswer
from query_gateway.rights_schemas import RecordRef
from query_gateway.schemas import Strict
from vault import Receipt, RowRef

TEXT_MAX = 2000
MediaType = Literal["application/pdf", "image/png", "image/jpeg", "text/plain"]
assert set(MediaType.__args__) == set(MEDIA_TYPES)  # type: ignore[attr-defined]


def _ref(ref: RowRef | None) -> RecordRef | None:
    if ref is None:
        return None
    return RecordRef(table=ref.table, contribution_id=ref.contribution_id, row=ref.row)


class AttachmentCreate(Strict):
    """A file sent with a dispute: its name, declared type and content (base64); checked
    against its type's first bytes and the size limit (``DEXIN_DISPUTE_ATTACHMENT_MAX``)."""

    name: str = Field(min_length=1, max_length=100)
    media_type: MediaType
    content: str = Field(min_length=1, description="base64 (RFC 4648 §4)")


class DisputeCreate(Strict):
    """``record``: the record disputed; none: the score as a whole."""

    record: RecordRef | None = None
    reason: str = Field(min_length=1, max_length=TEXT_MAX)
    attachment: AttachmentCreate | None = None


class AttachmentPublic(Strict):
    name: str
    media_type: str
    size: int


class DisputePublic(Strict):
    """A dispute and its clock: received, due (20 days later), days left, escalated, late."""

    id: str
    scope: Literal["record", "score"]
    table: str | None
    provider: str | None
    record: RecordRef | None
    row_digest: str | None
    record_key: str | None
    status: Literal["open", "escalated", "answered"]
    received_at: dt.datetime
    due_at: dt.datetime
    days_left: int
    escalated_at: dt.datetime | None
    outcome: Literal["confirmed", "corrected", "deleted"] | None
    answered_at: dt.datetime | None
    correction: str | None  # the correcting contribution
    attachment: AttachmentPublic | None
    late: bool
    reason: str | None
    note: str | None

    @classmethod
    def of(cls, d: DisputeView, now: dt.datetime) -> DisputePublic:
        attachment = None
        if d.attachment is not None:
            name, media_type, size = d.attachment
            attachment = AttachmentPublic(name=name, media_type=media_type, size=size)
        return cls.model_validate(
            {
                **{k: getattr(d, k) for k in ("id", "scope", "table", "provider", "row_digest",
                                              "record_key", "status", "received_at", "due_at",
                                              "escalated_at", "outcome", "answered_at",
                                              "correction", "late", "reason", "note")},
                "record": _ref(d.record), "attachment": attachment, "days_left": d.days_left(now),
            }
        )  # fmt: skip


class AnswerCreate(Strict):
    """Confirm the record (or, for officers, the score), or delete it; correcting goes
    through ``POST /v1/corrections``. A provider signs its answer: ``signature`` is its
    detached JWS (``typ`` ``dexin-dispute-answer+jws``) over the canonical answer naming
    ``answered_at`` exactly as sent (docs/rights.md); unsigned, it is refused (422)."""

    outcome: Literal["confirmed", "deleted"]
    note: str = Field(default="", max_length=TEXT_MAX)
    answered_at: str | None = Field(default=None, max_length=40, pattern=r"^[0-9T:.+Z-]+$")
    signature: str | None = Field(default=None, max_length=2048)


class CorrectionReceipt(Strict):
    """The correcting contribution's receipt: what its anchor binds, and where it is."""

    contribution_id: str
    table: str
    file_sha256: str
    accepted: int
    merkle_root: str
    schema_digest: str
    received_at: str
    anchor: str | None

    @classmethod
    def of(cls, r: Receipt) -> CorrectionReceipt:
        return cls(contribution_id=r.contribution_id, table=r.table, file_sha256=r.file_sha256,
                   accepted=r.accepted, merkle_root=r.merkle_root,
                   schema_digest=r.schema_digest, received_at=r.received_at,
                   anchor=r.anchor)  # fmt: skip


class CorrectionPublic(Strict):
    dispute: DisputePublic
    contribution: CorrectionReceipt


class RepairApply(Strict):
    """A resident's application for the repair of their own record."""

    record: RecordRef
    reason: str = Field(min_length=1, max_length=TEXT_MAX)


class RepairFile(Strict):
    """A provider's repair of its record, effective ``repaired_on`` (default: today). Signed:
    ``signature`` is its detached JWS (``typ`` ``dexin-credit-repair+jws``) over the canonical
    repair naming ``signed_at`` exactly as sent (docs/rights.md); unsigned, it is refused (422)."""

    record: RecordRef
    repaired_on: dt.date | None = None
    note: str = Field(default="", max_length=TEXT_MAX)
    signed_at: str | None = Field(default=None, max_length=40, pattern=r"^[0-9T:.+Z-]+$")
    signature: str | None = Field(default=None, max_length=2048)

    def signed(self) -> SignedAnswer | None:
        return _signed(self.signed_at, self.signature)


class RepairDecision(Strict):
    """A provider's decision on a resident's application, signed like `RepairFile`."""

    decision: Literal["granted", "refused"]
    repaired_on: dt.date | None = None
    note: str = Field(default="", max_length=TEXT_MAX)
    signed_at: str | None = Field(default=None, max_length=40, pattern=r"^[0-9T:.+Z-]+$")
    signature: str | None = Field(default=None, max_length=2048)

    def signed(self) -> SignedAnswer | None:
        return _signed(self.signed_at, self.signature)


def _signed(at: str | None, signature: str | None) -> SignedAnswer | None:
    return None if at is None or signature is None else SignedAnswer(at, signature)


class RepairPublic(Strict):
    id: str
    origin: Literal["resident", "provider"]
    provider: str
    record: RecordRef
    record_key: str
    status: Literal["pending", "granted", "refused"]
    applied_at: dt.datetime
    decided_at: dt.datetime | None
    repaired_on: dt.date | None
    reason: str | None
    note: str | None

    @classmethod
    def of(cls, r: RepairView) -> RepairPublic:
        return cls.model_validate(
            {**{k: getattr(r, k) for k in ("id", "origin", "provider", "record_key", "status",
                                           "applied_at", "decided_at", "repaired_on", "reason",
                                           "note")},
             "record": _ref(r.record)}
        )  # fmt: skip
