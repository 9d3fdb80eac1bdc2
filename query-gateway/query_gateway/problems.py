"""RFC 9457 problem details: one table maps every error the API answers, rendered once here.

`PROBLEMS` gives each error class its problem: a stable ``type`` (``urn:dexin:problem:<code>``),
the HTTP ``status`` and a fixed ``title`` and ``detail``. The governance core's refusals
(`governance.GatewayError` and its subclasses) carry only a machine-readable ``reason``; the
other core packages' errors that reach the edge (the vault's `InvalidIdNumber`, the ledger's
errors, a full cosignature queue) are answered from the same table with the entry's fixed
``reason``, so routes do not catch and re-raise them. An error's class is looked up along its
MRO: the most specific entry wins.

The body holds ``type``, ``title``, ``status``, ``detail``, ``instance``, ``reason`` and
``request_id``. Validation errors list locations and error types only — never the input.
Unexpected exceptions become a bare 500 problem; their details are never rendered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from audit import TooManySubmissions
from governance import (
    AuditUnavailable,
    BudgetExhausted,
    Conflict,
    ContributionRefused,
    GatewayError,
    InvalidClient,
    InvalidDPoPProof,
    InvalidRequest,
    InvalidTokenRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PolicyDenied,
    QuotaExhausted,
    RateLimited,
    ServiceUnavailable,
    SignatureRefused,
    Unauthenticated,
    UnsupportedGrant,
    UnsupportedMediaType,
    WrongRole,
)
from ledger import LedgerError
from vault import InvalidIdNumber

PROBLEM_JSON = "application/problem+json"
DPOP_ALGS = "ES256 PS256 Ed25519"  # governance.client_keys.ALGORITHMS
PROBLEM_BASE = "urn:dexin:problem:"


@dataclass(frozen=True)
class Problem:
    """How the API answers one error class. ``reason`` is the fixed reason of an error that
    has none of its own (every core error but the governance refusals)."""

    status: int
    code: str
    title: str
    detail: str
    reason: str | None = None

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.code


_CONFLICT = Problem(
    409,
    "conflict",
    "Conflicting state",
    "The resource is not in a state that allows this; see reason.",
)
_UNAVAILABLE = Problem(
    503,
    "service-unavailable",
    "Service unavailable",
    "A component the gateway needs is unavailable; retry later.",
)

PROBLEMS: Final[Mapping[type[Exception], Problem]] = MappingProxyType({
    GatewayError: Problem(500, "internal-error", "Internal error",
                          "The request could not be completed."),
    Unauthenticated: Problem(401, "unauthenticated", "Authentication required",
                             "Present a valid bearer token (POST /v1/oauth/token)."),
    InvalidDPoPProof: Problem(401, "invalid-dpop-proof", "Invalid DPoP proof",
                              "A DPoP-bound token needs a valid DPoP proof of its key for this "
                              "request (RFC 9449)."),
    InvalidClient: Problem(401, "invalid-client", "Client authentication failed",
                           "The client's assertion (or secret, where allowed) does not "
                           "authenticate it, or the client is disabled."),
    InvalidTokenRequest: Problem(400, "invalid-token-request", "Invalid token request",
                                 "The token request is malformed or its DPoP proof is invalid; "
                                 "see reason."),
    SignatureRefused: Problem(422, "signature-refused", "Contribution signature refused",
                              "The contribution must be signed by the provider's registered key "
                              "over exactly this upload; see reason."),
    UnsupportedGrant: Problem(400, "unsupported-grant-type", "Unsupported grant type",
                              "Only grant_type=client_credentials is supported."),
    WrongRole: Problem(403, "forbidden", "Not allowed for this role",
                       "This route's policy does not allow the caller's role."),
    PolicyDenied: Problem(403, "policy-denied", "Refused by policy",
                          "The request is not covered by a valid approval and consent; see "
                          "reason."),
    BudgetExhausted: Problem(403, "budget-exhausted", "Privacy budget exhausted",
                             "This approval's privacy budget cannot pay for the query."),
    QuotaExhausted: Problem(429, "quota-exhausted", "Quota exhausted",
                            "This approval's quota is spent; a new approval is needed."),
    RateLimited: Problem(429, "rate-limited", "Too many requests",
                         "Slow down and retry after the number of seconds in Retry-After."),
    NotFound: Problem(404, "not-found", "Not found", "No such resource for this caller."),
    Conflict: _CONFLICT,
    InvalidRequest: Problem(422, "invalid-request", "Invalid request",
                            "The request does not match the schema; see errors (locations "
                            "only)."),
    ContributionRefused: Problem(422, "contribution-refused", "Contribution refused",
                                 "The contribution was refused as a whole; see the receipt."),
    PayloadTooLarge: Problem(413, "payload-too-large", "Request body too large",
                             "The request body exceeds the size limit."),
    UnsupportedMediaType: Problem(415, "unsupported-media-type", "Unsupported media type",
                                  "Send application/json (or the form/multipart type the route "
                                  "documents)."),
    MethodNotAllowed: Problem(405, "method-not-allowed", "Method not allowed",
                              "This route does not accept that method."),
    AuditUnavailable: Problem(503, "audit-unavailable", "Audit trail unavailable",
                              "The request could not be recorded in the audit trail, so it was "
                              "not answered."),
    ServiceUnavailable: _UNAVAILABLE,
    # Other core packages' errors, answered without a route catching them:
    InvalidIdNumber: Problem(422, "invalid-id-number", "Invalid ID number",
                             "The ID number is malformed (length, characters, date or check "
                             "digit).", reason="invalid_id_number"),
    LedgerError: replace(_UNAVAILABLE, reason="ledger_unavailable"),
    TooManySubmissions: replace(_CONFLICT, reason="too_many_pending_cosignatures"),
})  # fmt: skip


def problem_of(error: BaseException) -> Problem | None:
    """The table's entry for the most specific class of ``error``; None if it has none."""
    for cls in type(error).__mro__:
        problem = PROBLEMS.get(cls)
        if problem is not None:
            return problem
    return None


