"""Officers: the inbox of access requests, votes, active approvals, revocation, model
releases, providers and their contribution receipts, and the officer's own keys as the
ledger has them. Votes and revocations go through the same use cases as the API: the page's
script asks for the decision's challenge, the browser's passkey signs it
(``navigator.credentials.get``), and the assertion travels with the vote to the gateway and
the ledger, which both verify it. A session alone decides nothing."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import Request, Response

from credit_model import load_spec
from governance import (
    Role,
    cast_vote,
    decision_challenge,
    remaining_epsilon,
    revoke_approval,
    status_now,
)
from ledger import LedgerError, credential_hash
from query_gateway.console.route import console_router, render
from query_gateway.console.state import console_state
from query_gateway.gateway import Services
from query_gateway.policy import policy
from query_gateway.schemas import (
    DecisionOptionsCreate,
    DecisionOptionsPublic,
    RevocationCreate,
    VoteCreate,
)

routes = console_router()


def request_rows(gw: Services) -> list[dict[str, Any]]:
    names = {c.client_id: c.name for c in gw.control.clients()}
    rows = []
    for r in reversed(gw.control.requests()):
        votes = gw.control.votes(r.id)
        rows.append({
            "id": r.id, "status": status_now(r), "requester": names.get(r.client_id, r.client_id),
            "computation": r.computation_id, "version": r.computation_version,
            "purpose": r.purpose, "scope": r.scope, "quota": r.quota, "used": r.used,
            "left": r.quota - r.used, "epsilon": r.epsilon, "epsilon_spent": r.epsilon_spent,
            "epsilon_left": remaining_epsilon(r),
            "valid_until": r.valid_until, "approvals": sum(v.decision == "approve" for v in votes),
            "threshold": r.threshold, "voters": {v.officer_id for v in votes},
        })  # fmt: skip
    return rows


@routes.get("/console/officer", openapi_extra=policy(Role.OFFICER))
def inbox(request: Request) -> Response:
    gw, _ = console_state(request)
    rows = request_rows(gw)
    keys = officer_keys(gw, request.state.principal.client_id)
    return render(request, "officer.html",
                  pending=[r for r in rows if r["status"] == "pending"],
                  active=[r for r in rows if r["status"] == "approved"],
                  others=[r for r in rows if r["status"] not in ("pending", "approved")],
                  keys=keys)  # fmt: skip


def officer_keys(gw: Services, officer: str) -> list[dict[str, Any]]:
    """The officer's credentials with what the ledger records of each (so an officer sees a
    key registered in their name that they never enrolled)."""
    out = []
    for c in gw.approvals.passkeys.credentials(officer):
        try:
            on_chain = gw.ledger.officer_key(credential_hash(_unb64(c.credential_id)))
            block, revoked = on_chain.registered_block, on_chain.revoked
        except LedgerError:
            block, revoked = None, None
        out.append({"id": c.credential_id[:16], "created": c.created_at, "origin": c.origin,
                    "invited_by": c.invited_by, "block": block, "revoked": revoked,
                    "tx": c.ledger_tx})  # fmt: skip
    return out


@routes.post(
    "/console/officer/requests/{request_id}/decision-options", openapi_extra=policy(Role.OFFICER)
)
def options(
    request_id: str, body: DecisionOptionsCreate, request: Request
) -> DecisionOptionsPublic:
    gw, _ = console_state(request)
    officer = request.state.principal.client_id
    return DecisionOptionsPublic(**decision_challenge(gw, officer, request_id, body.decision))


@routes.post("/console/officer/requests/{request_id}/vote", openapi_extra=policy(Role.OFFICER))
def vote(request_id: str, body: VoteCreate, request: Request) -> dict[str, str]:
    gw, _ = console_state(request)
    officer = request.state.principal.client_id
    done = cast_vote(gw, officer, request_id, body.decision, body.assertion.credential(),
                     request.state.audit)  # fmt: skip
    return {"status": status_now(done)}


@routes.post("/console/officer/requests/{request_id}/revoke", openapi_extra=policy(Role.OFFICER))
def revoke(request_id: str, body: RevocationCreate, request: Request) -> dict[str, str]:
    gw, _ = console_state(request)
    officer = request.state.principal.client_id
    done = revoke_approval(gw, officer, request_id, body.assertion.credential(),
                           request.state.audit)  # fmt: skip
    return {"status": status_now(done)}


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def releases(gw: Services) -> list[dict[str, Any]]:
    """The model's releases on the ledger, each with the name of the officer who released it
    (the ledger knows the officer's address; the control plane, whose address it is)."""
    spec = load_spec(registry=gw.vault.registry)
    by_address = {c.ledger_label.lower(): c.name for c in gw.control.clients()
                  if c.ledger_label and c.ledger_label.startswith("0x")}  # fmt: skip
    out = []
    try:
        latest = gw.ledger.latest_model_version(spec.model_id)
        for version in range(1, latest + 1):
            try:
                rel = gw.ledger.get_model_release(spec.model_id, version)
            except LedgerError:
                continue
            out.append({"model": f"{rel.model_id}@{rel.version}", "digest": rel.spec_hash.hex(),
                        "officer": rel.officer, "time": rel.time,
                        "officer_name": by_address.get(str(rel.officer).lower()),
                        "current": rel.spec_hash == spec.digest})  # fmt: skip
    except LedgerError:
        pass
    return out


def receipts(gw: Services) -> list[dict[str, Any]]:
    records = gw.vault.contributions()  # a cursor of its own: never waits for an ingest
    keep = ("provider", "table_name", "accepted", "rejected", "status", "merkle_root",
            "anchor", "received_at", "contribution_id")  # fmt: skip
    return [{k: r.get(k) for k in keep} for r in reversed(records)]


@routes.get("/console/officer/registry", openapi_extra=policy(Role.OFFICER))
def registry(request: Request) -> Response:
    gw, _ = console_state(request)
    return render(request, "registry.html", releases=releases(gw), receipts=receipts(gw))
