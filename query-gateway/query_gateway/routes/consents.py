"""Subjects' consents, their access records, and the consent log's anchored root."""

from __future__ import annotations

from typing import Literal

from fastapi import Request, Response

from query_gateway.control import utcnow
from query_gateway.credentials import Role
from query_gateway.errors import InvalidRequest
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.ids import loggable
from query_gateway.models import Consent
from query_gateway.policy import policy
from query_gateway.routes import router
from query_gateway.schemas import AccessPublic, ConsentCreate, ConsentLogPublic, ConsentPublic

routes = router()


def public_view(c: Consent) -> ConsentPublic:
    status: Literal["active", "withdrawn", "expired"] = (
        "withdrawn" if c.withdrawn_at else "expired" if c.expires_at <= utcnow() else "active"
    )
    return ConsentPublic(
        id=c.id,
        bank=c.bank_id,
        purpose=c.purpose,
        expires_at=c.expires_at,
        created_at=c.created_at,
        withdrawn_at=c.withdrawn_at,
        status=status,
    )


@routes.post(
    "/v1/consents",
    openapi_extra=policy(Role.SUBJECT),
    status_code=201,
    response_model=ConsentPublic,
    summary="Give consent to one bank for one purpose",
)
def give(body: ConsentCreate, request: Request, gw: GatewayDep, who: PrincipalDep) -> ConsentPublic:
    assert who.subject is not None
    request.state.audit.update(subject=who.subject, purpose=body.purpose)
    bank = gw.control.active_client(body.bank)
    if bank is None or bank.role != Role.BANK.value:
        raise InvalidRequest(reason="unknown_bank")
    if body.expires_at <= utcnow():
        raise InvalidRequest(reason="expires_at_past")
    consent = gw.control.add_consent(who.subject, bank.client_id, body.purpose, body.expires_at)
    request.state.audit["consent"] = consent.id
    gw.consents.record(consent, "granted")
    return public_view(consent)


@routes.get(
    "/v1/consents",
    openapi_extra=policy(Role.SUBJECT),
    response_model=list[ConsentPublic],
    summary="My consents",
)
def mine(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[ConsentPublic]:
    assert who.subject is not None
    request.state.audit["subject"] = who.subject
    return [public_view(c) for c in gw.control.consents_of(who.subject)]


@routes.delete(
    "/v1/consents/{consent_id}",
    openapi_extra=policy(Role.SUBJECT),
    status_code=204,
    response_class=Response,
    summary="Withdraw a consent (effective at once)",
)
def withdraw(consent_id: str, request: Request, gw: GatewayDep, who: PrincipalDep) -> Response:
    assert who.subject is not None
    request.state.audit.update(subject=who.subject, consent=loggable(consent_id))
    consent = gw.control.withdraw(consent_id, who.subject)
    gw.consents.record(consent, "withdrawn")
    return Response(status_code=204)


@routes.get(
    "/v1/me/accesses",
    openapi_extra=policy(Role.SUBJECT),
    response_model=list[AccessPublic],
    summary="Who accessed my data",
)
def accesses(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[AccessPublic]:
    assert who.subject is not None
    request.state.audit["subject"] = who.subject
    names = {c.client_id: c.name for c in gw.control.clients()}
    return [
        AccessPublic(
            at=a.at,
            bank=names.get(a.bank_id, a.bank_id),
            bank_id=a.bank_id,
            computation=a.computation,
            purpose=a.purpose,
            access_request_id=a.access_request_id,
            audit_index=a.index,
        )
        for a in gw.accesses.of(who.subject)
    ]


@routes.get(
    "/v1/consent-log",
    openapi_extra=policy(Role.AUDITOR, Role.OFFICER, Role.ADMIN),
    response_model=ConsentLogPublic,
    summary="The consent log's size and root",
)
def consent_log(gw: GatewayDep) -> ConsentLogPublic:
    size, root = gw.consents.state()
    return ConsentLogPublic(size=size, root=root.hex(), last_anchor=gw.consents.last_anchor())


@routes.get("/v1/clients", openapi_extra=policy(Role.ADMIN), summary="Registered clients")
def clients(gw: GatewayDep) -> list[dict[str, object]]:
    return [
        {
            "client_id": c.client_id,
            "name": c.name,
            "role": c.role,
            "created_at": c.created_at.isoformat(),
            "disabled": c.disabled_at is not None,
        }
        for c in gw.control.clients()
    ]
