"""Residents: their own score with the 五维图 and its reasons, every access to their data,
and their consents to grant and withdraw (through the same use cases as the API, so each event
goes on the anchored consent log)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from governance import (
    DIMENSIONS,
    Role,
    Services,
    covered_computations,
    grant_consent,
    grant_terms,
    offered_computations,
    own_score,
    utcnow,
    withdraw_consent,
    withdrawal_terms,
)
from query_gateway.console.charts import radar
from query_gateway.console.i18n import lang_of, translate
from query_gateway.console.resident_pages import begin
from query_gateway.console.route import console_router, render
from query_gateway.console.state import console_state
from query_gateway.policy import policy
from query_gateway.schemas import ConsentCreate, ConsentPublic

routes = console_router()


@routes.get("/console/me", openapi_extra=policy(Role.SUBJECT))
def me(request: Request) -> Response:
    gw, _ = console_state(request)
    subject = request.state.principal.subject
    lang = lang_of(request)
    result = own_score(gw, subject)
    chart = None
    if result["dimensions"] is not None:
        values = [result["dimensions"][d] for d in DIMENSIONS]
        chart = radar([translate(lang, f"dimension.{d}") for d in DIMENSIONS], values)
    names = {c.client_id: c.name for c in gw.control.clients()}
    banks = [c for c in gw.control.clients() if c.role == Role.BANK.value and not c.disabled_at]
    my_consents = [ConsentPublic.of(c) for c in gw.control.consents_of(subject)]
    return render(request, "me.html", score=result, chart=chart, dimensions=DIMENSIONS,
                  accesses=gw.accesses.of(subject), consents=reversed(my_consents),
                  names=names, banks=banks, purposes=_consent_purposes(gw))  # fmt: skip


def _consent_purposes(gw: Services) -> list[str]:
    """The purposes a consent can serve: those of the subject computations."""
    return sorted({p for c in gw.catalogue if c.privacy == "subject" for p in c.purposes})


@routes.post("/console/me/consents", openapi_extra=policy(Role.SUBJECT))
def grant(
    request: Request,
    bank: Annotated[str, Form(max_length=40)],
    purpose: Annotated[str, Form(max_length=32)],
    days: Annotated[int, Form(ge=1, le=730)] = 180,
    household: Annotated[bool, Form()] = False,
) -> Response:
    """Grant a consent covering the person-level computations, and the household ones only
    when the resident ticks the box (issue 13, finding 1)."""
    gw, _ = console_state(request)
    units = ("person", "household") if household else ("person",)
    body = ConsentCreate.model_validate(
        {"bank": bank, "purpose": purpose, "expires_at": utcnow() + dt.timedelta(days=days),
         "computations": offered_computations(gw.catalogue, purpose, units) or None}
    )  # fmt: skip
    subject = request.state.principal.subject
    if gw.relying_party is not None:  # prove it by a fresh sign-in for exactly these terms
        covers = covered_computations(gw.catalogue, body.purpose, body.computations)
        terms = grant_terms(body.bank, body.purpose, covers, body.expires_at.replace(microsecond=0))
        return begin(request, gw, terms, subject)
    grant_consent(
        gw,
        subject,
        body.bank,
        body.purpose,
        body.expires_at,
        request.state.audit,
        body.computations,
    )  # fmt: skip (the unsafe development path: no evidence)
    return RedirectResponse("/console/me", status_code=303)


@routes.post("/console/me/consents/{consent_id}/withdraw", openapi_extra=policy(Role.SUBJECT))
def withdraw(consent_id: str, request: Request) -> Response:
    gw, _ = console_state(request)
    subject = request.state.principal.subject
    if gw.relying_party is not None:
        return begin(request, gw, withdrawal_terms(consent_id), subject)
    withdraw_consent(gw, subject, consent_id, request.state.audit)  # the unsafe dev path
    return RedirectResponse("/console/me", status_code=303)


def record_proved(
    request: Request, gw: Services, subject: str, terms: dict[str, Any], id_token: str
) -> None:
    """Record the grant or withdrawal a fresh sign-in at the IdP just proved (called by the
    IdP's callback, `resident_pages.callback`)."""
    audit = request.state.audit
    audit.update(actor="subject", role=Role.SUBJECT.value)
    if terms["action"] == "withdraw":
        withdraw_consent(gw, subject, terms["consent"], audit, id_token)
        return
    expires = dt.datetime.fromisoformat(terms["expires_at"].replace("Z", "+00:00"))
    grant_consent(gw, subject, terms["bank"], terms["purpose"], expires, audit,
                  terms["computations"], id_token)  # fmt: skip
