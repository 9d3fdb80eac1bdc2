"""Request and response bodies of the residents' rights (issue 18): the credit report,
statements, reviews and banks' attestations. Frozen and strict like every body
(`query_gateway.schemas`); no field holds an ID number or a pseudonym."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from governance import (
    SHORT_MAX,
    TEXT_MAX,
    CreditReport,
    DecisionAttestation,
    RecordLine,
    RecordStatement,
    ScoreReview,
    consent_status,
)
from query_gateway.schemas import AwareTime, Strict
from vault import RowRef, StoredRecord

ContributionId = Annotated[str, StringConstraints(pattern=r"^c[0-9a-f]{23}$")]
TableName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
DisputeId = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,8}_[0-9a-f]{16,24}$")]
Role = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]


class RecordRef(Strict):
    """A stored record: its table, contribution and leaf index (as the report lists it)."""

    table: TableName
    contribution_id: ContributionId
    row: int = Field(ge=0, lt=2**31)

    def vault_ref(self) -> RowRef:
        return RowRef(table=self.table, contribution_id=self.contribution_id, row=self.row)


class StatementCreate(Strict):
    record: RecordRef
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    short: str = Field(min_length=1, max_length=SHORT_MAX, description="the form banks receive")


class StatementPublic(Strict):
    id: str
    record: RecordRef
    text: str
    short: str
    created_at: dt.datetime
    withdrawn_at: dt.datetime | None

    @classmethod
    def of(cls, s: RecordStatement) -> StatementPublic:
        ref = RecordRef(table=s.table_name, contribution_id=s.contribution_id, row=s.row_no)
        return cls(id=s.id, record=ref, text=s.text, short=s.short, created_at=s.created_at,
                   withdrawn_at=s.withdrawn_at)  # fmt: skip


class ReviewCreate(Strict):
    ask: str = Field(min_length=1, max_length=1000, description="what the resident asks")


class ReviewPublic(Strict):
    id: str
    ask: str
    status: Literal["open", "upheld", "corrected", "noted"]
    requested_at: dt.datetime
    due_at: dt.datetime
    decided_at: dt.datetime | None
    note: str | None
    dispute: str | None
    late: bool

    @classmethod
    def of(cls, r: ScoreReview, now: dt.datetime) -> ReviewPublic:
        return cls(id=r.id, ask=r.ask, status=r.status, requested_at=r.requested_at,  # type: ignore[arg-type]
                   due_at=r.due_at, decided_at=r.decided_at, note=r.note, dispute=r.dispute,
                   late=(r.decided_at or now) > r.due_at)  # fmt: skip


class ReviewQueuePublic(Strict):
    """A review in the officers' queue: its clock only (the case is opened one by one)."""

    id: str
    requested_at: dt.datetime
    due_at: dt.datetime
    late: bool


class RecordPublic(Strict):
    record: RecordRef
    provider: str
    key: str
    values: dict[str, str | None]
    negative: bool
    status: Literal["counts", "lapsed", "repaired", "expired"]
    used: bool
    received_at: str | None = None
    statement: str | None = None
    disputed: bool = False  # under an open dispute (Art. 25)

    @classmethod
    def of(cls, line: RecordLine) -> RecordPublic:
        r = line.record
        ref = RecordRef(table=r.ref.table, contribution_id=r.ref.contribution_id, row=r.ref.row)
        text = line.statement.text if line.statement is not None else None
        return cls(record=ref, provider=r.provider, key=r.key, values=r.values,
                   negative=r.negative, status=r.status, used=line.used,
                   received_at=line.received_at, statement=text,
                   disputed=line.disputed)  # fmt: skip

    @classmethod
    def of_case(cls, r: StoredRecord, statements: dict[tuple[str, str, int], str]) -> RecordPublic:
        """A record the score uses, as a review's case shows it."""
        ref = RecordRef(table=r.ref.table, contribution_id=r.ref.contribution_id, row=r.ref.row)
        text = statements.get((r.ref.table, r.ref.contribution_id, r.ref.row))
        return cls(record=ref, provider=r.provider, key=r.key, values=r.values,
                   negative=r.negative, status=r.status, used=True, statement=text)  # fmt: skip


