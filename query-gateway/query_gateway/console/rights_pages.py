"""Residents' rights in the console (issue 18): the resident's credit report (page and
PDF), statements on negative records, requests for a human review; the officers' review
queue and cases; the auditors' view of the deadlines. Every page calls the same use cases
as the API (`governance.reports`, `governance.statements`, `governance.reviews`) and is
audited like any request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from governance import (
    Role,
    StatementDraft,
    add_statement,
    decide_review,
    issue_report,
    open_reviews,
    report_counts,
    request_review,
    review_case,
    review_clocks,
    withdraw_statement,
)
from query_gateway.console.i18n import lang_of
from query_gateway.console.report_render import report_context, report_pdf
from query_gateway.console.rights_words import rights_translate
from query_gateway.console.route import console_router, render
from query_gateway.console.state import console_state
from query_gateway.policy import policy
from query_gateway.rights_schemas import RecordRef, ReviewPublic

routes = console_router()
REPORT = "/console/me/report"


def _words(request: Request) -> dict[str, Any]:
    lang = lang_of(request)
    return {"r": lambda key: rights_translate(lang, key)}


@routes.get(REPORT, openapi_extra=policy(Role.SUBJECT))
def report_page(request: Request) -> Response:
    """The resident's report, counted like every report (never refused)."""
    gw, _ = console_state(request)
    subject = request.state.principal.subject
    report = issue_report(gw, subject, "html", request.state.request_id, request.state.audit)
    context = report_context(gw, report, lang_of(request))
    return render(request, "report.html", interactive=True, **context)


@routes.get(f"{REPORT}.pdf", openapi_extra=policy(Role.SUBJECT))
def report_download(request: Request) -> Response:
    gw, _ = console_state(request)
    subject = request.state.principal.subject
    pdf = report_pdf(gw, subject, request.state.request_id, request.state.audit,
                     lang_of(request))  # fmt: skip
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": 'attachment; filename="credit-report.pdf"',
                             "cache-control": "no-store"})  # fmt: skip


@routes.post("/console/me/statements", openapi_extra=policy(Role.SUBJECT))
def statement(
    request: Request,
    table: Annotated[str, Form(max_length=40)],
    contribution_id: Annotated[str, Form(max_length=40)],
    row: Annotated[int, Form(ge=0)],
    text: Annotated[str, Form(max_length=1000)],
    short: Annotated[str, Form(max_length=80)],
) -> Response:
    gw, _ = console_state(request)
    ref = RecordRef(table=table, contribution_id=contribution_id, row=row)
    draft = StatementDraft(ref.vault_ref(), text, short)
    add_statement(gw, request.state.principal.subject, draft, request.state.audit)
    return RedirectResponse(REPORT, status_code=303)


@routes.post("/console/me/statements/{statement_id}/withdraw", openapi_extra=policy(Role.SUBJECT))
def withdraw(statement_id: str, request: Request) -> Response:
    gw, _ = console_state(request)
    withdraw_statement(gw, request.state.principal.subject, statement_id, request.state.audit)
    return RedirectResponse(REPORT, status_code=303)


@routes.post("/console/me/reviews", openapi_extra=policy(Role.SUBJECT))
def review(request: Request, ask: Annotated[str, Form(max_length=1000)]) -> Response:
    gw, _ = console_state(request)
    request_review(gw, request.state.principal.subject, ask, request.state.audit)
    return RedirectResponse(f"{REPORT}#reviews", status_code=303)


@routes.get("/console/officer/reviews", openapi_extra=policy(Role.OFFICER))
def queue(request: Request) -> Response:
    gw, _ = console_state(request)
    now = gw.rights.now()
    rows = [ReviewPublic.of(r, now) for r in open_reviews(gw)]
    return render(request, "reviews.html", queue=rows, **_words(request))


@routes.get("/console/officer/reviews/{review_id}", openapi_extra=policy(Role.OFFICER))
def case(review_id: str, request: Request) -> Response:
    gw, _ = console_state(request)
    found = review_case(gw, review_id, request.state.audit)
    return render(request, "review_case.html", case=found, **_words(request))


@routes.post("/console/officer/reviews/{review_id}/outcome", openapi_extra=policy(Role.OFFICER))
def outcome(
    review_id: str,
    request: Request,
    outcome: Annotated[str, Form(pattern=r"^(upheld|corrected|noted)$")],
    note: Annotated[str, Form(max_length=2000)],
    dispute: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    gw, _ = console_state(request)
    officer = request.state.principal.client_id
    decide_review(gw, officer, review_id, outcome, note, dispute or None,  # type: ignore[arg-type]
                  request.state.audit)  # fmt: skip
    return RedirectResponse("/console/officer/reviews", status_code=303)


@routes.get("/console/auditor/rights", openapi_extra=policy(Role.AUDITOR, Role.ADMIN, Role.OFFICER))
def clocks(request: Request) -> Response:
    gw, _ = console_state(request)
    return render(request, "clocks.html", reviews=review_clocks(gw), reports=report_counts(gw),
                  **_words(request))  # fmt: skip
