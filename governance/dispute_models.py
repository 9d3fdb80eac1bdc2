"""The control plane's tables of disputes and credit repair (issue 18, parts 2 and 5;
migrations 0008, 0009, 0013).

``disputes``: a resident's dispute (异议) of one record or of the score as a whole, its clock
(``received_at``, ``due_at``: 20 days), escalation and answer. The reason, the answer's note
and the attachment are stored sealed (AES-256-GCM, `governance.attachments`); a record is
named by its place in the vault (table, contribution, leaf index) and its digest, never by
its content. ``dispute_events``: the dispute log, one leaf per opening, escalation and
answer, whose root is anchored (`governance.dispute_log`). ``repairs``: repairs (信用修复)
of records, applied for by residents and decided by providers, or filed by providers.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.models import Base, UtcDateTime


class Dispute(Base):
    """One dispute; ``status`` is open, escalated (open past its clock) or answered."""

    __tablename__ = "disputes"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(8))  # record | score
    provider: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    table_name: Mapped[str | None] = mapped_column(String(40), default=None)
    contribution_id: Mapped[str | None] = mapped_column(String(40), default=None)
    row_no: Mapped[int | None] = mapped_column(Integer, default=None)
    row_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    record_key: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    content_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of reason + attachment
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # sealed
    attachment_name: Mapped[str | None] = mapped_column(String(128), default=None)
    attachment_type: Mapped[str | None] = mapped_column(String(64), default=None)
    attachment_size: Mapped[int | None] = mapped_column(Integer, default=None)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    note: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # sealed
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    answered_by: Mapped[str | None] = mapped_column(String(40), default=None)
    correction: Mapped[str | None] = mapped_column(String(40), default=None)
    # the provider's signed statement of its answer (migration 0009)
    answer_attestation: Mapped[str | None] = mapped_column(Text, default=None)


class DisputeEvent(Base):
    """The dispute log: one leaf per event (RFC 8785 entry); roots are anchored."""

    __tablename__ = "dispute_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(String(40), index=True)
    event: Mapped[str] = mapped_column(String(16))
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[str | None] = mapped_column(String(128), default=None)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class Repair(Base):
    """A repair (信用修复) of one record: applied for by its resident after its window's
    minimum (``origin`` resident: pending, then granted or refused by the provider) or filed
    by its provider (granted at once). ``repaired_on``: the day it takes effect."""

    __tablename__ = "repairs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    origin: Mapped[str] = mapped_column(String(8))  # resident | provider
    subject: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(40), index=True)
    table_name: Mapped[str] = mapped_column(String(40))
    contribution_id: Mapped[str] = mapped_column(String(40))
    row_no: Mapped[int] = mapped_column(Integer)
    row_digest: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # sealed
    applied_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(40), default=None)
    note: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # sealed
    repaired_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # the provider's signed statement of its filing or decision (migration 0013)
    attestation: Mapped[str | None] = mapped_column(Text, default=None)
