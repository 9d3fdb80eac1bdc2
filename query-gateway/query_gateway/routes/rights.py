"""Residents' rights through the API (issue 18, parts 1, 3 and 4; docs/rights.md).

- The resident (``subject``): ``GET /v1/me/report`` (JSON) and ``GET /v1/me/report.pdf``:
  their credit report, counted (two free a year, never refused); ``POST /v1/me/statements``,
  ``GET /v1/me/statements``, ``DELETE /v1/me/statements/{id}``: statements on their negative
  records; ``POST /v1/me/reviews``, ``GET /v1/me/reviews``: a human review of their score.
- Officers: ``GET /v1/reviews`` (the queue: clocks only), ``GET /v1/reviews/{id}`` (the
  case: what the review needs, an audited access), ``POST /v1/reviews/{id}/outcome``.
- Banks: ``POST /v1/decisions/attestations``: a human took part in a decision.
- Auditors (and officers): ``GET /v1/rights/clocks``: every review's clock and the reports
  issued per year.

Thin: parse, call the use case, shape the answer. Each request is audited by the middleware
with the resident it concerns.
"""

from __future__ import annotations

from fastapi import Request, Response

from governance import (
    FREE_PER_YEAR,
    Role,
    StatementDraft,
    add_statement,
    attest_decision,
    decide_review,
    issue_report,
    open_reviews,
    report_counts,
    request_review,
    review_case,
    review_clocks,
    reviews_of,
    statements_of,
    withdraw_statement,
)
from query_gateway.console.i18n import lang_of
from query_gateway.console.report_render import report_pdf
from query_gateway.gateway import GatewayDep, PrincipalDep, Services
from query_gateway.policy import policy
from query_gateway.problems import refusals
from query_gateway.rights_schemas import (
    AttestationCreate,
    AttestationPublic,
    OutcomeCreate,
    RecordPublic,
    ReportPublic,
    ReviewCasePublic,
    ReviewCreate,
    ReviewPublic,
    ReviewQueuePublic,
    StatementCreate,
    StatementPublic,
    report_public,
)
from query_gateway.routes import router

routes = router()
PDF = {200: {"content": {"application/pdf": {}}, "description": "The report as a PDF"}}


def _subject(request: Request, who: PrincipalDep) -> str:
    assert who.subject is not None
    request.state.audit["subject"] = who.subject
    return who.subject


def _names(gw: Services) -> dict[str, str]:
    return {c.client_id: c.name for c in gw.control.clients()}


@routes.get("/v1/me/report", openapi_extra=policy(Role.SUBJECT), summary="My credit report")
def report(request: Request, gw: GatewayDep, who: PrincipalDep) -> ReportPublic:
    subject = _subject(request, who)
    made = issue_report(gw, subject, "json", request.state.request_id, request.state.audit)
    return report_public(made, _names(gw), FREE_PER_YEAR, gw.rights.now())


@routes.get(
    "/v1/me/report.pdf",
    openapi_extra=policy(Role.SUBJECT),
    response_class=Response,
    responses=PDF,  # type: ignore[arg-type]
    summary="My credit report as a PDF (zh-CN; ?lang=en for English)",
)
def report_as_pdf(request: Request, gw: GatewayDep, who: PrincipalDep) -> Response:
    subject = _subject(request, who)
    pdf = report_pdf(gw, subject, request.state.request_id, request.state.audit,
                     lang_of(request))  # fmt: skip
    return Response(pdf, media_type="application/pdf", headers={"cache-control": "no-store"})


