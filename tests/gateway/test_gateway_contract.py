"""The OpenAPI document is the contract (issue 15 §1): every operation declares its security
and every status it answers with the one problem model; wrong media types, methods and
unreadable bodies get specific problems; tokens are decoded strictly."""

from __future__ import annotations

import time
from typing import Any

import pytest
from gateway_support import Actors, auth, request_body
from query_gateway.policy import roles_of

from governance.credentials import (
    KEYED_ROLES,
    TOKEN_PREFIX,
    Principal,
    Role,
    Unauthenticated,
    issue_token,
    open_token,
)

PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def document(app_client: Any) -> dict[str, Any]:
    return dict(app_client.get("/openapi.json").json())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in document["paths"].items() for m, op in ops.items()]


def test_every_operation_declares_its_security_from_its_policy(
    document: dict[str, Any], app_client: Any
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "DPoP"}.items() <= schemes["dpop"].items()
    assert {"type": "apiKey", "in": "header", "name": "DPoP"}.items() <= schemes[
        "dpopProof"
    ].items()
    flow = schemes["clientCredentials"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/v1/oauth/token"
    policies = roles_of(app_client.app.routes)
    operations = _operations(document)
    assert len(operations) >= 50
    for method, path, operation in operations:
        policy = policies[(method.upper(), path)]
        security = operation["security"]
        if policy.public:
            assert security == [{}], (method, path)
            continue
        keyed = {"dpop": [], "dpopProof": []} in security
        assert keyed == bool(policy.roles & KEYED_ROLES), (method, path)
        clients = policy.roles & {Role.OFFICER, Role.AUDITOR, Role.ADMIN}
        assert ({"clientCredentials": []} in security) == bool(clients), (method, path)
        assert ({"resident": []} in security) == (Role.SUBJECT in policy.roles), (method, path)


def test_every_error_status_is_the_one_problem_model(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "reason", "request_id",
            "errors"} <= set(problem["properties"])  # fmt: skip
    for method, path, operation in _operations(document):
        errors = {int(s) for s in operation["responses"] if int(s) >= 400}
        assert {401, 429, 500, 503} <= errors, (method, path)
        if "requestBody" in operation:
            assert {400, 413, 415, 422} <= errors, (method, path)
        for status in errors:
            content = operation["responses"][str(status)]["content"]
            assert content == {"application/problem+json": {"schema": PROBLEM}}
        assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True


def test_the_score_route_documents_what_a_bank_meets(document: dict[str, Any]) -> None:
    scores = document["paths"]["/v1/scores"]["post"]
    assert scores["security"] == [{"dpop": [], "dpopProof": []}]
    assert {"401", "403", "409", "413", "415", "422", "429", "503"} <= set(scores["responses"])


def test_a_wrong_media_type_is_a_415_naming_the_accepted_types(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    r = actors.http.post("/v1/access-requests", content=b"computation=x",
                         headers=auth(bank) | {"content-type": "text/plain"})  # fmt: skip
    assert (r.status_code, r.json()["type"]) == (415, "urn:dexin:problem:unsupported-media-type")
    assert r.json()["accepted"] == ["application/json"] and "application/json" in r.json()["detail"]
    assert r.headers["accept-post"] == "application/json"
    r = actors.http.post("/v1/oauth/token", json={"grant_type": "client_credentials"})
    assert r.status_code == 415
    assert r.json()["accepted"] == ["application/x-www-form-urlencoded"]
    anonymous = actors.http.post("/v1/access-requests", content=b"x",
                                 headers={"content-type": "text/plain"})  # fmt: skip
    assert anonymous.status_code == 401  # who may not call learns nothing of the body


def test_a_405_names_every_method_of_the_path(actors: Actors) -> None:
    r = actors.http.put("/v1/access-requests")
    assert (r.status_code, r.json()["type"]) == (405, "urn:dexin:problem:method-not-allowed")
    assert r.headers["allow"] == "GET, POST"
    assert actors.http.delete("/v1/keys").headers["allow"] == "GET"


def test_an_unreadable_body_is_a_specific_problem(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    headers = auth(bank) | {"content-type": "application/json"}
    r = actors.http.post("/v1/access-requests", content=b'{"computation": "\xff\xfe"}',
                         headers=headers)  # fmt: skip
    assert (r.status_code, r.json()["type"]) == (400, "urn:dexin:problem:malformed-body")
    assert r.json()["reason"] == "body_not_utf8"
    r = actors.http.post("/v1/access-requests", content=b'{"computation": ', headers=headers)
    assert (r.status_code, r.json()["reason"]) == (422, "json_invalid")
    assert r.json()["detail"] == "The body is not valid JSON."


def test_a_semantic_422_says_what_and_where(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    body = request_body(actors.http, "morality_credit_score", computation_hash="0" * 64)
    r = actors.http.post("/v1/access-requests", json=body, headers=auth(bank))
    assert (r.status_code, r.json()["reason"]) == (422, "computation_hash_mismatch")
    assert r.json()["errors"] == [
        {"loc": ["body", "computation_hash"], "type": "computation_hash_mismatch"}
    ]
    assert "GET /v1/computations" in r.json()["detail"]
    past = request_body(actors.http, "morality_credit_score", valid_until="2001-01-01T00:00:00Z")
    r = actors.http.post("/v1/access-requests", json=past, headers=auth(bank))
    assert r.json()["errors"] == [{"loc": ["body", "valid_until"], "type": "valid_until_past"}]
    assert r.json()["detail"] == "valid_until must be in the future."


def _respell_last(token: str) -> str:
    """The same bytes spelled otherwise: a changed unused low bit of the last character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    return token[:-1] + alphabet[last ^ 1]


def test_a_token_is_decoded_strictly() -> None:
    key = bytes(range(32))
    for n in range(3):  # a token length whose last character has unused bits
        principal = Principal(role=Role.OFFICER, client_id="cl_" + "0" * (16 + n))
        token = issue_token(key, principal, 300, now=time.time())
        if len(token.removeprefix(TOKEN_PREFIX)) % 4 in (2, 3):
            break
    assert open_token(key, token).client_id == principal.client_id
    respelled = _respell_last(token)
    assert respelled != token
    for spelling in (respelled, token + "=", token + "==", token[:-1] + "+", token + "A" * 1):
        with pytest.raises(Unauthenticated):
            open_token(key, spelling)


def test_a_respelled_token_is_refused_by_the_gateway(actors: Actors) -> None:
    _, officer = actors.token(Role.OFFICER)
    assert actors.http.get("/v1/access-requests", headers=auth(officer)).status_code == 200
    r = actors.http.get("/v1/access-requests", headers=auth(_respell_last(officer)))
    assert (r.status_code, r.json()["reason"]) == (401, "token_invalid")
