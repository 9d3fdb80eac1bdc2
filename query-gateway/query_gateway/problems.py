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
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

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
from vault import InvalidIdNumber, VaultReadOnly

PROBLEM_JSON = "application/problem+json"
JSON_INVALID = "json_invalid"
DPOP_ALGS = "ES256 PS256 Ed25519"  # governance.client_keys.ALGORITHMS
PROBLEM_BASE = "urn:dexin:problem:"


class MalformedBody(InvalidRequest):
    """A body that cannot be read as its media type (not UTF-8, an unparseable form): 400."""

    default_reason = "body_unparseable"


class UnsupportedBody(UnsupportedMediaType):
    """A body of a media type the operation does not accept; ``accepted`` names those it does."""

    def __init__(self, accepted: tuple[str, ...]) -> None:
        super().__init__("unsupported_media_type")
        self.accepted = accepted


class MethodNotAllowedHere(MethodNotAllowed):
    """A 405 that names the methods the path accepts (its ``Allow`` header)."""

    def __init__(self, allow: tuple[str, ...]) -> None:
        super().__init__()
        self.allow = allow


# What a semantic 422 (well formed, refused on its meaning) says, and where: reason ->
# (location, detail). A reason not listed is answered with the table's detail.
SEMANTIC: Final[Mapping[str, tuple[tuple[str, ...], str]]] = MappingProxyType({
    JSON_INVALID: (("body",), "The body is not valid JSON."),
    "computation_hash_mismatch": (("body", "computation_hash"), "computation_hash is not the "
                                  "hash of the computation's current version (GET "
                                  "/v1/computations)."),
    "valid_until_past": (("body", "valid_until"), "valid_until must be in the future."),
    "expires_at_past": (("body", "expires_at"), "expires_at must be in the future."),
    "purpose_not_allowed": (("body", "purpose"), "The computation does not allow this purpose "
                            "(see its purposes in GET /v1/computations)."),
    "unknown_computation": (("body", "computation"), "No such computation in the catalogue."),
    "epsilon_only_for_aggregates": (("body", "epsilon"), "epsilon is only for aggregate "
                                    "computations."),
    "scope_unknown_parameter": (("body", "scope"), "The scope names an input the computation "
                                "does not scope."),
    "scope_invalid_value": (("body", "scope"), "A scope value is not in the input's domain."),
    "scope_incomplete": (("body", "scope"), "The scope must name each scoped input of the "
                         "computation."),
    "consent_computation_unknown": (("body", "computations"), "A computation is not one offered "
                                    "for this purpose."),
    "consent_computations_empty": (("body", "computations"), "No computation is offered for this "
                                   "purpose."),
    "unknown_bank": (("body", "bank"), "No such bank."),
    "parameters_mismatch": (("body", "parameters"), "The parameters do not match the "
                            "approval's scope."),
    "parameter_invalid": (("body", "parameters"), "A parameter is not in its domain."),
    "missing_parameter": (("body", "parameters"), "A parameter the computation needs is missing."),
    "index_or_size_out_of_range": (("query",), "index must be below size, and size at most the "
                                   "log's size."),
    "size_out_of_range": (("query",), "old must be at most new, and new at most the log's size."),
    "malformed_cosignature": (("body", "signature"), "Not a cosignature by a known witness of a "
                              "known checkpoint."),
    "malformed_witness": (("body", "witness"), "Not a witness verifier key."),
    "invalid_proof_of_possession": (("body", "proof_of_possession"), "The proof of possession "
                                    "does not verify."),
    "idempotency_key_reused": (("header", "Idempotency-Key"), "This Idempotency-Key was used "
                               "with another body."),
    "statement_text_invalid": (("body", "statement"), "The statement is empty, too long or holds "
                               "control characters."),
    "statement_names_an_id_number": (("body", "statement"), "A statement must not hold an ID "
                                     "number."),
    "repair_date_in_future": (("body",), "The repair date must not be in the future."),
    "attachment_invalid": (("body",), "The attachment's name, media type, base64 encoding "
                           "and first bytes do not agree."),
    "dispute_required": (("body",), "This outcome needs the dispute it answers."),
    "unsupported_file_type": (("body",), "The file is not CSV or Parquet."),
    "unreadable_contribution": (("body",), "The file cannot be read as its type."),
    "wrong_table": (("body", "table"), "The file does not hold the table named."),
})  # fmt: skip


REFUSALS_KEY = "x-dexin-refusals"


