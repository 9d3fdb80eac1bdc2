"""RFC 9457 problem details, rendered once at the edge for every error.

The body holds the class's fixed ``title`` and ``detail``, its stable ``type`` URI, the
``status``, a machine-readable ``reason`` and the ``request_id`` (also the ``instance``).
Validation errors list locations and error types only — never the input. Unexpected
exceptions become a bare 500 problem; their details are never rendered.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from governance import (
    GatewayError,
    InvalidDPoPProof,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    QuotaExhausted,
    RateLimited,
    Unauthenticated,
    UnsupportedMediaType,
)

PROBLEM_JSON = "application/problem+json"


def problem_body(error: GatewayError, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": error.type_uri,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "instance": f"urn:dexin:request:{request_id}",
        "reason": error.reason,
        "request_id": request_id,
    }
    if isinstance(error, InvalidRequest) and error.errors:
        body["errors"] = error.errors
    receipt = getattr(error, "receipt", None)
    if receipt is not None:
        body["receipt"] = receipt
    return body


def problem_response(error: GatewayError, request_id: str) -> Response:
    headers = {}
    if isinstance(error, RateLimited | QuotaExhausted):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, InvalidDPoPProof):
        headers["WWW-Authenticate"] = 'DPoP error="invalid_dpop_proof", algs="ES256 PS256 Ed25519"'
    elif isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="dexin"'
    content = json.dumps(problem_body(error, request_id), ensure_ascii=False).encode()
    return Response(content, status_code=error.status, media_type=PROBLEM_JSON, headers=headers)


def _note(request: Request, error: GatewayError) -> None:
    request.state.audit["reason"] = error.reason
    if error.audit_detail:
        request.state.audit["detail"] = error.audit_detail


async def on_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    _note(request, exc)
    return problem_response(exc, request.state.request_id)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, object]] = [
        {"loc": [str(p) for p in e.get("loc", ())][:8], "type": str(e.get("type", "invalid"))}
        for e in exc.errors()[:20]
    ]
    reason = "json_invalid" if any(e["type"] == "json_invalid" for e in errors) else None
    return await on_gateway_error(request, InvalidRequest(errors, reason))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: GatewayError
    if isinstance(exc.__cause__, GatewayError):  # raised while FastAPI read the body
        error = exc.__cause__
    elif exc.status_code == 405:
        error = MethodNotAllowed()
    elif exc.status_code == 415:
        error = UnsupportedMediaType()
    elif exc.status_code == 404:
        error = NotFound("no_such_route")
    else:
        error = InvalidRequest(reason=f"http_{exc.status_code}")
    return await on_gateway_error(request, error)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, on_gateway_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
