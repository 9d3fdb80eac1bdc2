"""Residents sign in at the authority's identity provider, and prove each consent there.

``GET /console/login/resident`` sends the browser to the IdP (authorization code + PKCE, a
fresh sign-in that releases the ID number once); ``GET /console/oidc/callback`` redeems the
code and, by what the sign-in was for: starts the resident's session (linking the IdP's
pairwise ``sub`` to their pseudonym), or records the consent grant or withdrawal the fresh
sign-in proves (`governance.residents.require_evidence`).

What the callback needs (PKCE verifier, state, the terms, the resident) travels sealed in a
cookie (AES-256-GCM under a key derived from the token key, ten minutes): it is
``SameSite=Lax`` because the callback is a navigation from the IdP's site, on which the
``Strict`` session cookie is not sent. For the same reason the callback answers with a page
that continues to the console by a same-site link instead of a redirect.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from governance import (
    EvidenceRejected,
    IdentityProviderUnavailable,
    PendingSignIn,
    PolicyDenied,
    Principal,
    Role,
    SignedIn,
    hkdf,
    link_resident,
)
from query_gateway.console.route import console_router, render
from query_gateway.console.session import PATH, start_session
from query_gateway.console.state import console_state
from query_gateway.gateway import Services
from query_gateway.policy import public

routes = console_router()
PENDING_COOKIE = "dexin_oidc"
PENDING_SECONDS = 600
_AAD = b"dexin.console.oidc-pending.v1"


@routes.get("/console/login/resident", openapi_extra=public())
def resident_sign_in(request: Request) -> Response:
    """Send the browser to the IdP for an identifying sign-in."""
    gw, _ = console_state(request)
    return begin(request, gw, {"action": "sign_in", "nonce": secrets.token_hex(16)}, None)


def begin(request: Request, gw: Services, terms: dict[str, Any], subject: str | None) -> Response:
    """Redirect to the IdP for a fresh sign-in bound to ``terms`` (the consent use cases'
    console forms call this too); ``subject``: the signed-in resident the terms are for."""
    party = gw.relying_party
    if party is None:
        request.state.audit["reason"] = "no_identity_provider"
        return render(request, "login.html", status=503, message="no_identity_provider", next="")
    try:
        url, pending = party.begin(terms, identify=terms["action"] == "sign_in")
    except IdentityProviderUnavailable:
        request.state.audit["reason"] = "identity_provider_unavailable"
        return render(request, "login.html", status=503, message="idp_unavailable", next="")
    response = RedirectResponse(url, status_code=303)
    sealed = _seal(gw.keys.token_key, {"pending": dataclasses.asdict(pending), "subject": subject})
    response.set_cookie(PENDING_COOKIE, sealed, max_age=PENDING_SECONDS, path=PATH,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")  # fmt: skip
    return response


@routes.get("/console/oidc/callback", openapi_extra=public())
def callback(request: Request) -> Response:
    """The IdP's redirect back: finish what the sign-in was for."""
    gw, _ = console_state(request)
    held = _open(gw.keys.token_key, request.cookies.get(PENDING_COOKIE, ""))
    if held is None or gw.relying_party is None:
        return _refused(request, "sign_in_expired")
    pending = PendingSignIn(**held["pending"])
    try:
        signed = gw.relying_party.finish(pending, dict(request.query_params))
        signed_in = _complete(request, gw, pending, held.get("subject"), signed)
    except (EvidenceRejected, PolicyDenied) as exc:
        return _refused(request, exc.reason)
    except IdentityProviderUnavailable:
        return _refused(request, "idp_unavailable", 503)
    response = render(request, "continue.html", target="/console/me")
    if signed_in is not None:
        who = Principal(Role.SUBJECT, subject=signed_in)
        start_session(response, request, gw.keys.token_key, who, gw.settings.token_ttl)
    response.delete_cookie(PENDING_COOKIE, path=PATH)
    return response


def _complete(
    request: Request, gw: Services, pending: PendingSignIn, subject: str | None, signed: SignedIn
) -> str | None:
    """Do what the sign-in proved; returns the resident to start a session for, if any."""
    if pending.terms["action"] == "sign_in":
        subject = link_resident(gw, signed.evidence)
        request.state.audit.update(actor="subject", role=Role.SUBJECT.value, subject=subject)
        return subject
    if subject is None:
        raise EvidenceRejected("sign_in_expired")
    from query_gateway.console.subject_pages import record_proved  # the consent forms' page

    record_proved(request, gw, subject, pending.terms, signed.id_token)
    return None


def _refused(request: Request, reason: str, status: int = 400) -> Response:
    """The sign-in proved nothing: 400 with the sign-in page (the reason goes to the audit
    entry only)."""
    request.state.audit["reason"] = reason
    response = render(request, "login.html", status=status, message="sign_in_refused", next="")
    response.delete_cookie(PENDING_COOKIE, path=PATH)
    return response


def _seal(key: bytes, value: dict[str, Any]) -> str:
    body = json.dumps({"v": value, "exp": int(time.time()) + PENDING_SECONDS}).encode()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(hkdf(key, _AAD)).encrypt(nonce, body, _AAD)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def _open(key: bytes, token: str) -> dict[str, Any] | None:
    """The sealed value, or None if absent, forged or expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(AESGCM(hkdf(key, _AAD)).decrypt(raw[:12], raw[12:], _AAD))
    except (ValueError, InvalidTag):
        return None
    if not isinstance(body, dict) or body.get("exp", 0) < time.time():
        return None
    value = body.get("v")
    return value if isinstance(value, dict) else None
