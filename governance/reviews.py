"""Explanation and human review of an automated decision (个人信息保护法 第二十四条).

A resident asks why their score is what it is and for a person to look at it
(`request_review`): the review keeps the score as it was when asked and is due
`REVIEW_DAYS` later by the rights clock (`RightsState.now`). While it is open every score
answer about the resident says ``review_pending`` (`governance.statements.answer_notes`). An
officer opens the case (`review_case`: the ask, the score then and now, the features, the
reasons and the records the score uses with the resident's statements — nothing else about
the resident, no identifier) and records an outcome (`decide_review`): ``upheld``,
``corrected`` (through a dispute, named) or ``noted``. Each step is an audited request; the
clocks are what auditors check (`review_clocks`).

Banks attest through the API that a human took part in their decision on an applicant
(`attest_decision`), bound to the audit entry of the score they used.

Raises `NotFound` (``unknown_review``, ``unknown_score_entry``), `Conflict`
(``review_already_open``, ``review_already_decided``, ``already_attested``) and
`InvalidRequest` (``review_text_invalid``, ``dispute_required``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from audit import AuditError, decode_entry
from credit_model import feature_points
from governance.errors import Conflict, InvalidRequest, NotFound
from governance.ids import SHAPE, new_id
from governance.model_runs import feature_row
from governance.record_use import model_spec, used_rows
from governance.rights_models import DecisionAttestation, ScoreReview
from governance.scores import SCORE_ACTION, own_score
from governance.statements import _clean, row_key, statements_of
from vault import StoredRecord, subject_records

if TYPE_CHECKING:
    from governance.services import Services

__all__ = [
    "REVIEW_DAYS",
    "Outcome",
    "ReviewCase",
    "attest_decision",
    "attestations_of",
    "decide_review",
    "open_reviews",
    "request_review",
    "review_case",
    "review_clocks",
    "reviews_of",
]

REVIEW_DAYS = 15  # the authority's deadline for an answer (docs/rights.md)
Outcome = Literal["upheld", "corrected", "noted"]
Attested = Literal["approved", "declined", "referred"]


def request_review(
    services: Services, subject: str, ask: str, context: dict[str, Any]
) -> ScoreReview:
    """Open a review of the resident's score as it is now; one open review at a time."""
    context["subject"] = subject
    text = _clean(ask, 1000, lines=True)
    now = services.rights.now()
    score = own_score(services, subject)
    review = ScoreReview(
        id=new_id("rv"), subject=subject, ask=text, score=score, requested_at=now,
        due_at=now + dt.timedelta(days=REVIEW_DAYS), status="open",
    )  # fmt: skip
    try:
        with services.control.sessions.begin() as s:
            if s.scalar(_open_of(subject)) is not None:
                raise Conflict("review_already_open")
            s.add(review)
    finally:
        services.rights.forget()
    context["parameters"] = {"review": review.id}
    return review


def _open_of(subject: str) -> Any:
    return select(ScoreReview.id).where(ScoreReview.subject == subject,
                                        ScoreReview.status == "open")  # fmt: skip


def reviews_of(services: Services, subject: str) -> list[ScoreReview]:
    """The resident's reviews, newest first."""
    with services.control.sessions() as s:
        q = select(ScoreReview).where(ScoreReview.subject == subject)
        return list(s.scalars(q.order_by(ScoreReview.requested_at.desc())))


def open_reviews(services: Services) -> list[ScoreReview]:
    """The officers' queue: every open review, the earliest due first."""
    with services.control.sessions() as s:
        q = select(ScoreReview).where(ScoreReview.status == "open")
        return list(s.scalars(q.order_by(ScoreReview.due_at)))


def _review(services: Services, review_id: str) -> ScoreReview:
    with services.control.sessions() as s:
        found = s.get(ScoreReview, review_id)
    if found is None:
        raise NotFound("unknown_review")
    return found


@dataclass(frozen=True)
class ReviewCase:
    """What an officer sees to decide a review, and no more: the resident's ask, the score
    when asked and now, each feature's value and effect, the reasons, and the records the
    score uses (declared columns only) with the resident's statements on them."""

    review: ScoreReview
    score_now: dict[str, Any]
    features: list[dict[str, Any]]
    records: list[StoredRecord]
    statements: dict[tuple[str, str, int], str]


