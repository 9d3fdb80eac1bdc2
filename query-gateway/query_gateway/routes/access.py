"""Access requests (banks) and officers' votes and revocations."""

from __future__ import annotations

from fastapi import Request

from query_gateway.approvals import status_now
from query_gateway.control import utcnow
from query_gateway.credentials import Role
from query_gateway.errors import InvalidRequest, NotFound
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.ids import loggable
from query_gateway.models import AccessRequest
from query_gateway.policy import policy
from query_gateway.routes import router
from query_gateway.schemas import AccessRequestCreate, AccessRequestPublic, VoteCreate

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
    openapi_extra=policy(Role.BANK),
    status_code=201,
    response_model=AccessRequestPublic,
    summary="File an access request",
)
def create(
    body: AccessRequestCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AccessRequestPublic:
    request.state.audit.update(computation=body.computation, purpose=body.purpose)
    computation = gw.catalogue.get(body.computation)
    if body.computation_hash != computation.hash:
        raise InvalidRequest(reason="computation_hash_mismatch")
    if body.purpose not in computation.purposes:
        raise InvalidRequest(reason="purpose_not_allowed")
    if body.valid_until <= utcnow():
        raise InvalidRequest(reason="valid_until_past")
    if (computation.privacy == "aggregate") != (body.epsilon is not None):
        raise InvalidRequest(reason="epsilon_only_for_aggregates")
    assert who.client_id is not None
    filed = gw.approvals.file(
        who.client_id,
        computation,
        body.purpose,
        body.scope,
        body.quota,
        body.epsilon,
        body.valid_until,
    )
    request.state.audit["access_request"] = filed.id
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
    request.state.audit["access_request"] = loggable(request_id)
    assert who.client_id is not None
    return public_view(gw, gw.approvals.vote(request_id, who.client_id, body.decision))


@routes.post(
    "/v1/access-requests/{request_id}/revoke",
    openapi_extra=policy(Role.OFFICER),
    response_model=AccessRequestPublic,
    summary="Revoke an approval",
)
def revoke(
    request_id: str, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AccessRequestPublic:
    request.state.audit["access_request"] = loggable(request_id)
    assert who.client_id is not None
    return public_view(gw, gw.approvals.revoke(request_id, who.client_id))
