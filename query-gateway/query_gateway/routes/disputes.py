"""Disputes (异议, 征信业管理条例 第二十五条): residents file them, providers (officers, for a
score) answer them within 20 days, officers and auditors follow the clocks
(`governance.disputes`, `governance.dispute_answers`).

Every request names the dispute in its audit entry (``parameters``) and the resident it
concerns (``subject``). Bodies (`bounded_bodies`): a dispute with its attachment is bounded
by ``DEXIN_DISPUTE_ATTACHMENT_MAX`` (in base64, and the rest), a correction by the
contribution upload limit; everything else by the usual small body limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from governance import (
    ContributionRefused,
    DisputeDraft,
    DisputeView,
    GatewaySettings,
    Principal,
    RefusedContribution,
    Role,
    SignedAnswer,
    SignedContribution,
    answer_dispute,
    attachment_of,
    correct_dispute,
    dispute_desk,
    dispute_detail,
    dispute_list,
    disputes_of,
    file_dispute,
    parse_attachment,
)
from query_gateway.dispute_schemas import (
    AnswerCreate,
    CorrectionPublic,
    CorrectionReceipt,
    DisputeCreate,
    DisputePublic,
)
from query_gateway.gateway import GatewayDep, PrincipalDep, Services
from query_gateway.policy import policy
from query_gateway.problems import refusals
from query_gateway.routes import router
from query_gateway.uploads import SIGNED_OPENAPI_BODY, ContributionForm, read_contribution

routes = router()
DisputeId = Annotated[str, Path(pattern=r"^dsp_[0-9a-f]{24}$")]
FILED = "/v1/me/disputes"
CORRECTIONS = "/v1/corrections"


CONSOLE_FILED = "/console/me/disputes"
UPLOADS = (FILED, CONSOLE_FILED, CORRECTIONS)  # beyond the small body limit
CONSOLE_FORM_MAX = 1024 * 1024  # Starlette keeps a form's file in memory up to this size


def bounded_bodies(config: GatewaySettings) -> list[tuple[set[str], int]]:
    """The bounds of the bodies that carry a dispute's attachment (inside the contribution
    upload limit): the API's JSON (the attachment in base64, and room for the rest), and
    the console's form, whose file Starlette parses in memory only up to
    `CONSOLE_FORM_MAX` (beyond, it would spool it to a plaintext temporary file)."""
    api = (config.dispute_attachment_max * 4) // 3 + 16 * 1024
    return [({FILED}, api), ({CONSOLE_FILED}, CONSOLE_FORM_MAX)]


def _public(gw: Services, view: DisputeView) -> DisputePublic:
    return DisputePublic.of(view, dispute_desk(gw).now())


@routes.post(FILED, openapi_extra=policy(Role.SUBJECT)
             | refusals("attachment_invalid"), status_code=201,
             response_model=DisputePublic, summary="Dispute one of my records, or my score")  # fmt: skip
def file(body: DisputeCreate, request: Request, gw: GatewayDep, who: PrincipalDep) -> DisputePublic:
    """The record is marked at once: every score that uses it says ``disputed``."""
    assert who.subject is not None
    a = body.attachment
    attachment = None
    if a is not None:
        limit = gw.settings.dispute_attachment_max
        attachment = parse_attachment(a.name, a.media_type, a.content, limit)
    ref = body.record.vault_ref() if body.record else None
    draft = DisputeDraft(ref, body.reason, attachment)
    return _public(gw, file_dispute(gw, who.subject, draft, request.state.audit))


@routes.get(FILED, openapi_extra=policy(Role.SUBJECT), response_model=list[DisputePublic],
            summary="My disputes and their clocks")  # fmt: skip
def mine(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[DisputePublic]:
    assert who.subject is not None
    request.state.audit.update(subject=who.subject, computation="dispute")
    return [_public(gw, d) for d in disputes_of(gw, who.subject)]


@routes.get("/v1/disputes", openapi_extra=policy(Role.PROVIDER, Role.OFFICER, Role.AUDITOR, Role.ADMIN),
            response_model=list[DisputePublic],
            summary="A provider's inbox, or every dispute and its clock")  # fmt: skip
def inbox(request: Request, gw: GatewayDep, who: PrincipalDep) -> list[DisputePublic]:
    request.state.audit["computation"] = "dispute"
    return [_public(gw, d) for d in dispute_list(gw, who)]


@routes.get("/v1/disputes/{dispute_id}", openapi_extra=policy(Role.PROVIDER, Role.OFFICER, Role.ADMIN),
            response_model=DisputePublic, summary="One dispute, with its reason")  # fmt: skip
def one(
    dispute_id: DisputeId, request: Request, gw: GatewayDep, who: PrincipalDep
) -> DisputePublic:
    request.state.audit.update(computation="dispute", parameters={"dispute": dispute_id})
    return _public(gw, dispute_detail(gw, who, dispute_id))


@routes.get("/v1/disputes/{dispute_id}/attachment",
            openapi_extra=policy(Role.SUBJECT, Role.PROVIDER, Role.OFFICER, Role.ADMIN),
            response_class=Response, summary="The file sent with a dispute")  # fmt: skip
def attachment(
    dispute_id: DisputeId, request: Request, gw: GatewayDep, who: PrincipalDep
) -> Response:
    """Served as a download of its declared type, never rendered in the gateway's origin."""
    request.state.audit.update(computation="dispute", parameters={"dispute": dispute_id})
    found = attachment_of(gw, who, dispute_id)
    headers = {"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "sandbox", "Cache-Control": "no-store"}  # fmt: skip
    return Response(found.content, media_type=found.media_type, headers=headers)


@routes.post("/v1/disputes/{dispute_id}/answer", openapi_extra=policy(Role.PROVIDER, Role.OFFICER),
             response_model=DisputePublic, summary="Confirm or delete the disputed record")  # fmt: skip
def answer(dispute_id: DisputeId, body: AnswerCreate, request: Request, gw: GatewayDep,
           who: PrincipalDep) -> DisputePublic:  # fmt: skip
    """A provider's answer carries its signature over the canonical answer."""
    signed = None
    if body.answered_at is not None and body.signature is not None:
        signed = SignedAnswer(body.answered_at, body.signature)
    view = answer_dispute(gw, who, dispute_id, body.outcome, body.note, request.state.audit,
                          signed)  # fmt: skip
    return _public(gw, view)


@routes.post(CORRECTIONS, openapi_extra=policy(Role.PROVIDER) | SIGNED_OPENAPI_BODY
             | refusals("unsupported_file_type", "unreadable_contribution", "wrong_table"), status_code=201,
             response_model=CorrectionPublic,
             summary="Answer a dispute by a correcting contribution (one row)")  # fmt: skip
async def correct(
    request: Request, gw: GatewayDep, who: PrincipalDep,
    dispute: Annotated[str, Query(pattern=r"^dsp_[0-9a-f]{24}$")],
) -> CorrectionPublic:  # fmt: skip
    """The file restates the disputed record (same key, same resident, one row), signed by
    the provider like any contribution (its statement naming the dispute: 422 otherwise);
    it is ingested like any contribution, anchored, and supersedes the disputed row."""
    form = await read_contribution(request, gw.workdir / "uploads")
    with form.upload:
        return await run_in_threadpool(_correct, request, gw, who, dispute, form)


def _correct(request: Request, gw: Services, who: Principal, dispute: str,
             form: ContributionForm) -> CorrectionPublic:  # fmt: skip
    audit = request.state.audit
    signed = None
    if form.statement is not None and form.signature is not None:
        signed = SignedContribution(form.statement, form.signature)
    try:
        view, receipt = correct_dispute(gw, who, dispute, form.table, form.upload, audit,
                                        signed=signed)  # fmt: skip
    except RefusedContribution as exc:
        shown: dict[str, object] = {"refusal": exc.reason}
        if exc.receipt is not None:
            shown |= {"contribution_id": exc.receipt.contribution_id, "status": "refused"}
        raise ContributionRefused(shown) from None
    return CorrectionPublic(dispute=_public(gw, view), contribution=CorrectionReceipt.of(receipt))
