"""Access requests (banks) and officers' votes and revocations.

An officer's vote, rejection or revocation carries the officer's WebAuthn assertion over the
decision's challenge (``POST .../decision-options`` gives it): an OAuth client secret alone
decides nothing."""

from __future__ import annotations

from fastapi import Request

from governance import (
    AccessRequest,
    AccessRequestDraft,
    NotFound,
    Role,
    cast_vote,
    decision_challenge,
    file_request,
    loggable,
    revoke_approval,
    status_now,
)
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.policy import policy
from query_gateway.problems import refusals
from query_gateway.routes import router
from query_gateway.schemas import (
    AccessRequestCreate,
    AccessRequestPublic,
    DecisionOptionsCreate,
    DecisionOptionsPublic,
    RevocationCreate,
    VoteCreate,
)

routes = router()
READERS = (Role.BANK, Role.OFFICER, Role.AUDITOR, Role.ADMIN)


def public_view(gw: GatewayDep, r: AccessRequest) -> AccessRequestPublic:
    approvals = sum(v.decision == "approve" for v in gw.control.votes(r.id))
    return AccessRequestPublic(
        id=r.id,
        status=status_now(r),
        client_id=r.client_id,
        computation=r.computation_id,
        computation_version=r.computation_version,
        computation_hash=r.computation_hash,
        purpose=r.purpose,
        scope=r.scope,
        quota=r.quota,
        used=r.used,
        epsilon=r.epsilon,
        epsilon_spent=r.epsilon_spent,
        valid_until=r.valid_until,
        threshold=r.threshold,
        approvals=approvals,
        created_at=r.created_at,
    )


def visible(gw: GatewayDep, who: PrincipalDep, request_id: str) -> AccessRequest:
    found = gw.control.request(request_id)
    if who.role is Role.BANK and found.client_id != who.client_id:
        raise NotFound("unknown_access_request")
    return found


@routes.post(
    "/v1/access-requests",
    openapi_extra=policy(Role.BANK)
    | refusals(
        "valid_until_past",
        "epsilon_only_for_aggregates",
        "scope_unknown_parameter",
        "scope_invalid_value",
        "scope_incomplete",
    ),
    status_code=201,
    response_model=AccessRequestPublic,
    summary="File an access request",
)
def create(
    body: AccessRequestCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AccessRequestPublic:
    assert who.client_id is not None
    draft = AccessRequestDraft(**body.model_dump())
    filed = file_request(gw, who.client_id, draft, request.state.audit)
    return public_view(gw, filed)


@routes.get(
    "/v1/access-requests",
    openapi_extra=policy(*READERS),
    response_model=list[AccessRequestPublic],
    summary="List access requests",
)
def list_requests(gw: GatewayDep, who: PrincipalDep) -> list[AccessRequestPublic]:
    mine = who.client_id if who.role is Role.BANK else None
    return [public_view(gw, r) for r in gw.control.requests(mine)]


@routes.get(
    "/v1/access-requests/{request_id}",
    openapi_extra=policy(*READERS),
    response_model=AccessRequestPublic,
    summary="One access request",
)
def get_request(
    request_id: str, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AccessRequestPublic:
    request.state.audit["access_request"] = loggable(request_id)
    return public_view(gw, visible(gw, who, request_id))


@routes.post(
    "/v1/access-requests/{request_id}/votes",
    openapi_extra=policy(Role.OFFICER),
    response_model=AccessRequestPublic,
    summary="An officer's vote",
)
def vote(
    request_id: str, body: VoteCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AccessRequestPublic:
    assert who.client_id is not None
    signed = body.assertion.credential()
    done = cast_vote(gw, who.client_id, request_id, body.decision, signed, request.state.audit)
    return public_view(gw, done)


@routes.post(
    "/v1/access-requests/{request_id}/decision-options",
    openapi_extra=policy(Role.OFFICER),
    response_model=DecisionOptionsPublic,
    summary="What an officer signs to decide",
)
def decision_options(
    request_id: str, body: DecisionOptionsCreate, request: Request, gw: GatewayDep,
    who: PrincipalDep,
) -> DecisionOptionsPublic:  # fmt: skip
    assert who.client_id is not None
    request.state.audit["access_request"] = loggable(request_id)
    found = decision_challenge(gw, who.client_id, request_id, body.decision)
    return DecisionOptionsPublic(**found)


@routes.post(
    "/v1/access-requests/{request_id}/revoke",
    openapi_extra=policy(Role.OFFICER),
    response_model=AccessRequestPublic,
    summary="Revoke an approval",
)
def revoke(
    request_id: str, body: RevocationCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AccessRequestPublic:
    assert who.client_id is not None
    signed = body.assertion.credential()
    return public_view(
        gw, revoke_approval(gw, who.client_id, request_id, signed, request.state.audit)
    )
