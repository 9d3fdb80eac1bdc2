"""RFC 9457 problems, strict and bounded bodies, rate limits with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import Actors, TestClient, World, auth, request_body
from query_gateway.app import create_app

from audit.log import AuditLog
from audit.note import NoteSigner
from governance.audit_trail import AuditTrail
from governance.credentials import Role

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "reason", "request_id"}


def test_problems_are_rfc9457_with_stable_types(actors: Actors) -> None:
    r = actors.http.get("/v1/nothing-here")
    assert r.headers["content-type"] == "application/problem+json"
    assert set(r.json()) == PROBLEM_KEYS
    assert r.json()["type"] == "urn:dexin:problem:not-found" and r.json()["status"] == 404
    assert r.json()["request_id"] == r.headers["dexin-request-id"]
    r = actors.http.put("/v1/keys")
    assert (r.status_code, r.json()["type"]) == (405, "urn:dexin:problem:method-not-allowed")


def test_unknown_fields_are_refused_and_values_never_echoed(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    body = request_body(actors.http, "morality_credit_score") | {"note": "SECRET-VALUE-42"}
    r = actors.http.post("/v1/access-requests", json=body, headers=auth(bank))
    assert r.status_code == 422
    assert r.json()["errors"] == [{"loc": ["body", "note"], "type": "extra_forbidden"}]
    assert "SECRET-VALUE-42" not in r.text
    r = actors.http.post(
        "/v1/access-requests",
        json=request_body(actors.http, "morality_credit_score", quota="lots-of-42"),
        headers=auth(bank),
    )
    assert r.status_code == 422 and "lots-of-42" not in r.text
    r = actors.http.post(
        "/v1/access-requests",
        content=b'{"a": SECRET',
        headers=auth(bank) | {"content-type": "application/json"},
    )
    assert r.status_code == 422 and "SECRET" not in r.text


def test_bodies_are_bounded(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    big = request_body(actors.http, "morality_credit_score") | {"scope": {"k": "v" * 20_000}}
    r = actors.http.post("/v1/access-requests", json=big, headers=auth(bank))
    assert (r.status_code, r.json()["type"]) == (413, "urn:dexin:problem:payload-too-large")

    def chunks() -> Iterator[bytes]:
        yield b'{"computation": "' + b"x" * 10_000
        yield b"y" * 10_000 + b'"}'

    r = actors.http.post(
        "/v1/access-requests",
        content=chunks(),
        headers=auth(bank) | {"content-type": "application/json"},
    )
    assert r.status_code == 413


@pytest.fixture
def limited(world: World, tmp_path: Path) -> Iterator[TestClient]:
    trail = AuditTrail(AuditLog.open(tmp_path / "audit", NoteSigner.generate("test.local/log")))
    settings = world.with_gateway(rate_limit=1.0, rate_burst=3)
    app = create_app(settings, world.components(audit=trail))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_rate_limit_gives_429_with_retry_after(limited: TestClient, world: World) -> None:
    control = limited.app.state.gateway.control  # type: ignore[attr-defined]
    _, token = Actors(limited, control, world).token(Role.BANK, "fast")
    codes = [limited.get("/v1/computations", headers=auth(token)) for _ in range(5)]
    assert [r.status_code for r in codes][:3] == [200, 200, 200]
    assert codes[-1].status_code == 429
    assert codes[-1].json()["type"] == "urn:dexin:problem:rate-limited"
    assert int(codes[-1].headers["Retry-After"]) >= 1
