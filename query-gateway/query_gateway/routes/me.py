"""``GET /v1/me/accesses``: who accessed my data, read from the audit log itself
(`governance.accesses`), each access with its entry's index."""

from __future__ import annotations

from fastapi import Request

from governance import Role
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.policy import policy
from query_gateway.routes import router
from query_gateway.schemas import AccessPublic

routes = router()


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