@routes.post(
    "/v1/me/statements",
    openapi_extra=policy(Role.SUBJECT)
    | refusals("statement_text_invalid", "statement_names_an_id_number"),
    status_code=201,
    summary="Attach a statement to one of my negative records",
)
def statement(
    body: StatementCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> StatementPublic:
    draft = StatementDraft(body.record.vault_ref(), body.text, body.short)
    made = add_statement(gw, _subject(request, who), draft, request.state.audit)
    return StatementPublic.of(made)


@routes.get("/v1/me/statements", openapi_extra=policy(Role.SUBJECT), summary="My active statements")
def my_statements(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[StatementPublic]:
    return [StatementPublic.of(s) for s in statements_of(gw, _subject(request, who))]


@routes.delete(
    "/v1/me/statements/{statement_id}",
    openapi_extra=policy(Role.SUBJECT),
    status_code=204,
    response_class=Response,
    summary="Withdraw one of my statements",
)
def withdraw(statement_id: str, request: Request, gw: GatewayDep, who: PrincipalDep) -> Response:
    withdraw_statement(gw, _subject(request, who), statement_id, request.state.audit)
    return Response(status_code=204)


@routes.post(
    "/v1/me/reviews",
    openapi_extra=policy(Role.SUBJECT)
    | refusals("statement_text_invalid", "statement_names_an_id_number"),
    status_code=201,
    summary="Ask for an explanation and a human review of my score",
)
def ask_review(
    body: ReviewCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> ReviewPublic:
    made = request_review(gw, _subject(request, who), body.ask, request.state.audit)
    return ReviewPublic.of(made, gw.rights.now())


@routes.get("/v1/me/reviews", openapi_extra=policy(Role.SUBJECT), summary="My reviews")
def my_reviews(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[ReviewPublic]:
    now = gw.rights.now()
    return [ReviewPublic.of(r, now) for r in reviews_of(gw, _subject(request, who))]


@routes.get("/v1/reviews", openapi_extra=policy(Role.OFFICER), summary="The review queue")
def queue(gw: GatewayDep) -> list[ReviewQueuePublic]:
    now = gw.rights.now()
    return [ReviewQueuePublic(id=r.id, requested_at=r.requested_at, due_at=r.due_at,
                              late=now > r.due_at) for r in open_reviews(gw)]  # fmt: skip


@routes.get(
    "/v1/reviews/{review_id}",
    openapi_extra=policy(Role.OFFICER),
    summary="A review's case: what the review needs, no more",
)
def case(review_id: str, request: Request, gw: GatewayDep) -> ReviewCasePublic:
    found = review_case(gw, review_id, request.state.audit)
    records = [RecordPublic.of_case(r, found.statements) for r in found.records]
    return ReviewCasePublic(review=ReviewPublic.of(found.review, gw.rights.now()),
                            score_when_asked=found.review.score, score_now=found.score_now,
                            features=found.features, records=records)  # fmt: skip


@routes.post(
    "/v1/reviews/{review_id}/outcome",
    openapi_extra=policy(Role.OFFICER)
    | refusals("statement_text_invalid", "statement_names_an_id_number", "dispute_required"),
    summary="Record a review's outcome",
)
def outcome(
    review_id: str, body: OutcomeCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> ReviewPublic:
    assert who.client_id is not None
    done = decide_review(gw, who.client_id, review_id, body.outcome, body.note, body.dispute,
                         request.state.audit)  # fmt: skip
    return ReviewPublic.of(done, gw.rights.now())


@routes.post(
    "/v1/decisions/attestations",
    openapi_extra=policy(Role.BANK, errors=(404,)),  # unknown_score_entry
    status_code=201,
    summary="Attest that a human took part in the decision on an applicant",
)
def attest(
    body: AttestationCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AttestationPublic:
    assert who.client_id is not None
    made = attest_decision(gw, who.client_id, body.audit_index, body.request_id, body.outcome,
                           body.reviewer_role, body.decided_at, request.state.audit)  # fmt: skip
    return AttestationPublic.of(made)


@routes.get(
    "/v1/rights/clocks",
    openapi_extra=policy(Role.AUDITOR, Role.OFFICER, Role.ADMIN),
    summary="Every review's clock and the reports issued per year",
)
def clocks(gw: GatewayDep) -> dict[str, object]:
    return {"reviews": review_clocks(gw), "reports": report_counts(gw)}
