"""The routes' dependencies: the running `governance.Services` and the caller's `Principal`.

Routes reach the services through `GatewayDep` and the authenticated caller through
`PrincipalDep` (set by the route's policy, `query_gateway.policy`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from governance import Principal, Services

__all__ = ["GatewayDep", "PrincipalDep", "Services", "gateway_of"]


def gateway_of(request: Request) -> Services:
    services = request.app.state.gateway
    assert isinstance(services, Services)
    return services


# async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request
async def get_gateway(request: Request) -> Services:
    return gateway_of(request)


async def get_principal(request: Request) -> Principal:
    principal = request.state.principal
    assert isinstance(principal, Principal)
    return principal


GatewayDep = Annotated[Services, Depends(get_gateway)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
