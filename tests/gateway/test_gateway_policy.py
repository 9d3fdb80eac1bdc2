"""Every route declares its policy; the role × route matrix (anonymous and wrong role first)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from gateway_support import Actors, auth
from query_gateway.policy import PolicedRoute, roles_of
from starlette.routing import Route

from governance.credentials import CLIENT_ROLES, Role

PUBLIC_FRAMEWORK_ROUTES = {"/openapi.json"}  # the OpenAPI document itself is public
SAMPLE_PATH = {
    "request_id": "ar_0123456789abcdef01234567",
    "consent_id": "cs_0123456789abcdef01234567",
    "index": "0",
    "dispute_id": "dsp_0123456789abcdef01234567",
    "repair_id": "rep_0123456789abcdef01234567",
    "statement_id": "st_0123456789abcdef01234567",
    "review_id": "rv_0123456789abcdef01234567",
}


def _routes(actors: Actors) -> list[tuple[str, str, PolicedRoute]]:
    out = []
    for route in actors.http.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute):
            assert isinstance(route, PolicedRoute), f"{route.path} is not policed"
            out.extend((m, route.path, route) for m in sorted(route.methods))
    return out


def test_every_route_declares_a_policy(actors: Actors) -> None:
    routes = actors.http.app.routes  # type: ignore[attr-defined]
    for route in routes:
        if isinstance(route, APIRoute):
            assert isinstance(route, PolicedRoute) and route.policy is not None
        else:
            assert isinstance(route, Route) and route.path in PUBLIC_FRAMEWORK_ROUTES
    assert len(roles_of(routes)) >= 17


def test_a_route_without_a_policy_cannot_be_built() -> None:
    from query_gateway.routes import router

    with pytest.raises(RuntimeError, match="declares no policy"):

        @router().get("/v1/unpoliced")
        def unpoliced() -> None: ...


def test_the_role_route_matrix(actors: Actors) -> None:
    """Anonymous gets 401 on every non-public route; a wrong role gets 403; an allowed role
    gets past the policy (whatever the body then says)."""
    tokens = {role: actors.token(role)[1] for role in CLIENT_ROLES}
    tokens[Role.SUBJECT] = actors.subject(actors.world.ids[1])
    checked = 0
    for method, path, route in _routes(actors):
        url = path.format(**SAMPLE_PATH)
        anonymous = actors.http.request(method, url)
        if not route.policy.public:
            assert anonymous.status_code == 401, (method, path)
            assert anonymous.json()["type"] == "urn:dexin:problem:unauthenticated"
            assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        for role, token in tokens.items():
            r = actors.http.request(method, url, headers=auth(token))
            allowed = route.policy.public or role in route.policy.roles
            if allowed:
                assert r.status_code not in (401, 403) or r.json()["type"] not in (
                    "urn:dexin:problem:forbidden",
                    "urn:dexin:problem:unauthenticated",
                ), (method, path, role)
            else:
                assert r.status_code == 403, (method, path, role, r.status_code)
                assert r.json()["type"] == "urn:dexin:problem:forbidden"
                assert r.json()["reason"] == "role_not_allowed"
            checked += 1
    assert checked >= 17 * 6


def test_policy_is_checked_before_the_body_is_read(actors: Actors) -> None:
    _, officer = actors.token(Role.OFFICER)
    r = actors.http.post("/v1/scores", content=b"{not json", headers=auth(officer))
    assert r.status_code == 403
    r = actors.http.post("/v1/scores", content=b"{not json")
    assert r.status_code == 401


def test_a_tampered_or_expired_token_is_refused(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    flipped = bank[:-2] + ("A" if bank[-2] != "A" else "B") + bank[-1]
    for token, reason in (
        (flipped, "token_invalid"),
        ("dx1.AAAA", "token_invalid"),
        ("x", "token_malformed"),
    ):
        r = actors.http.get("/v1/computations", headers=auth(token))
        assert (r.status_code, r.json()["reason"]) == (401, reason)
    from governance.credentials import Principal, issue_token

    keys = actors.http.app.state.gateway.keys  # type: ignore[attr-defined]
    old = issue_token(keys.token_key, Principal(Role.BANK, client_id="bank_x"), 10, now=1_000_000)
    r = actors.http.get("/v1/computations", headers=auth(old))
    assert (r.status_code, r.json()["reason"]) == (401, "token_expired")


def test_a_disabled_client_is_refused(actors: Actors) -> None:
    import time

    bank_id, bank = actors.token(Role.BANK)
    assert actors.http.get("/v1/computations", headers=auth(bank)).status_code == 200
    actors.control.disable_client(bank_id)
    time.sleep(1.1)  # the gateway caches a client's state for one second
    r = actors.http.get("/v1/computations", headers=auth(bank))
    assert (r.status_code, r.json()["reason"]) == (401, "client_disabled")


def test_wrong_client_secret(actors: Actors) -> None:
    """A client that may keep a secret (an auditor's witness); banks and providers have none
    (tests/gateway/test_gateway_dpop.py)."""
    made = actors.control.create_client(Role.AUDITOR, "b")
    assert made.client_secret is not None
    for cid, secret in (
        (made.client_id, "wrong"),
        ("auditor_ffffffffffffffff", made.client_secret),
    ):
        r = actors.http.post(
            "/v1/oauth/token",
            data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
        )
        assert (r.status_code, r.json()["type"]) == (401, "urn:dexin:problem:invalid-client")
    r = actors.http.post(
        "/v1/oauth/token",
        data={
            "grant_type": "password",
            "client_id": made.client_id,
            "client_secret": made.client_secret,
        },
    )
    assert r.status_code == 400