def review_case(services: Services, review_id: str, context: dict[str, Any]) -> ReviewCase:
    """Open a review for an officer; the access is audited as one to the resident's data."""
    review = _review(services, review_id)
    context.update(subject=review.subject, parameters={"review": review.id})
    spec = model_spec(services.vault)
    row = feature_row(services.vault, spec, review.subject)
    features = [] if row is None else _features(spec, row.values)
    used = used_rows(services.vault, spec, review.subject)
    records = [r for r in subject_records(services.vault, review.subject)
               if (r.ref.table, r.ref.contribution_id, r.ref.row) in used]  # fmt: skip
    stated = {row_key(s): s.text for s in statements_of(services, review.subject)}
    return ReviewCase(review, own_score(services, review.subject), features, records, stated)


def _features(spec: Any, values: dict[str, float] | Any) -> list[dict[str, Any]]:
    return [
        {"id": f.id, "dimension": f.dimension, "direction": f.direction,
         "value": round(values[f.id], 3), "cap": f.cap,
         "points": round(feature_points(f, values[f.id]), 2),
         "reason": f.reason.code, "zh": f.reason.zh, "en": f.reason.en}
        for f in spec.features
    ]  # fmt: skip


def decide_review(
    services: Services,
    officer: str,
    review_id: str,
    outcome: Outcome,
    note: str,
    dispute: str | None,
    context: dict[str, Any],
) -> ScoreReview:
    """Record the officer's outcome of an open review (a correction names its dispute)."""
    text = _clean(note, 2000, lines=True)
    if (outcome == "corrected") != (dispute is not None):
        raise InvalidRequest(reason="dispute_required")
    if dispute is not None and not SHAPE.match(dispute):
        raise InvalidRequest(reason="dispute_id_invalid")
    try:
        with services.control.sessions.begin() as s:
            found = s.get(ScoreReview, review_id, with_for_update=True)
            if found is None:
                raise NotFound("unknown_review")
            context.update(subject=found.subject, parameters={"review": found.id})
            if found.status != "open":
                raise Conflict("review_already_decided")
            found.status, found.note, found.dispute = outcome, text, dispute
            found.officer_id, found.decided_at = officer, services.rights.now()
            return found
    finally:
        services.rights.forget()


def review_clocks(services: Services) -> list[dict[str, Any]]:
    """Every review's clock, for auditors: when asked, when due, when (and how) decided,
    and whether it was (or is) late. No resident is named."""
    now = services.rights.now()
    with services.control.sessions() as s:
        found = list(s.scalars(select(ScoreReview).order_by(ScoreReview.requested_at)))
    return [
        {"id": r.id, "requested_at": r.requested_at, "due_at": r.due_at,
         "decided_at": r.decided_at, "status": r.status,
         "late": (r.decided_at or now) > r.due_at}
        for r in found
    ]  # fmt: skip


def attest_decision(
    services: Services,
    bank: str,
    audit_index: int,
    request_id: str,
    outcome: Attested,
    reviewer_role: str,
    decided_at: dt.datetime,
    context: dict[str, Any],
) -> DecisionAttestation:
    """Record that a human took part in the bank's decision on the applicant of the score
    logged at ``audit_index`` (which must be this bank's answered score with that request
    id: anything else is `NotFound`, so a bank learns nothing of another's entries)."""
    entry = _score_entry(services, audit_index)
    if entry is None or entry.actor != bank or entry.request_id != request_id:
        raise NotFound("unknown_score_entry")
    assert entry.subject is not None
    context.update(subject=entry.subject, parameters={"audit_index": str(audit_index)})
    made = DecisionAttestation(
        id=new_id("at"), bank_id=bank, audit_index=audit_index, request_id=request_id,
        subject=entry.subject, outcome=outcome, reviewer_role=reviewer_role,
        decided_at=decided_at, recorded_at=services.rights.now(),
    )  # fmt: skip
    try:
        with services.control.sessions.begin() as s:
            s.add(made)
    except IntegrityError:
        raise Conflict("already_attested") from None
    return made


def _score_entry(services: Services, index: int) -> Any:
    """The allow entry of an answered score at ``index``, or None."""
    read = getattr(services.audit, "entry", None)
    if read is None:
        return None
    try:
        _, entry = decode_entry(read(index))
    except (AuditError, IndexError, ValueError):
        return None
    answered = entry.action == SCORE_ACTION and entry.decision == "allow" and entry.subject
    return entry if answered else None


def attestations_of(services: Services, subject: str) -> list[DecisionAttestation]:
    """The banks' attestations of a human decision about the resident, newest first."""
    with services.control.sessions() as s:
        q = select(DecisionAttestation).where(DecisionAttestation.subject == subject)
        return list(s.scalars(q.order_by(DecisionAttestation.recorded_at.desc())))
