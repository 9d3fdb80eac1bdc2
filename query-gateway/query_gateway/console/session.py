"""Console sessions and CSRF protection.

A session cookie holds a sealed gateway token (`credentials.issue_token`: AES-256-GCM under
the token key, so it is both signed and opaque) for the signed-in principal; it is
``HttpOnly``, ``SameSite=Strict``, ``Path=/console`` and ``Secure`` whenever the request came
over HTTPS. Forms carry a CSRF token (double submit: a random value in its own cookie and in
the form or the ``X-CSRF-Token`` header, compared in constant time); a request that
authenticates with a bearer token instead of the cookie has no ambient credential to abuse.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from governance import Principal, issue_token

SESSION_COOKIE = "dexin_session"
CSRF_COOKIE = "dexin_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LANG_COOKIE = "dexin_lang"
PATH = "/console"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(
    response: Response, request: Request, key: bytes, who: Principal, ttl: int
) -> None:
    token = issue_token(key, who, ttl)
    response.set_cookie(SESSION_COOKIE, token, max_age=ttl, path=PATH, httponly=True,
                        samesite="strict", secure=_secure(request))  # fmt: skip


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PATH)


def csrf_token(request: Request) -> str:
    """The request's CSRF value (a fresh one if the browser has none yet)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 16 <= len(existing) <= 64:
        return existing
    fresh: str = getattr(request.state, "csrf_new", None) or secrets.token_urlsafe(24)
    request.state.csrf_new = fresh
    return fresh


def keep_csrf(request: Request, response: Response) -> None:
    fresh = getattr(request.state, "csrf_new", None)
    if fresh:
        response.set_cookie(CSRF_COOKIE, fresh, path=PATH, httponly=True, samesite="strict",
                            secure=_secure(request))  # fmt: skip


async def csrf_ok(request: Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())
