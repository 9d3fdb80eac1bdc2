"""The OpenAPI document as the API's contract (issue 15 §1).

FastAPI writes the paths and the bodies; `contract` then adds what only the gateway knows:

- ``components.securitySchemes``: ``clientCredentials`` (officers, auditors and
  administrators: the OAuth 2.0 grant), ``resident`` (residents' bearer tokens), ``dpop`` and
  ``dpopProof`` (a bank's or provider's DPoP-bound token with a fresh proof of
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

from governance import KEYED_ROLES, Role
from query_gateway.policy import Policy, roles_of
from query_gateway.problems import DPOP_ALGS, PROBLEM_JSON, REFUSALS_KEY, SEMANTIC
from query_gateway.routes.public import TOKEN_PATH

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
    "clientCredentials": {
        "type": "oauth2",
        "description": "An officer's, auditor's or administrator's bearer token from the "
        "client credentials grant (``client_id`` and ``client_secret``): "
        "``Authorization: Bearer <token>``.",
        "flows": {"clientCredentials": {"tokenUrl": TOKEN_PATH, "scopes": {}}},
    },
    "resident": {
        "type": "http",
        "scheme": "bearer",
        "description": "A resident's bearer token, from a sign-in at the identity provider.",
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

Requirement = dict[str, list[str]]
CLIENT: Final[Requirement] = {"clientCredentials": []}
RESIDENT: Final[Requirement] = {"resident": []}
DPOP: Final[Requirement] = {"dpop": [], "dpopProof": []}
CLIENT_ROLES: Final = frozenset({Role.OFFICER, Role.AUDITOR, Role.ADMIN})

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
    refused), its shape (a path: 404; a body: 400, 413, 415, 422; a change: 404, 409) and the
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
    if method != "get" and not policy.public:  # a change names what it changes
        found |= {404, 409}
    return found


def security(policy: Policy) -> list[Requirement]:
    """The requirement a policy implies: a client's bearer token for officers, auditors and
    administrators, a resident's for residents, DPoP for banks and providers; none on a
    route open to anyone (a token presented there is still checked: 401)."""
    if policy.public:
        return [{}]
    schemes: list[Requirement] = []
    if policy.roles & CLIENT_ROLES:
        schemes.append(CLIENT)
    if Role.SUBJECT in policy.roles:
        schemes.append(RESIDENT)
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


def _not_null(parameter: dict[str, Any]) -> None:
    """An optional parameter is absent, never ``null`` (a header or query cannot carry
    JSON's null: ``null`` would be the text "null"): drop the null branch FastAPI writes."""
    schema = parameter.get("schema", {})
    branches = schema.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        kept = [b for b in branches if b != {"type": "null"}]
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        parameter["schema"] = (kept[0] if len(kept) == 1 else {"anyOf": kept}) | rest


def _describe(operation: dict[str, Any], method: str, policy: Policy) -> None:
    operation["security"] = security(policy)
    for parameter in operation.get("parameters", ()):
        _not_null(parameter)
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses(policy, method, operation) | _declared_errors(responses)):
        responses[str(status)] = problem_response(status)
    reasons = operation.get(REFUSALS_KEY)
    if reasons:
        responses["422"]["description"] += " Refused on its meaning: " + "; ".join(
            f"``{r}`` ({SEMANTIC[r][1] if r in SEMANTIC else 'see reason'})" for r in reasons
        )


def _close_maps(node: Any) -> None:
    """A map whose keys pydantic constrains only through ``patternProperties`` gets the same
    constraint as ``propertyNames``: keys of another shape are refused by the server too."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        names = node.get("propertyNames")
        if isinstance(patterns, dict) and len(patterns) == 1 and isinstance(names, dict):
            names.setdefault("pattern", next(iter(patterns)))
            names.setdefault("type", "string")
        for value in node.values():
            _close_maps(value)
    elif isinstance(node, list):
        for value in node:
            _close_maps(value)


def _per_computation(schemas: dict[str, Any], catalogue: Any) -> None:
    """What the catalogue allows, where JSON Schema can say it: an access request names one
    computation with that computation's hash and one of its purposes; an aggregate, an
    aggregate computation."""
    create = schemas.get("AccessRequestCreate")
    if create is None or catalogue is None:
        return
    variants = []
    for c in catalogue:
        name = "AccessRequestCreate" + "".join(w.capitalize() for w in c.id.split("_"))
        variant = copy.deepcopy(create)
        props = variant["properties"]
        props["computation"] = {"const": c.id, "type": "string"}
        props["computation_hash"] = {"const": c.hash, "type": "string"}
        props["purpose"] = {"enum": list(c.purposes), "type": "string"}
        variant["title"] = name
        schemas[name] = variant
        variants.append({"$ref": f"#/components/schemas/{name}"})
    schemas["AccessRequestCreate"] = {"title": create.get("title"), "oneOf": variants,
                                      "description": create.get("description", "")}  # fmt: skip
    aggregate = schemas.get("AggregateCreate")
    if aggregate is not None:
        ids = [c.id for c in catalogue if c.privacy == "aggregate"]
        aggregate["properties"]["computation"] = {"enum": ids, "type": "string"}


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
    document["info"]["description"] = (
        "The Dexin query gateway's contract (docs/api.md, \"The contract\"): each operation's "
        "security and every status it answers, errors as RFC 9457 problems. The web console "
        "(/console: cookie sessions, HTML forms) is not part of it."
    )
    policies = roles_of(app.routes)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _describe(operation, method, policies[(method.upper(), path)])
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _drop_unused(schemas, ("HTTPValidationError", "ValidationError"))
    _close_maps(schemas)
    gateway = getattr(app.state, "gateway", None)  # running: its catalogue is known
    _per_computation(schemas, getattr(gateway, "catalogue", None))
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemError"] = PROBLEM_ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    if gateway is not None:  # built before the app started, it is built again once it has
        app.openapi_schema = document
    return document


def install(app: FastAPI) -> None:
    """Serve `contract` at ``/openapi.json``."""

    def openapi() -> dict[str, Any]:
        return contract(app)

    app.openapi = openapi  # type: ignore[method-assign]
