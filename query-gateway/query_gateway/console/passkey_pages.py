"""Officers' passkeys in the console (issue 14): the enrolment page an invite link opens,
sign-in with a passkey, and the script that talks to ``navigator.credentials``.

Sign-in is a WebAuthn ceremony with a random challenge, used once (`governance.passkeys`);
an officer signed in this way still signs every decision with the passkey again, so a
session (however it was opened, a TOTP one included) never decides anything by itself.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from governance import Principal, Role
from query_gateway.console.auth_pages import STATIC
from query_gateway.console.route import console_router, render
from query_gateway.console.session import start_session
from query_gateway.console.state import console_state
from query_gateway.policy import public
from query_gateway.routes.officers import origin_of
from query_gateway.schemas import CeremonyPublic, SignInCreate

routes = console_router()
OFFICER_HOME = "/console/officer"


@routes.get("/console/static/passkeys.js", openapi_extra=public())
def script() -> Response:
    return Response((STATIC / "passkeys.js").read_bytes(), media_type="text/javascript",
                    headers={"cache-control": "no-cache"})  # fmt: skip


@routes.get("/console/enrol", openapi_extra=public())
def enrol_page(request: Request) -> Response:
    """The page an invite link opens; the invite itself stays in the URL fragment."""
    return render(request, "enrol.html")


@routes.post("/console/passkey/sign-in/options", openapi_extra=public())
def sign_in_options(request: Request) -> CeremonyPublic:
    gw, _ = console_state(request)
    ceremony = gw.approvals.passkeys.start_sign_in(origin_of(request))
    return CeremonyPublic(ceremony=ceremony.id, options=ceremony.options)


@routes.post("/console/passkey/sign-in", openapi_extra=public())
def sign_in(body: SignInCreate, request: Request) -> Response:
    """Open an officer session for the holder of a registered, live passkey."""
    gw, _ = console_state(request)
    officer = gw.approvals.passkeys.finish_sign_in(body.ceremony, body.assertion_json())
    if not gw.client_active(officer):
        request.state.audit["reason"] = "client_disabled"
        return JSONResponse({"reason": "login_failed"}, status_code=401)
    request.state.audit.update(actor=officer, role=Role.OFFICER.value, reason="passkey")
    response = JSONResponse({"next": OFFICER_HOME})
    who = Principal(Role.OFFICER, client_id=officer)
    start_session(response, request, gw.keys.token_key, who, gw.settings.token_ttl)
    return response
