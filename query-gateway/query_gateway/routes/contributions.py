"""Providers' contributions: a signed upload into the vault's ingest, answered with its
receipt countersigned by the gateway (issue 17).

The body is read as it streams (`query_gateway.uploads`): the file is sealed (encrypted
under a key held in memory) as it arrives, so no byte of it rests on disk in plaintext; the
ingest then runs in a worker thread and reads it back through the seal.
"""

from __future__ import annotations

import csv
from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from governance import (
    ContributionRefused,
    RefusedContribution,
    Role,
    SignedContribution,
    accept_contribution,
)
from query_gateway.gateway import GatewayDep, PrincipalDep, Services
from query_gateway.policy import policy
from query_gateway.problems import refusals
from query_gateway.routes import router
from query_gateway.schemas import ContributionPublic, RejectionPublic
from query_gateway.uploads import SIGNED_OPENAPI_BODY, ContributionForm, read_contribution
from vault import Receipt

routes = router()
MAX_REJECTIONS_SHOWN = 1000


@routes.post(
    "/v1/contributions",
    openapi_extra=policy(Role.PROVIDER)
    | SIGNED_OPENAPI_BODY
    | refusals("unsupported_file_type", "unreadable_contribution", "wrong_table"),
    status_code=201,
    response_model=ContributionPublic,
    summary="Submit a contribution (CSV or Parquet), signed by the provider",
)
async def contribute(request: Request, gw: GatewayDep, who: PrincipalDep) -> ContributionPublic:
    form = await read_contribution(request, gw.workdir / "uploads")
    with form.upload:
        return await run_in_threadpool(_ingest, request, gw, who.client_id, form)


def _ingest(
    request: Request, gw: Services, client_id: str | None, form: ContributionForm
) -> ContributionPublic:
    assert client_id is not None
    client = gw.control.active_client(client_id)
    assert client is not None
    signed = None
    if form.statement is not None and form.signature is not None:
        signed = SignedContribution(form.statement, form.signature)
    request.state.audit["computation"] = f"contribution:{form.table}"
    try:
        done = accept_contribution(gw, client_id, client.name, form.table, form.upload, signed)
    except RefusedContribution as exc:
        public = _public(exc.receipt).model_dump(mode="json") if exc.receipt else None
        raise ContributionRefused(public or {"refusal": exc.reason}) from None
    return _public(done.receipt, done.document, done.signature)


def _public(
    r: Receipt, document: str | None = None, signature: str | None = None
) -> ContributionPublic:
    return ContributionPublic(
        contribution_id=r.contribution_id,
        provider=r.provider,
        table=r.table,
        file_sha256=r.file_sha256,
        format=r.format,
        submitted=r.submitted,
        accepted=r.accepted,
        rejected=r.rejected,
        status=r.status,
        refusal=r.refusal,
        merkle_root=r.merkle_root,
        schema_digest=r.schema_digest,
        received_at=r.received_at,
        already_loaded=r.already_loaded,
        anchor=r.anchor,
        rejections=_rejections(r.report),
        origin=r.origin,
        receipt_document=document,
        receipt_signature=signature,
    )


def _rejections(report: str | None) -> list[RejectionPublic]:
    """Row, column and reason code of each rejected row (the report holds no values)."""
    if not report or not Path(report).exists():
        return []
    with open(report, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:MAX_REJECTIONS_SHOWN]
    return [
        RejectionPublic(row=int(r["row"]), column=r.get("column") or None, code=r["code"])
        for r in rows
    ]
