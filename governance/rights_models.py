"""The control plane's tables of residents' rights (issue 18, parts 1, 3 and 4; migration
0007): statements kept with negative records, reviews of automated decisions, banks'
attestations of a human in their decision, and the credit reports issued to residents.

Every row names the resident by pseudonym only; a record by its place in the vault
(table, contribution, leaf index) and its digest, never by its content.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from governance.models import Base, UtcDateTime


class RecordStatement(Base):
    """A resident's explanatory statement on one of their negative records (征信业管理条例
    第十六条); ``short`` is the form returned to banks. Withdrawn, never deleted."""

    __tablename__ = "record_statements"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    table_name: Mapped[str] = mapped_column(String(40))
    contribution_id: Mapped[str] = mapped_column(String(40))
    row_no: Mapped[int] = mapped_column(Integer)
    row_digest: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(1000))
    short: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class ScoreReview(Base):
    """A resident's request for an explanation and a human review of their score (PIPL
    第二十四条), what the score said when asked, and the officer's outcome."""

    __tablename__ = "score_reviews"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    ask: Mapped[str] = mapped_column(String(1000))
    score: Mapped[dict[str, Any]] = mapped_column(JSON)  # the score when the review was asked
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | upheld | corrected | noted
    note: Mapped[str | None] = mapped_column(String(2000), default=None)
    dispute: Mapped[str | None] = mapped_column(String(40), default=None)
    officer_id: Mapped[str | None] = mapped_column(String(40), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class DecisionAttestation(Base):
    """A bank's attestation that a human took part in its decision on an applicant, bound
    to the audit entry of the score it used (PIPL 第二十四条)."""

    __tablename__ = "decision_attestations"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bank_id: Mapped[str] = mapped_column(String(40), index=True)
    audit_index: Mapped[int] = mapped_column(Integer, unique=True)
    request_id: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reviewer_role: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ReportIssue(Base):
    """One credit report issued to a resident (征信业管理条例 第十七条: two free a year):
    its number in the resident's year (China Standard Time) and whether it was free."""

    __tablename__ = "report_issues"
    __table_args__ = (UniqueConstraint("subject", "year", "number"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    free: Mapped[bool] = mapped_column(Boolean)
    form: Mapped[str] = mapped_column(String(8))  # html | pdf | json
    request_id: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