def _known(error: BaseException) -> tuple[Exception, Problem]:
    problem = problem_of(error)
    if problem is None or not isinstance(error, Exception):
        return GatewayError(), PROBLEMS[GatewayError]  # never rendered as it is
    return error, problem


def reason_of(error: BaseException) -> str:
    """The problem's machine-readable reason: the refusal's own, else the table's."""
    error, problem = _known(error)
    if isinstance(error, GatewayError):
        return error.reason
    return problem.reason or problem.code.replace("-", "_")


def audit_detail_of(error: BaseException) -> str | None:
    """What the audit trail records beside the reason: a refusal's ``audit_detail``, or the
    class name of another package's error (never its message, which may hold details)."""
    if isinstance(error, GatewayError):
        return error.audit_detail
    return type(error).__name__ if problem_of(error) is not None else None


def status_of(error: BaseException) -> int:
    return _known(error)[1].status


def problem_body(error: BaseException, request_id: str) -> dict[str, Any]:
    error, problem = _known(error)
    body: dict[str, Any] = {
        "type": problem.type_uri,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": f"urn:dexin:request:{request_id}",
        "reason": reason_of(error),
        "request_id": request_id,
    }
    if isinstance(error, InvalidRequest) and error.errors:
        body["errors"] = error.errors
    if isinstance(error, ContributionRefused):
        body["receipt"] = error.receipt
    return body


def problem_response(error: BaseException, request_id: str) -> Response:
    """The RFC 9457 answer to ``error`` (a bare 500 problem if the table does not know it)."""
    headers = {}
    if isinstance(error, RateLimited | QuotaExhausted):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, InvalidDPoPProof):
        headers["WWW-Authenticate"] = f'DPoP error="invalid_dpop_proof", algs="{DPOP_ALGS}"'
    elif isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="dexin"'
    content = json.dumps(problem_body(error, request_id), ensure_ascii=False).encode()
    return Response(content, status_code=status_of(error), media_type=PROBLEM_JSON, headers=headers)


def note(request: Request, error: BaseException) -> None:
    """Record the refusal's reason (and audit detail) in the request's audit entry."""
    request.state.audit["reason"] = reason_of(error)
    detail = audit_detail_of(error)
    if detail:
        request.state.audit["detail"] = detail


async def on_error(request: Request, exc: Exception) -> Response:
    note(request, exc)
    return problem_response(exc, request.state.request_id)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, object]] = [
        {"loc": [str(p) for p in e.get("loc", ())][:8], "type": str(e.get("type", "invalid"))}
        for e in exc.errors()[:20]
    ]
    reason = "json_invalid" if any(e["type"] == "json_invalid" for e in errors) else None
    return await on_error(request, InvalidRequest(errors, reason))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: Exception
    cause = exc.__cause__
    if isinstance(cause, Exception) and problem_of(cause) is not None:  # raised reading a body
        error = cause
    elif exc.status_code == 405:
        error = MethodNotAllowed()
    elif exc.status_code == 415:
        error = UnsupportedMediaType()
    elif exc.status_code == 404:
        error = NotFound("no_such_route")
    else:
        error = InvalidRequest(reason=f"http_{exc.status_code}")
    return await on_error(request, error)


def install(app: FastAPI) -> None:
    for cls in PROBLEMS:
        app.add_exception_handler(cls, on_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
