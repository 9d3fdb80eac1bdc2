"""``POST /v1/aggregates``: an approved aggregate, suppressed and noised (`governance.aggregates`),
signed like a score (``Dexin-Signature``), retried safely with an ``Idempotency-Key``."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import Request, Response

from governance import AggregateQuery, Principal, Role, release_aggregate
from query_gateway.gateway import GatewayDep, PrincipalDep, Services
from query_gateway.idempotent import IDEMPOTENCY_DOC, answer_once, signed_response
from query_gateway.policy import policy
from query_gateway.problems import refusals
from query_gateway.routes import router
from query_gateway.schemas import AggregateCreate, AggregatePublic, CellPublic

routes = router()
AGGREGATE_ACTION = "POST /v1/aggregates"
SIGNED: dict[int | str, dict[str, Any]] = {
    200: {"headers": {"Dexin-Signature": {"description": "Detached JWS (EdDSA) over the body",
                                          "schema": {"type": "string"}}}}
}  # fmt: skip


@routes.post(
    "/v1/aggregates",
    openapi_extra=policy(Role.BANK)
    | IDEMPOTENCY_DOC
    | refusals(
        "parameters_mismatch", "parameter_invalid", "missing_parameter", "idempotency_key_reused"
    ),
    responses=SIGNED,
    response_model=AggregatePublic,
    summary="An approved aggregate, suppressed and noised (ε from the approval)",
)
async def aggregate(
    body: AggregateCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> Response:
    """The release (or preview), signed like a score. With an ``Idempotency-Key`` a retry
    gets the release already signed and spends no second quota unit and no second ε."""

    async def answer() -> Response:
        public = await anyio.to_thread.run_sync(_release, body, request, gw, who)
        content = public.model_dump_json().encode()
        return signed_response(content, gw.signer.sign(content))

    replayed = {"parameters": dict(body.parameters)} if body.parameters else {}
    return await answer_once(request, gw, who, action=AGGREGATE_ACTION,
                             body=body.model_dump_json(), access_request_id=body.access_request_id,
                             kind="aggregate", answer=answer, replayed=replayed)  # fmt: skip


def _release(
    body: AggregateCreate, request: Request, gw: Services, who: Principal
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