def refusals(*reasons: str) -> dict[str, list[str]]:
    """A route's semantic 422s: refusals of a request the schema allows, on what JSON Schema
    cannot state (the present time, the log's size, one field against another, a check
    digit); the contract lists them on the operation (``x-dexin-refusals``)."""
    unknown = set(reasons) - set(SEMANTIC) - {"invalid_id_number"}
    if unknown:
        raise ValueError(f"refusals without a detail in SEMANTIC: {sorted(unknown)}")
    return {REFUSALS_KEY: sorted(reasons)}


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
    SignatureRefused: Problem(422, "signature-refused", "Provider signature refused",
                              "A contribution, correction, dispute answer or credit repair must "
                              "be signed by the provider's registered key over exactly what is "
                              "sent; see reason."),
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
    MalformedBody: Problem(400, "malformed-body", "Malformed request body",
                           "The body cannot be read as its media type; see reason."),
    InvalidIdNumber: Problem(422, "invalid-id-number", "Invalid ID number",
                             "The ID number is malformed (length, characters, date or check "
                             "digit).", reason="invalid_id_number"),
    LedgerError: replace(_UNAVAILABLE, reason="ledger_unavailable"),
    # the control plane's database went away (a restart, a failover, a lost connection):
    # transient, so a 503 to retry, never a 500 (issue 16 §2: PostgreSQL restarted under load)
    OperationalError: replace(_UNAVAILABLE, reason="database_unavailable"),
    TooManySubmissions: replace(_CONFLICT, reason="too_many_pending_cosignatures"),
    VaultReadOnly: Problem(503, "vault-owner-only", "Taken by the vault owner",
                           "This gateway is an answer worker reading a snapshot of the vault; "
                           "contributions, corrections, dispute deletions and repairs are "
                           "taken by the vault owner's gateway.", reason="vault_owner_only"),
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
    if isinstance(error, InvalidRequest):
        _semantic(body, error)
    if isinstance(error, UnsupportedBody):
        body["detail"] = "Send the body as " + " or ".join(error.accepted) + "."
        body["accepted"] = list(error.accepted)
    if isinstance(error, ContributionRefused):
        body["receipt"] = error.receipt
    return body


def _semantic(body: dict[str, Any], error: InvalidRequest) -> None:
    """A semantic 422's specific detail and the location it refuses; a schema error's list."""
    known = SEMANTIC.get(error.reason)
    if known is not None:
        body["detail"] = known[1]
    if error.errors:
        body["errors"] = error.errors
    elif error.reason != InvalidRequest.default_reason and not isinstance(error, MalformedBody):
        body["errors"] = [{"loc": list(known[0] if known else ("body",)), "type": error.reason}]


def problem_response(error: BaseException, request_id: str) -> Response:
    """The RFC 9457 answer to ``error`` (a bare 500 problem if the table does not know it)."""
    headers = {}
    if isinstance(error, RateLimited | QuotaExhausted):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, UnsupportedBody):
        headers["Accept-Post"] = ", ".join(error.accepted)
    if isinstance(error, MethodNotAllowedHere):
        headers["Allow"] = ", ".join(error.allow)
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


_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def _location(part: object) -> str:
    """A location part as the schema names it; a caller's map key (which may be anything,
    an ID number too) or a validator's internal name becomes ``*``."""
    if isinstance(part, int):
        return str(part)
    return part if isinstance(part, str) and _FIELD.fullmatch(part) else "*"


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, object]] = [
        {"loc": [_location(p) for p in e.get("loc", ())][:8], "type": str(e.get("type", "invalid"))}
        for e in exc.errors()[:20]
    ]
    reason = JSON_INVALID if any(e["type"] == JSON_INVALID for e in errors) else None
    return await on_error(request, InvalidRequest(errors, reason))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: Exception
    cause = exc.__cause__
    if isinstance(cause, Exception) and problem_of(cause) is not None:  # raised reading a body
        error = cause
    elif exc.status_code == 405:
        error = MethodNotAllowedHere(allowed_methods(request))
    elif exc.status_code == 415:
        error = UnsupportedMediaType()
    elif exc.status_code == 404:
        error = NotFound("no_such_route")
    elif exc.status_code == 400:  # FastAPI could not read the body
        error = MalformedBody(
            reason="body_not_utf8" if isinstance(cause, UnicodeDecodeError) else None
        )
    else:
        error = InvalidRequest(reason=f"http_{exc.status_code}")
    return await on_error(request, error)


def allowed_methods(request: Request) -> tuple[str, ...]:
    """The methods the routes at this request's path accept (RFC 9110 §10.2.1 ``Allow``)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\0"})  # a path match only
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return tuple(sorted(methods))


def install(app: FastAPI) -> None:
    for cls in PROBLEMS:
        app.add_exception_handler(cls, on_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
