"""Credit repair (信用修复, `governance.repairs`): a provider repairs its record, or decides a
resident's application made after the record's minimum publication period; officers and
auditors see every repair. A granted repair ends the record's use from its date."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from governance import Role, apply_repair, decide_repair, file_repair, repair_list
from query_gateway.dispute_schemas import RepairApply, RepairDecision, RepairFile, RepairPublic
from query_gateway.gateway import GatewayDep, PrincipalDep
from query_gateway.policy import policy
from query_gateway.routes import router

routes = router()
RepairId = Annotated[str, Path(pattern=r"^rep_[0-9a-f]{24}$")]


@routes.post("/v1/me/repairs", openapi_extra=policy(Role.SUBJECT), status_code=201,
             response_model=RepairPublic, summary="Apply for the repair of one of my records")  # fmt: skip
def apply(body: RepairApply, request: Request, gw: GatewayDep, who: PrincipalDep) -> RepairPublic:
    assert who.subject is not None
    view = apply_repair(gw, who.subject, body.record.vault_ref(), body.reason, request.state.audit)
    return RepairPublic.of(view)


@routes.get("/v1/me/repairs", openapi_extra=policy(Role.SUBJECT),
            response_model=list[RepairPublic], summary="My repairs and applications")  # fmt: skip
def mine(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[RepairPublic]:
    request.state.audit.update(subject=who.subject, computation="repair")
    return [RepairPublic.of(r) for r in repair_list(gw, who)]


@routes.get("/v1/repairs", openapi_extra=policy(Role.PROVIDER, Role.OFFICER, Role.AUDITOR, Role.ADMIN),
            response_model=list[RepairPublic],
            summary="A provider's repairs and applications, or every repair")  # fmt: skip
def listed(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[RepairPublic]:
    request.state.audit["computation"] = "repair"
    return [RepairPublic.of(r) for r in repair_list(gw, who)]


@routes.post("/v1/repairs", openapi_extra=policy(Role.PROVIDER), status_code=201,
             response_model=RepairPublic, summary="Repair one of my records from a date")  # fmt: skip
def repair(body: RepairFile, request: Request, gw: GatewayDep, who: PrincipalDep) -> RepairPublic:
    view = file_repair(gw, who, body.record.vault_ref(), body.repaired_on, body.note,
                       request.state.audit, body.signed())  # fmt: skip
    return RepairPublic.of(view)


@routes.post("/v1/repairs/{repair_id}/decision", openapi_extra=policy(Role.PROVIDER),
             response_model=RepairPublic, summary="Grant or refuse a resident's application")  # fmt: skip
def decide(repair_id: RepairId, body: RepairDecision, request: Request, gw: GatewayDep,
           who: PrincipalDep) -> RepairPublic:  # fmt: skip
    view = decide_repair(gw, who, repair_id, body.decision, body.repaired_on, body.note,
                         request.state.audit, body.signed())  # fmt: skip
    return RepairPublic.of(view)
