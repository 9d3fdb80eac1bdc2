"""``POST /v1/aggregates``: an approved aggregate, suppressed and noised (`governance.aggregates`)."""

from __future__ import annotations

from fastapi import Request

from governance import AggregateQuery, Role, release_aggregate
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.policy import policy
from query_gateway.routes import router
from query_gateway.schemas import AggregateCreate, AggregatePublic, CellPublic

routes = router()


@routes.post(
    "/v1/aggregates",
    openapi_extra=policy(Role.BANK),
    response_model=AggregatePublic,
    summary="An approved aggregate, suppressed and noised (ε from the approval)",
)
def aggregate(
    body: AggregateCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AggregatePublic:
    query = AggregateQuery(body.computation, body.access_request_id, dict(body.parameters),
                           body.epsilon, body.preview)  # fmt: skip
    done = release_aggregate(gw, who, query, request.state.audit)
    cells = None if done.cells is None else [
        CellPublic(group=c.group, count=c.count, suppressed=c.suppressed) for c in done.cells
    ]  # fmt: skip
    return AggregatePublic(
        computation=done.computation,
        computation_version=done.computation_version,
        cost=done.cost,
        min_cell=done.min_cell,
        mechanism=done.mechanism,
        request_id=request.state.request_id,
        preview=done.preview,
        epsilon_remaining=done.epsilon_remaining,
        sufficient=done.sufficient,
        cells=cells,
    )
