"""Officers' enrolment (issue 14): an admin's one-time invite, then the officer's passkey.

The invite link carries its token in the URL fragment (``/console/enrol#TOKEN``), which a
browser never sends to a server, so it stays out of every access log; the enrolment page
posts it. Both enrolment routes are public (the invite is the credential) and refuse with
``invite_invalid`` once it is spent or expired.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request

from governance import Role, create_invite
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.policy import policy, public
from query_gateway.routes import router
from query_gateway.schemas import (
    CeremonyPublic,
    EnrolmentCreate,
    EnrolmentOptionsCreate,
    EnrolmentPublic,
    InviteCreate,
    InvitePublic,
)

routes = router()
INVITE_DAYS = 3


def origin_of(request: Request) -> str:
    """The origin a browser shows for this request (scheme, host, port): what WebAuthn
    binds an assertion to. A passkey is then checked against the origin it was made for."""
    return f"{request.url.scheme}://{request.url.netloc}"


@routes.post(
    "/v1/officers/invites",
    openapi_extra=policy(Role.ADMIN),
    status_code=201,
    response_model=InvitePublic,
    summary="Invite an officer to enrol a passkey",
)
def invite(body: InviteCreate, request: Request, gw: GatewayDep, who: PrincipalDep) -> InvitePublic:
    assert who.client_id is not None
    token = create_invite(gw.control.sessions, body.officer, who.client_id)
    request.state.audit["officer"] = body.officer
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=INVITE_DAYS)
    url = f"{origin_of(request)}/console/enrol#{token}"
    return InvitePublic(officer=body.officer, enrol_url=url, expires_at=expires)


@routes.post(
    "/v1/officers/enrolment/options",
    openapi_extra=public(errors=(403,)),  # invite_invalid
    response_model=CeremonyPublic,
    summary="Registration options for an invited officer",
)
def enrolment_options(
    body: EnrolmentOptionsCreate, request: Request, gw: GatewayDep
) -> CeremonyPublic:
    ceremony = gw.approvals.passkeys.start_enrolment(body.invite, origin_of(request))
    return CeremonyPublic(ceremony=ceremony.id, options=ceremony.options)


@routes.post(
    "/v1/officers/enrolment",
    openapi_extra=public(errors=(403,)),  # invite_invalid, ceremony_invalid
    status_code=201,
    response_model=EnrolmentPublic,
    summary="Register an invited officer's passkey (and on the ledger)",
)
def enrol(body: EnrolmentCreate, request: Request, gw: GatewayDep) -> EnrolmentPublic:
    credential = body.credential.model_dump(by_alias=True)
    done = gw.approvals.passkeys.finish_enrolment(body.invite, body.ceremony, credential)
    request.state.audit.update(actor=done.officer_id, role=Role.OFFICER.value)
    return EnrolmentPublic(officer=done.officer_id, credential_id=done.credential_id,
                           ledger_tx=done.ledger_tx)  # fmt: skip
