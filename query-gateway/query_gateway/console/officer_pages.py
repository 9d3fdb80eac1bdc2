"""Officers: the inbox of access requests, votes, active approvals, revocation, model
releases, providers and their contribution receipts. Votes and revocations go through the
same code as the API (`routes.access`), so they land on the ledger signed by the officer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from credit_model import load_spec
from governance import Role, cast_vote, remaining_epsilon, revoke_approval, status_now
from ledger import LedgerError
from query_gateway.console.route import console_router, render
from query_gateway.console.state import console_state
from query_gateway.gateway import Services
from query_gateway.policy import policy
from query_gateway.schemas import VoteCreate

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
    return render(request, "officer.html",
                  pending=[r for r in rows if r["status"] == "pending"],
                  active=[r for r in rows if r["status"] == "approved"],
                  others=[r for r in rows if r["status"] not in ("pending", "approved")])  # fmt: skip


@routes.post("/console/officer/requests/{request_id}/vote", openapi_extra=policy(Role.OFFICER))
def vote(
    request_id: str,
    request: Request,
    decision: Annotated[Literal["approve", "reject"], Form()],
) -> Response:
    gw, _ = console_state(request)
    officer = request.state.principal.client_id
    cast_vote(gw, officer, request_id, VoteCreate(decision=decision).decision, request.state.audit)
    return RedirectResponse("/console/officer", status_code=303)


@routes.post("/console/officer/requests/{request_id}/revoke", openapi_extra=policy(Role.OFFICER))
def revoke(request_id: str, request: Request) -> Response:
    gw, _ = console_state(request)
    revoke_approval(gw, request.state.principal.client_id, request_id, request.state.audit)
    return RedirectResponse("/console/officer", status_code=303)


def releases(gw: Services) -> list[dict[str, Any]]:
    spec = load_spec(registry=gw.vault.registry)
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
