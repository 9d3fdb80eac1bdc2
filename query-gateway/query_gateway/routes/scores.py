"""``POST /v1/scores``: the signed score of one consenting subject (`governance.scores`).

The signed body binds the bank, the access request and the subject (``subject_binding``,
`governance.subject_binding`) besides the audit entry, so it cannot be shown as someone
else's score."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from governance import SCORE_ACTION, SIGNATURE_HEADER, Principal, Role, ScoreQuery, score_subject
from query_gateway.gateway import GatewayDep, PrincipalDep, Services
from query_gateway.idempotent import IDEMPOTENCY_DOC, answer_once, signed_response
from query_gateway.policy import policy
from query_gateway.problems import refusals
from query_gateway.routes import router
from query_gateway.schemas import (
    AuditRef,
    HouseholdScorePublic,
    ProfilePublic,
    ScorePublic,
    ScoreRequest,
)

routes = router()
_PUBLIC: dict[str, type[ScorePublic | ProfilePublic]] = {
    "dimension_profile": ProfilePublic,
    "household_credit_score": HouseholdScorePublic,
}
SIGNED: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            SIGNATURE_HEADER: {
                "description": "Detached JWS (EdDSA) over the body",
                "schema": {"type": "string"},
            }
        }
    }
}


@routes.post(
    "/v1/scores",
    openapi_extra=policy(Role.BANK)
    | IDEMPOTENCY_DOC
    | refusals("invalid_id_number", "idempotency_key_reused"),
    responses=SIGNED,
    response_model=ScorePublic | HouseholdScorePublic | ProfilePublic,
    summary="Score one consenting subject",
)
async def score(
    body: ScoreRequest, request: Request, gw: GatewayDep, who: PrincipalDep
) -> Response:
    """On the event loop: every step is in memory but a first read of an approval or
    consent (a household's members' consents are read in a worker thread), and the audit
    appends are awaited without holding a thread. With an ``Idempotency-Key`` a retry gets
    the answer already signed (`query_gateway.idempotent`)."""

    async def answer() -> Response:
        return await _score(body, request, gw, who)

    return await answer_once(request, gw, who, action=SCORE_ACTION, body=body.model_dump_json(),
                             access_request_id=body.access_request_id, kind="subject",
                             answer=answer)  # fmt: skip


async def _score(body: ScoreRequest, request: Request, gw: Services, who: Principal) -> Response:
    query = ScoreQuery(body.id_number, body.purpose, body.access_request_id, body.consent_id)
    rid = request.state.request_id
    answer = await score_subject(gw, who, query, request.state.audit, rid)
    request.state.audited = True
    audit = AuditRef(index=answer.receipt.index, leaf_hash=answer.receipt.leaf_hash)
    model = _PUBLIC.get(answer.outputs["computation"], ScorePublic)
    public = model.model_validate(
        {**answer.outputs, **answer.notes, **answer.envelope, "request_id": rid, "audit": audit}
    )
    content = public.model_dump_json().encode()
    return signed_response(content, gw.signer.sign(content))