class ReviewCasePublic(Strict):
    """What the officer decides on: the ask, the score then and now, the features, and the
    records the score uses with the resident's statements."""

    review: ReviewPublic
    score_when_asked: dict[str, Any]
    score_now: dict[str, Any]
    features: list[dict[str, Any]]
    records: list[RecordPublic]


class OutcomeCreate(Strict):
    outcome: Literal["upheld", "corrected", "noted"]
    note: str = Field(min_length=1, max_length=2000)
    dispute: DisputeId | None = Field(default=None, description="required for corrected")


class AttestationCreate(Strict):
    """A bank's attestation that a human took part in its decision on the applicant of the
    score logged at ``audit_index`` (the score answer's ``audit.index`` and ``request_id``)."""

    audit_index: int = Field(ge=0)
    request_id: Annotated[str, StringConstraints(pattern=r"^req_[0-9a-f]{20}$")]
    outcome: Literal["approved", "declined", "referred"]
    reviewer_role: Role
    decided_at: AwareTime


class AttestationPublic(Strict):
    id: str
    audit_index: int
    request_id: str
    outcome: str
    reviewer_role: str
    decided_at: dt.datetime
    recorded_at: dt.datetime

    @classmethod
    def of(cls, a: DecisionAttestation) -> AttestationPublic:
        return cls(id=a.id, audit_index=a.audit_index, request_id=a.request_id,
                   outcome=a.outcome, reviewer_role=a.reviewer_role, decided_at=a.decided_at,
                   recorded_at=a.recorded_at)  # fmt: skip


class IssuePublic(Strict):
    id: str
    year: int
    number: int
    free: bool
    free_left: int
    free_per_year: int
    issued_at: dt.datetime


class TablePublic(Strict):
    table: str
    zh: str
    en: str
    dimension: str
    negative: bool
    records: list[RecordPublic]


class AccessProofPublic(Strict):
    """A bank's access and its `dexin audit prove` document (None until a signed
    checkpoint covers it)."""

    at: dt.datetime
    bank: str
    bank_id: str
    computation: str
    purpose: str
    access_request_id: str
    audit_index: int
    proof: dict[str, Any] | None


class ReportPublic(Strict):
    """The resident's credit report (征信业管理条例 第十七条), as JSON."""

    issue: IssuePublic
    as_of: dt.date
    tables: list[TablePublic]
    score: dict[str, Any]
    history: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    accesses: list[AccessProofPublic]
    checkpoint: str | None
    reviews: list[ReviewPublic]
    attestations: list[AttestationPublic]
    reports_issued: list[dict[str, Any]]


def report_public(report: CreditReport, names: dict[str, str], free_per_year: int,
                  now: dt.datetime) -> ReportPublic:  # fmt: skip
    """The report as its JSON document (``names``: client id → display name)."""
    issue = report.issue
    return ReportPublic(
        issue=IssuePublic(id=issue.id, year=issue.year, number=issue.number, free=issue.free,
                          free_left=issue.free_left, free_per_year=free_per_year,
                          issued_at=issue.issued_at),
        as_of=report.as_of,
        tables=[TablePublic(table=t.name, zh=t.zh, en=t.en, dimension=t.dimension,
                            negative=t.negative, records=[RecordPublic.of(x) for x in t.lines])
                for t in report.tables],
        score=report.score, history=report.history,
        consents=[{"id": c.id, "bank": names.get(c.bank_id, c.bank_id), "purpose": c.purpose,
                   "covers": list(c.covers), "created_at": c.created_at,
                   "expires_at": c.expires_at, "status": consent_status(c)}
                  for c in report.consents],
        accesses=[AccessProofPublic(bank=names.get(a["bank_id"], a["bank_id"]), **a)
                  for a in report.accesses],
        checkpoint=report.checkpoint,
        reviews=[ReviewPublic.of(r, now) for r in report.reviews],
        attestations=[AttestationPublic.of(a) for a in report.attestations],
        reports_issued=[{"year": p.year, "number": p.number, "free": p.free, "form": p.form,
                         "issued_at": p.issued_at} for p in report.past],
    )  # fmt: skip
