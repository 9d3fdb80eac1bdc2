"""Disputes and credit repair in the console (issue 18, parts 2 and 5).

Residents (``/console/me/disputes``): every record about them with whether it counts (or
lapsed, was repaired, expired) and whether it is disputed; a form to dispute a record or the
score, with an optional attachment; a form to apply for the repair of a repairable record;
their disputes with the clock, and their repairs. Officers (``/console/officer/disputes``):
every dispute's clock, the escalated ones first, the score disputes they answer, and every
repair; auditors and admins see the same, read only. Providers answer through the API and
``dexin provider``, signed with their own key (their staff read the inbox in
`provider_pages`). Every page calls the same use cases as
the API and is audited like any request.

The dispute form's body is bounded (`routes.disputes.bounded_bodies`) so that Starlette
keeps the attached file in memory: it is sealed before it is stored, never written in clear.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from governance import (
    Attachment,
    DisputeDraft,
    InvalidRequest,
    Role,
    answer_dispute,
    apply_repair,
    check_attachment,
    dispute_desk,
    dispute_list,
    disputes_of,
    file_dispute,
    repair_list,
)
from query_gateway.console.dispute_words import dispute_translate
from query_gateway.console.i18n import lang_of
from query_gateway.console.route import console_router, render
from query_gateway.console.state import console_state
from query_gateway.gateway import Services
from query_gateway.policy import policy
from query_gateway.routes.disputes import CONSOLE_FILED
from vault import RowRef, subject_records

routes = console_router()
MINE = CONSOLE_FILED
OFFICERS = "/console/officer/disputes"
RECORD = r"^([a-z_]{1,40}:c[0-9a-f]{23}:[0-9]{1,10})?$"


def _words(request: Request) -> Callable[[str], str]:
    lang = lang_of(request)
    return lambda key: dispute_translate(lang, key)


def _ref(value: str) -> RowRef | None:
    """A record chosen in a form (``table:contribution:row``), or None for the score."""
    if not value:
        return None
    table, contribution_id, row = value.split(":")
    return RowRef(table=table, contribution_id=contribution_id, row=int(row))


@routes.get(MINE, openapi_extra=policy(Role.SUBJECT))
def mine(request: Request) -> Response:
    gw, _ = console_state(request)
    who = request.state.principal
    request.state.audit.update(subject=who.subject, computation="dispute")
    disputes = disputes_of(gw, who.subject)
    marked = {(d.record.contribution_id, d.record.row) for d in disputes
              if d.record is not None and d.status != "answered"}  # fmt: skip
    return render(request, "disputes.html", d=_words(request), now=dispute_desk(gw).now(),
                  records=subject_records(gw.vault, who.subject), marked=marked,
                  disputes=disputes, repairs=repair_list(gw, who),
                  tables=_table_names(gw, lang_of(request)))  # fmt: skip


def _table_names(gw: Services, lang: str) -> dict[str, str]:
    return {t.name: t.zh if lang == "zh" else t.en for t in gw.vault.registry.tables}


@routes.post(MINE, openapi_extra=policy(Role.SUBJECT))
def file(
    request: Request,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    record: Annotated[str, Form(pattern=RECORD)] = "",
    attachment: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """File the dispute (a record, or the score when none is chosen), then show the page."""
    gw, _ = console_state(request)
    draft = DisputeDraft(_ref(record), reason, _attachment(gw, attachment))
    file_dispute(gw, request.state.principal.subject, draft, request.state.audit)
    return RedirectResponse(MINE, status_code=303)


def _attachment(gw: Services, upload: UploadFile | None) -> Attachment | None:
    """The uploaded file (in memory: the body is bounded below Starlette's spool size), or
    None when the form's file field was left empty."""
    if upload is None or not upload.filename:
        return None
    content = upload.file.read(gw.settings.dispute_attachment_max + 1)
    if len(content) > gw.settings.dispute_attachment_max:
        raise InvalidRequest(reason="attachment_too_large")
    media_type = (upload.content_type or "").split(";")[0].strip()
    return check_attachment(Attachment(upload.filename[-100:], media_type, content))


@routes.post("/console/me/repairs", openapi_extra=policy(Role.SUBJECT))
def repair(
    request: Request,
    record: Annotated[str, Form(pattern=RECORD, min_length=1)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    gw, _ = console_state(request)
    ref = _ref(record)
    assert ref is not None
    apply_repair(gw, request.state.principal.subject, ref, reason, request.state.audit)
    return RedirectResponse(MINE, status_code=303)


@routes.get(OFFICERS, openapi_extra=policy(Role.OFFICER, Role.AUDITOR, Role.ADMIN))
def dashboard(request: Request) -> Response:
    """Every dispute's clock (escalation runs first), and every repair."""
    gw, _ = console_state(request)
    who = request.state.principal
    request.state.audit["computation"] = "dispute"
    disputes = dispute_list(gw, who)
    return render(request, "dispute_dashboard.html", d=_words(request), disputes=disputes,
                  now=dispute_desk(gw).now(), counts=_counts(disputes),
                  repairs=repair_list(gw, who), tables=_table_names(gw, lang_of(request)),
                  answers=who.role is Role.OFFICER)  # fmt: skip


def _counts(disputes: list[Any]) -> dict[str, int]:
    return {
        "open": sum(d.status == "open" for d in disputes),
        "escalated": sum(d.status == "escalated" for d in disputes),
        "answered": sum(d.status == "answered" for d in disputes),
        "late": sum(d.late for d in disputes),
    }


@routes.post(OFFICERS + "/{dispute_id}/answer", openapi_extra=policy(Role.OFFICER))
def confirm(
    dispute_id: str, request: Request, note: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    """An officer confirms a dispute of a score, with a note to the resident."""
    gw, _ = console_state(request)
    who = request.state.principal
    answer_dispute(gw, who, dispute_id, "confirmed", note, request.state.audit)
    return RedirectResponse(OFFICERS, status_code=303)
