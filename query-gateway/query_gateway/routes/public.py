"""Token endpoint and its metadata, keys, catalogue and health."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Form, Request

from governance import ALGORITHMS, Role, TokenRequest, UnsupportedGrant, issue_client_token
from query_gateway.gateway import GatewayDep
from query_gateway.policy import policy, public, public_base
from query_gateway.routes import router
from query_gateway.schemas import ComputationPublic, TokenForm, TokenPublic

routes = router()


TOKEN_PATH = "/v1/oauth/token"


@routes.post(
    TOKEN_PATH,
    openapi_extra=public(),
    response_model=TokenPublic,
    summary="OAuth 2.0 client credentials (RFC 6749 §4.4): private_key_jwt and DPoP",
)
async def token(
    form: Annotated[TokenForm, Form()], request: Request, gw: GatewayDep
) -> TokenPublic:
    """A bank or provider authenticates with a client assertion signed by its registered key
    (RFC 7523) and a DPoP proof (RFC 9449): the token is bound to the proof's key."""
    if form.grant_type != "client_credentials":
        raise UnsupportedGrant("unsupported_grant_type")
    base = public_base(request, gw.settings)
    asked = TokenRequest(form.client_id, form.client_secret, form.client_assertion_type,
                         form.client_assertion, tuple(request.headers.getlist("dpop")),
                         url=base + TOKEN_PATH, issuer=base)  # fmt: skip
    issued = await anyio.to_thread.run_sync(issue_client_token, gw, asked)
    request.state.audit.update(actor=issued.principal.client_id, role=issued.principal.role.value)
    return TokenPublic(access_token=issued.access_token, token_type=issued.token_type,
                       expires_in=issued.expires_in)  # fmt: skip


@routes.get(
    "/.well-known/oauth-authorization-server",
    openapi_extra=public(),
    summary="Authorization server metadata (RFC 8414)",
)
async def metadata(request: Request, gw: GatewayDep) -> dict[str, Any]:
    base = public_base(request, gw.settings)
    return {
        "issuer": base,
        "token_endpoint": base + TOKEN_PATH,
        "jwks_uri": base + "/v1/keys",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "dpop_signing_alg_values_supported": list(ALGORITHMS),
    }


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
