"""Answers: scores of consenting subjects (signed) and aggregates with differential privacy."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response

from query_gateway.approvals import require_usable
from query_gateway.audit_sink import AuditAppendError, AuditEntry, AuditReceipt, append_durably
from query_gateway.catalogue import Computation
from query_gateway.credentials import Principal, Role
from query_gateway.errors import (
    AuditUnavailable,
    InvalidIdNumber,
    InvalidRequest,
    NotFound,
    PolicyDenied,
)
from query_gateway.gateway import Gateway, GatewayDep, PrincipalDep
from query_gateway.models import AccessRequest
from query_gateway.policy import policy
from query_gateway.privacy import release
from query_gateway.routes import router
from query_gateway.schemas import (
    AggregateCreate,
    AggregatePublic,
    CellPublic,
    ProfilePublic,
    ScorePublic,
    ScoreRequest,
)
from query_gateway.scoring import ScoreResult
from query_gateway.signing import SIGNATURE_HEADER
from vault.errors import InvalidIdNumber as VaultInvalidIdNumber

routes = router()
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


def approval(
    gw: Gateway, who: Principal, request_id: str, privacy: str
) -> tuple[AccessRequest, Computation]:
    try:
        found = gw.control.approval_snapshot(request_id)
    except NotFound:
        raise PolicyDenied("approval_missing") from None
    if found.client_id != who.client_id:
        raise PolicyDenied("approval_missing")
    computation = gw.catalogue.get(found.computation_id)
    if computation.privacy != privacy:
        raise PolicyDenied("wrong_computation")
    assert who.client_id is not None
    require_usable(found, who.client_id, computation)
    return found, computation


@routes.post(
    "/v1/scores",
    openapi_extra=policy(Role.BANK),
    responses=SIGNED,
    response_model=ScorePublic | ProfilePublic,
    summary="Score one consenting subject",
)
async def score(
    body: ScoreRequest, request: Request, gw: GatewayDep, who: PrincipalDep
) -> Response:
    """On the event loop: every step is in memory (the control plane's snapshots, the quota
    count, the feature store) but for a first read of an approval or consent, and the audit
    append is awaited without holding a thread."""
    audit = request.state.audit
    audit.update(
        purpose=body.purpose, access_request=body.access_request_id, consent=body.consent_id
    )
    try:
        subject = gw.vault.subject_pseudonym(body.id_number)
    except VaultInvalidIdNumber:
        raise InvalidIdNumber() from None
    audit["subject"] = subject
    found, computation = approval(gw, who, body.access_request_id, "subject")
    audit["computation"] = computation.id
    if body.purpose != found.purpose:
        raise PolicyDenied("wrong_purpose")
    assert who.client_id is not None
    gw.control.valid_consent(body.consent_id, subject, who.client_id, body.purpose)
    gw.control.spend_quota(found)
    payload = answer(gw, computation, subject)
    try:
        receipt = await audit_allow(gw, request, payload)
    except AuditUnavailable:
        gw.control.refund_quota(found)  # nothing was answered
        raise
    payload["request_id"] = request.state.request_id
    payload["audit"] = {"index": receipt.index, "leaf_hash": receipt.leaf_hash}
    content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(
        content, media_type="application/json", headers={SIGNATURE_HEADER: gw.signer.sign(content)}
    )


def answer(gw: Gateway, computation: Computation, subject: str) -> dict[str, Any]:
    """Only the declared outputs of ``computation``, as JSON-ready values."""
    result: ScoreResult | None
    if computation.unit == "household":
        household = gw.scores.household_of(subject)
        result = None if household is None else gw.scores.score_household(household)
    else:
        result = gw.scores.score_subject(subject)
    out: dict[str, Any] = {
        "computation": computation.id,
        "computation_version": computation.version,
        "unit": computation.unit,
    }
    if result is None:
        full = {k: None for k in ScoreResult.model_fields} | {
            "reason_codes": [],
            "no_score_reason": "not_scored",
        }
    else:
        full = result.model_dump(mode="json")
    out.update({k: full[k] for k in computation.outputs})
    return out


async def audit_allow(gw: Gateway, request: Request, payload: dict[str, Any]) -> AuditReceipt:
    """Append the allow entry before the answer exists outside this process."""
    a = request.state.audit
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    entry = AuditEntry(
        time=AuditEntry.now(),
        actor=a["actor"],
        role=a["role"],
        action="POST /v1/scores",
        decision="allow",
        request_id=request.state.request_id,
        computation=a.get("computation"),
        purpose=a.get("purpose"),
        access_request=a.get("access_request"),
        consent=a.get("consent"),
        subject=a.get("subject"),
        result_digest=digest,
    )
    try:
        receipt = await append_durably(gw.audit, entry)
    except (AuditAppendError, OSError):
        raise AuditUnavailable("audit_unavailable") from None
    request.state.audited = True
    gw.accesses.note(receipt.index, entry)  # the subject's view of who accessed them
    return receipt


@routes.post(
    "/v1/aggregates",
    openapi_extra=policy(Role.BANK),
    response_model=AggregatePublic,
    summary="An approved aggregate, suppressed and noised (ε from the approval)",
)
def aggregate(
    body: AggregateCreate, request: Request, gw: GatewayDep, who: PrincipalDep
) -> AggregatePublic:
    request.state.audit.update(computation=body.computation, access_request=body.access_request_id)
    found, computation = approval(gw, who, body.access_request_id, "aggregate")
    request.state.audit["purpose"] = found.purpose
    if computation.id != body.computation:
        raise PolicyDenied("wrong_computation")
    if set(body.parameters) != set(computation.inputs):
        raise InvalidRequest(reason="parameters_mismatch")
    if found.epsilon is None:
        raise PolicyDenied("no_budget")
    remaining = max(0.0, found.epsilon - found.epsilon_spent)
    common = {
        "computation": computation.id,
        "computation_version": computation.version,
        "cost": body.epsilon,
        "min_cell": gw.settings.min_cell,
        "mechanism": "opendp discrete laplace",
        "request_id": request.state.request_id,
    }
    if body.preview:
        return AggregatePublic(
            preview=True,
            epsilon_remaining=remaining,
            cells=None,
            sufficient=body.epsilon <= remaining + 1e-9,
            **common,
        )
    gw.control.spend_quota(found)
    remaining = gw.control.spend_epsilon(found, body.epsilon)
    counts = gw.aggregates.counts(computation.id, dict(body.parameters))
    cells = release(
        counts,
        epsilon=body.epsilon,
        sensitivity=computation.sensitivity or 1,
        min_cell=gw.settings.min_cell,
    )
    return AggregatePublic(
        preview=False,
        epsilon_remaining=remaining,
        sufficient=True,
        cells=[CellPublic(group=c.group, count=c.count, suppressed=c.suppressed) for c in cells],
        **common,
    )
