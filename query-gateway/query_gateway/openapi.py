"""The OpenAPI document as the API's contract (issue 15 §1).

FastAPI writes the paths and the bodies; `contract` then adds what only the gateway knows:

- ``components.securitySchemes``: ``bearer`` (officers, auditors, administrators, residents),
  ``dpop`` and ``dpopProof`` (a bank's or provider's DPoP-bound token with a fresh proof of
  its key for each request, RFC 9449), and on each operation the requirement its policy
  (`query_gateway.policy`) implies: a route open to anyone takes a token optionally;
- every status an operation can answer besides its success, derived from its policy and
  shape (`statuses`), each with the one RFC 9457 ``Problem`` model as
  ``application/problem+json`` (FastAPI's ``HTTPValidationError`` is not what the gateway
  answers, so it is dropped).

The console's pages (cookie sessions, HTML forms) are not part of this document.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from governance import KEYED_ROLES
from query_gateway.policy import Policy, roles_of
from query_gateway.problems import DPOP_ALGS, PROBLEM_JSON

PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "title": "Problem",
    "description": "An RFC 9457 problem detail. ``type`` is stable (``urn:dexin:problem:<code>``), "
    "``title`` and ``detail`` are fixed per type (a semantic 422 names what is refused), "
    "``reason`` is the machine-readable cause; values a caller sent are never echoed.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance", "reason", "request_id"],
    "properties": {
        "type": {"type": "string", "format": "uri", "examples": ["urn:dexin:problem:not-found"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "format": "uri"},
        "reason": {"type": "string", "pattern": "^[a-z0-9_]+$"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "What is refused: locations and error types, never the input.",
            "items": {"$ref": "#/components/schemas/ProblemError"},
        },
        "accepted": {
            "type": "array",
            "description": "On a 415: the media types the operation accepts.",
            "items": {"type": "string"},
        },
        "receipt": {
            "type": "object",
            "description": "On a refused contribution: its receipt.",
            "additionalProperties": True,
        },
    },
    "additionalProperties": True,
}

PROBLEM_ERROR_SCHEMA: Final[dict[str, Any]] = {
    "title": "ProblemError",
    "type": "object",
    "required": ["loc", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
        "type": {"type": "string"},
    },
    "additionalProperties": False,
}

SECURITY_SCHEMES: Final[dict[str, Any]] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An access token of an officer, auditor or administrator "
        "(POST /v1/oauth/token) or of a resident (the identity provider's sign-in).",
    },
    "dpop": {
        "type": "http",
        "scheme": "DPoP",
        "description": "A bank's or provider's DPoP-bound token (RFC 9449): "
        "``Authorization: DPoP <token>``, always with a ``DPoP`` proof.",
    },
    "dpopProof": {
        "type": "apiKey",
        "in": "header",
        "name": "DPoP",
        "description": "One fresh DPoP proof JWT (RFC 9449 §4) of the key the token is bound "
        "to, for this request's method and URL (``htu``: the gateway's public URL and the "
        f"path), with ``ath`` = the token's SHA-256, never replayed; algorithms {DPOP_ALGS}.",
    },
}

BEARER: Final = {"bearer": []}
DPOP: Final = {"dpop": [], "dpopProof": []}

DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "Malformed request: a body that is not UTF-8 or cannot be parsed, or a refused token "
    "request (see reason).",
    401: "No valid credential: a token missing, expired or not opening, or a DPoP-bound token "
    "without a valid proof.",
    403: "The caller's role, an approval, a consent or a budget does not allow this.",
    404: "No such resource for this caller.",
    409: "The resource is not in a state that allows this.",
    413: "The request body exceeds the size limit.",
    415: "The body's media type is not one the operation accepts (see accepted).",
    422: "The request does not match the schema, or is refused on its meaning (see reason and "
    "errors).",
    429: "Rate limited, or the approval's quota is spent (see Retry-After).",
    500: "Internal error: nothing of the cause is rendered.",
    503: "A component the gateway needs (the audit trail, the ledger) is unavailable.",
}

HEADERS: Final[Mapping[int, dict[str, Any]]] = {
    401: {"WWW-Authenticate": {"description": "The scheme to authenticate with (Bearer or "
                               "DPoP, RFC 9449 §7.1).", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before retrying.", "required": True,
                          "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}  # fmt: skip

ALWAYS: Final = frozenset({401, 429, 500, 503})


def statuses(policy: Policy, method: str, operation: Mapping[str, Any]) -> set[int]:
    """The error statuses ``operation`` can answer: what every request can meet (a token that
    does not open, the rate limit, an audit trail down), what its policy implies (a role
    refused), its shape (a path: 404; a body: 400, 413, 415, 422; a change: 409) and the
    route's own (``Policy.errors``)."""
    found = set(ALWAYS) | set(policy.errors)
    if not policy.public:
        found.add(403)
    parameters = operation.get("parameters", ())
    if any(p.get("in") == "path" for p in parameters):
        found.add(404)
    if parameters:
        found.add(422)
    if "requestBody" in operation:
        found |= {400, 413, 415, 422}
    if method != "get" and not policy.public:
        found.add(409)
    return found


def security(policy: Policy) -> list[dict[str, list[str]]]:
    """The requirement a policy implies: bearer for the roles without keys, DPoP for banks
    and providers; optional (``{}`` first) on a route open to anyone."""
    if policy.public:
        return [{}, BEARER, DPOP]
    schemes = []
    if policy.roles - KEYED_ROLES:
        schemes.append(BEARER)
    if policy.roles & KEYED_ROLES:
        schemes.append(DPOP)
    return schemes


def problem_response(status: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }
    if status in HEADERS:
        out["headers"] = copy.deepcopy(HEADERS[status])
    return out


def _describe(operation: dict[str, Any], method: str, policy: Policy) -> None:
    operation["security"] = security(policy)
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses(policy, method, operation) | _declared_errors(responses)):
        responses[str(status)] = problem_response(status)


def _declared_errors(responses: Mapping[str, Any]) -> set[int]:
    return {int(code) for code in responses if code.isdigit() and int(code) >= 400}


def _drop_unused(schemas: dict[str, Any], names: Iterable[str]) -> None:
    for name in names:
        schemas.pop(name, None)


def contract(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with its security and problems (built once, then cached)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    policies = roles_of(app.routes)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _describe(operation, method, policies[(method.upper(), path)])
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _drop_unused(schemas, ("HTTPValidationError", "ValidationError"))
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemError"] = PROBLEM_ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    app.openapi_schema = document
    return document


def install(app: FastAPI) -> None:
    """Serve `contract` at ``/openapi.json``."""

    def openapi() -> dict[str, Any]:
        return contract(app)

    app.openapi = openapi  # type: ignore[method-assign]
