"""Subjects' consents (`governance.consents`) and the consent log's anchored root."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Request, Response

from governance import Role, grant_consent, withdraw_consent
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.policy import policy
from query_gateway.problems import refusals
from query_gateway.routes import router
from query_gateway.schemas import (
    ClientPublic,
    ConsentCreate,
    ConsentLogPublic,
    ConsentPublic,
    IdTokenHeader,
)

routes = router()


@routes.post(
    "/v1/consents",
    openapi_extra=policy(Role.SUBJECT)
    | refusals(
        "expires_at_past",
        "consent_computation_unknown",
        "consent_computations_empty",
        "unknown_bank",
    ),
    status_code=201,
    response_model=ConsentPublic,
    summary="Give consent to one bank for one purpose, covering the computations named",
)
def give(body: ConsentCreate, request: Request, gw: GatewayDep, who: PrincipalDep) -> ConsentPublic:
    assert who.subject is not None
    consent = grant_consent(gw, who.subject, body.bank, body.purpose, body.expires_at,
                            request.state.audit, body.computations, body.evidence)  # fmt: skip
    return ConsentPublic.of(consent)


@routes.get(
    "/v1/consents",
    openapi_extra=policy(Role.SUBJECT),
    response_model=list[ConsentPublic],
    summary="My consents",
)
def mine(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[ConsentPublic]:
    assert who.subject is not None
    request.state.audit["subject"] = who.subject
    return [ConsentPublic.of(c) for c in gw.control.consents_of(who.subject)]


@routes.delete(
    "/v1/consents/{consent_id}",
    openapi_extra=policy(Role.SUBJECT),
    status_code=204,
    response_class=Response,
    summary="Withdraw a consent (effective at once)",
)
def withdraw(
    consent_id: str,
    request: Request,
    gw: GatewayDep,
    who: PrincipalDep,
    evidence: Annotated[IdTokenHeader | None, Header(alias="Dexin-Evidence")] = None,
) -> Response:
    """The ``Dexin-Evidence`` header carries the ID token of a fresh sign-in for exactly this
    withdrawal (``{"action": "withdraw", "consent": id}``)."""
    assert who.subject is not None
    withdraw_consent(gw, who.subject, consent_id, request.state.audit, evidence)
    return Response(status_code=204)


@routes.get(
    "/v1/consent-log",
    openapi_extra=policy(Role.AUDITOR, Role.OFFICER, Role.ADMIN),
    response_model=ConsentLogPublic,
    summary="The consent log's size and root",
)
def consent_log(gw: GatewayDep) -> ConsentLogPublic:
    size, root = gw.consents.state()
    return ConsentLogPublic(size=size, root=root.hex(), last_anchor=gw.consents.last_anchor())


@routes.get(
    "/v1/clients",
    openapi_extra=policy(Role.ADMIN),
    response_model=list[ClientPublic],
    summary="Registered clients",
)
def clients(gw: GatewayDep) -> list[ClientPublic]:
    return [
        ClientPublic(
            client_id=c.client_id,
            name=c.name,
            role=c.role,
            created_at=c.created_at,
            disabled=c.disabled_at is not None,
        )
        for c in gw.control.clients()
    ]
