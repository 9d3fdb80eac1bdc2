"""Sign-in, sign-out, the console's home and its static assets.

An officer's or auditor's sign-in goes through the console's `LoginGuard`: the client
address's and the account's backoff, the account's lockout, and the password hash in a
bounded worker. Each refusal has its page (zh-CN first) and its audit reason; an account's
lockout and an admin's unlock are audit entries of their own (actor: the account's client),
durable before the answer leaves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from governance import (
    AccountEvent,
    AccountLocked,
    AccountLockedOut,
    AuditAppendError,
    AuditUnavailable,
    LoginBusy,
    LoginFailed,
    LoginThrottled,
    NotFound,
    Principal,
    Role,
    Services,
    append_durably,
    make_entry,
)
from query_gateway.console.route import console_router, render
from query_gateway.console.session import end_session, start_session
from query_gateway.console.state import console_state
from query_gateway.policy import public

routes = console_router()
STATIC = Path(__file__).parent / "static"
HOME_OF = {Role.OFFICER: "/console/officer", Role.AUDITOR: "/console/auditor",
           Role.SUBJECT: "/console/me", Role.PROVIDER_STAFF: "/console/provider/disputes"}  # fmt: skip


def _asset(name: str, media_type: str) -> Response:
    return Response((STATIC / name).read_bytes(), media_type=media_type,
                    headers={"cache-control": "public, max-age=3600"})  # fmt: skip


@routes.get("/console/static/htmx.min.js", openapi_extra=public())
def htmx() -> Response:
    return _asset("vendor/htmx.min.js", "text/javascript")


@routes.get("/console/static/console.css", openapi_extra=public())
def css() -> Response:
    return _asset("console.css", "text/css")


@routes.get("/console/static/favicon.svg", openapi_extra=public())
def favicon() -> Response:
    """The console's icon (every page links it)."""
    return _asset("favicon.svg", "image/svg+xml")


@routes.get("/favicon.ico", openapi_extra=public())
def favicon_ico() -> Response:
    """Where a browser looks for an icon when a page names none (the API's pages): the same."""
    return RedirectResponse("/console/static/favicon.svg", status_code=308)


@routes.get("/console", openapi_extra=public())
def home(request: Request) -> Response:
    who = request.state.principal
    if who is not None and who.role in HOME_OF:
        return RedirectResponse(HOME_OF[who.role], status_code=303)
    return render(request, "login.html", next="")


@routes.get("/console/login", openapi_extra=public())
def login_page(request: Request) -> Response:
    return render(request, "login.html", next=request.query_params.get("next", ""))


def _next(target: str, fallback: str) -> str:
    """Only a console path of ours (no open redirect)."""
    ok = target.startswith("/console/") and "//" not in target and "\\" not in target
    return target if ok else fallback


# exception → (status, the page's message, the audit reason); the first that matches applies
REFUSALS: tuple[tuple[type[Exception], int, str, str], ...] = (
    (LoginBusy, 503, "login_busy", "login_busy"),
    (LoginThrottled, 429, "login_throttled", "login_throttled"),
    (AccountLocked, 401, "account_locked", "account_locked"),
    (AccountLockedOut, 401, "account_locked", "login_failed"),  # the lockout has its own entry
    (LoginFailed, 401, "login_failed", "login_failed"),
)


@routes.post("/console/login", openapi_extra=public())
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    code: Annotated[str, Form(max_length=12)],
    next: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    gw, state = console_state(request)
    address = request.client.host if request.client else "-"

    async def record(event: AccountEvent) -> None:
        await _audit_event(request, gw, event)

    try:
        account = await state.guard.sign_in(username, password, code, address, record)
    except (LoginFailed, LoginBusy) as exc:
        return _refused(request, exc, next)
    if not gw.client_active(account.client_id):
        request.state.audit["reason"] = "client_disabled"
        return render(request, "login.html", status=401, message="login_failed", next=next)
    request.state.audit.update(actor=account.client_id, role=account.role.value)
    response = RedirectResponse(_next(next, HOME_OF[account.role]), status_code=303)
    who = Principal(account.role, client_id=account.client_id)
    start_session(response, request, gw.keys.token_key, who, gw.settings.token_ttl)
    return response


def _refused(request: Request, exc: Exception, target: str) -> Response:
    """The sign-in form again, saying why (never which of name, password or code was wrong)."""
    status, message, reason = next((s, m, r) for kind, s, m, r in REFUSALS if isinstance(exc, kind))
    request.state.audit["reason"] = reason
    wait = int(getattr(exc, "retry_after", 1))
    response = render(request, "login.html", status=status, message=message, next=target,
                      retry_after=wait)  # fmt: skip
    if status in (429, 503):
        response.headers["retry-after"] = str(wait)
    return response


async def _audit_event(request: Request, gw: Services, event: AccountEvent) -> None:
    """An account's lockout or unlock as its own audit entry, durable before the answer."""
    context = {"actor": event.account.client_id, "role": event.account.role.value}
    try:
        entry = make_entry(context, action=event.action, decision=event.decision,
                           request_id=request.state.request_id, reason=event.reason)  # fmt: skip
        await append_durably(gw.audit, entry)
    except (AuditAppendError, OSError):
        raise AuditUnavailable("audit_unavailable") from None


@routes.post("/console/login/subject", openapi_extra=public())
def login_subject(request: Request, id_number: Annotated[str, Form(max_length=32)]) -> Response:
    """The development identity provider: the ID number alone signs a resident in. It exists
    only where ``DEXIN_UNSAFE_DEV_IDENTITY=1`` (404 otherwise: anyone who knows an ID number
    would be that resident)."""
    gw, _ = console_state(request)
    if not gw.settings.unsafe_dev_identity:
        raise NotFound("no_such_route")
    subject = gw.vault.subject_pseudonym(id_number.strip())  # InvalidIdNumber: the problem table
    request.state.audit.update(actor="subject", role=Role.SUBJECT.value, subject=subject)
    response = RedirectResponse("/console/me", status_code=303)
    who = Principal(Role.SUBJECT, subject=subject)
    start_session(response, request, gw.keys.token_key, who, gw.settings.token_ttl)
    return response


@routes.post("/console/logout", openapi_extra=public())
def logout() -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    end_session(response)
    return response
