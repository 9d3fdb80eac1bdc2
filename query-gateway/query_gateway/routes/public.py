"""Token endpoint, keys, catalogue and health."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Form, Request

from governance import Principal, Role, UnsupportedGrant, issue_token
from query_gateway.gateway import GatewayDep
from query_gateway.policy import policy, public
from query_gateway.routes import router
from query_gateway.schemas import ComputationPublic, TokenForm, TokenPublic

routes = router()


@routes.post(
    "/v1/oauth/token",
    openapi_extra=public(),
    response_model=TokenPublic,
    summary="OAuth 2.0 client credentials grant (RFC 6749 §4.4)",
)
async def token(
    form: Annotated[TokenForm, Form()], request: Request, gw: GatewayDep
) -> TokenPublic:
    if form.grant_type != "client_credentials":
        raise UnsupportedGrant("unsupported_grant_type")
    client = await anyio.to_thread.run_sync(
        gw.control.authenticate, form.client_id, form.client_secret
    )
    request.state.audit.update(actor=client.client_id, role=client.role)
    principal = Principal(role=Role(client.role), client_id=client.client_id)
    ttl = gw.settings.token_ttl
    return TokenPublic(access_token=issue_token(gw.keys.token_key, principal, ttl), expires_in=ttl)


@routes.get("/v1/keys", openapi_extra=public(), summary="The response-signing keys (JWKS)")
async def keys(gw: GatewayDep) -> dict[str, Any]:
    return gw.signer.jwks()


@routes.get("/v1/health", openapi_extra=public(), summary="Liveness")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@routes.get(
    "/v1/computations",
    openapi_extra=policy(*Role),
    response_model=list[ComputationPublic],
    summary="The catalogue of approved computations",
)
async def computations(gw: GatewayDep) -> list[ComputationPublic]:
    return [
        ComputationPublic(
            id=c.id,
            version=c.version,
            hash=c.hash,
            title=c.title,
            privacy=c.privacy,
            unit=c.unit,
            purposes=c.purposes,
            inputs=c.inputs,
            outputs=c.outputs,
        )
        for c in gw.catalogue
    ]
