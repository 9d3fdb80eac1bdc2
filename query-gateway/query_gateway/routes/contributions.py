"""Providers' contributions: an upload into the vault's ingest, answered with its receipt."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import File, Form, Request, UploadFile

from governance import (
    ContributionRefused,
    InvalidRequest,
    RefusedContribution,
    Role,
    accept_contribution,
)
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.policy import policy
from query_gateway.routes import router
from query_gateway.schemas import ContributionPublic, RejectionPublic
from vault import Receipt

routes = router()
MAX_REJECTIONS_SHOWN = 1000
CHUNK = 1 << 20


@routes.post(
    "/v1/contributions",
    openapi_extra=policy(Role.PROVIDER),
    status_code=201,
    response_model=ContributionPublic,
    summary="Submit a contribution (CSV or Parquet)",
)
def contribute(
    table: Annotated[str, Form(pattern=r"^[a-z_]{1,40}$")],
    file: Annotated[UploadFile, File()],
    request: Request,
    gw: GatewayDep,
    who: PrincipalDep,
) -> ContributionPublic:
    assert who.client_id is not None
    client = gw.control.active_client(who.client_id)
    assert client is not None
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidRequest(reason="unsupported_file_type")
    uploads = gw.workdir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = uploads / f"{secrets.token_hex(12)}{suffix}"
    try:
        with open(path, "wb") as out:
            while chunk := file.file.read(CHUNK):
                out.write(chunk)
        receipt = accept_contribution(gw, client.name, table, path)
    except RefusedContribution as exc:
        public = _public(exc.receipt).model_dump(mode="json") if exc.receipt else None
        raise ContributionRefused(public or {"refusal": exc.reason}) from None
    finally:
        path.unlink(missing_ok=True)
    request.state.audit["computation"] = f"contribution:{table}"
    return _public(receipt)


def _public(r: Receipt) -> ContributionPublic:
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
