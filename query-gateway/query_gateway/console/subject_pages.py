"""Residents: their own score with the 五维图 and its reasons, every access to their data,
and their consents to grant and withdraw (through the same use cases as the API, so each event
goes on the anchored consent log)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from governance import (
    DIMENSIONS,
    Role,
    Services,
    grant_consent,
    offered_computations,
    own_score,
    utcnow,
    withdraw_consent,
)
from query_gateway.console.charts import radar
from query_gateway.console.i18n import lang_of, translate
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
    grant_consent(gw, subject, body.bank, body.purpose, body.expires_at, request.state.audit,
                  body.computations)  # fmt: skip
    return RedirectResponse("/console/me", status_code=303)


@routes.post("/console/me/consents/{consent_id}/withdraw", openapi_extra=policy(Role.SUBJECT))
def withdraw(consent_id: str, request: Request) -> Response:
    gw, _ = console_state(request)
    withdraw_consent(gw, request.state.principal.subject, consent_id, request.state.audit)
    return RedirectResponse("/console/me", status_code=303)
