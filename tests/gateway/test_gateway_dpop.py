"""Banks and providers hold their own keys (issue 17): ``private_key_jwt`` (RFC 7523) at the
token endpoint and DPoP-bound tokens (RFC 9449) on every request, as FAPI 2.0 requires.

The client side is joserfc (`dpop_support`), not the gateway's code. Every refusal is an
attack performed through the HTTP API against the real gateway: before issue 17 a bank
authenticated with a secret the gateway stored, and its bearer token worked for whoever
held it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dpop_support import ISSUER, TOKEN_PATH, ClientKey, Key
from gateway_support import Actors, TestClient, World
from joserfc.jwk import ECKey, OKPKey, RSAKey
from query_gateway.app import create_app

from audit.log import AuditLog
from audit.note import NoteSigner
from governance import public_key
from governance.audit_trail import AuditTrail
from governance.credentials import Role, hash_secret
from governance.models import Client

COMPUTATIONS = ISSUER + "/v1/computations"


def _key(kind: str = "ES256") -> Key:
    if kind == "PS256":
        return RSAKey.generate_key(2048)
    if kind == "Ed25519":
        return OKPKey.generate_key("Ed25519")
    return ECKey.generate_key("P-256")


def _client(actors: Actors, key: Key | None = None, role: Role = Role.BANK) -> ClientKey:
    """A client registered with the public half of ``key`` (no token yet, and its requests
    are not signed for it: each test writes its own headers)."""
    key = key or _key()
    made = actors.control.create_client(role, "dpop-bank", [public_key(key.as_dict(private=False))])
    return ClientKey(made.client_id, key)


def _token(actors: Actors, holder: ClientKey, **assertion: Any) -> Any:
    proof = holder.proof("POST", ISSUER + TOKEN_PATH)
    return actors.http.post(TOKEN_PATH, data=holder.token_form(**assertion),
                            headers={"DPoP": proof})  # fmt: skip


def _bound(actors: Actors, holder: ClientKey) -> str:
    r = _token(actors, holder)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    return str(r.json()["access_token"])


def _dpop(token: str, proof: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def _refused(r: Any, status: int, reason: str) -> None:
    assert (r.status_code, r.json()["reason"]) == (status, reason), r.text


# -- the token endpoint: private_key_jwt --------------------------------------------------------


@pytest.mark.parametrize("kind", ["ES256", "PS256", "Ed25519"])
def test_a_bank_signs_in_with_its_key_and_proves_it_on_every_request(
    actors: Actors, kind: str
) -> None:
    holder = _client(actors, _key(kind))
    token = _bound(actors, holder)
    r = actors.http.get(
        "/v1/computations", headers=_dpop(token, holder.proof("GET", COMPUTATIONS, token))
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "claims",  # of the time the test runs (a slow run starts long after collection)
    [
        pytest.param(lambda now: {"iat": now - 600, "exp": now - 300}, id="expired"),
        pytest.param(lambda now: {"aud": "http://evil.example"}, id="wrong-audience"),
        pytest.param(lambda now: {"aud": ISSUER + TOKEN_PATH}, id="token-endpoint-audience"),
        pytest.param(lambda now: {"aud": [ISSUER, "http://evil.example"]}, id="audience-list"),
        pytest.param(lambda now: {"exp": now + 3600}, id="lives-an-hour"),
        pytest.param(lambda now: {"sub": "bank_0000000000000000"}, id="another-subject"),
        pytest.param(lambda now: {"jti": None}, id="no-jti"),
        pytest.param(lambda now: {"iat": now + 600}, id="issued-in-the-future"),
    ],
)
def test_a_bad_client_assertion_is_refused(
    actors: Actors, claims: Callable[[int], dict[str, Any]]
) -> None:
    _refused(_token(actors, _client(actors), **claims(int(time.time()))), 401, "invalid_client")


def test_an_assertion_is_used_once(actors: Actors) -> None:
    holder = _client(actors)
    form = holder.token_form()
    first = actors.http.post(TOKEN_PATH, data=form,
                             headers={"DPoP": holder.proof("POST", ISSUER + TOKEN_PATH)})  # fmt: skip
    assert first.status_code == 200, first.text
    again = actors.http.post(TOKEN_PATH, data=form,
                             headers={"DPoP": holder.proof("POST", ISSUER + TOKEN_PATH)})  # fmt: skip
    _refused(again, 401, "invalid_client")


def test_an_assertion_signed_by_another_key_is_refused(actors: Actors) -> None:
    holder = _client(actors)
    forger = ClientKey(holder.client_id, _key())  # knows the client id, not the key
    _refused(_token(actors, forger), 401, "invalid_client")
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    unsigned = header + "." + holder.assertion().split(".")[1] + "."
    form = holder.token_form() | {"client_assertion": unsigned}
    r = actors.http.post(TOKEN_PATH, data=form,
                         headers={"DPoP": holder.proof("POST", ISSUER + TOKEN_PATH)})  # fmt: skip
    _refused(r, 401, "invalid_client")


def test_a_bank_secret_is_never_accepted(actors: Actors) -> None:
    """Even a bank registered before issue 17 with a secret (a row with its hash): refused."""
    with actors.control.sessions.begin() as s:
        s.add(Client(client_id="bank_00000000000017aa", name="legacy", role="bank",
                     secret_hash=hash_secret("legacy-secret"), created_at=dt.datetime.now(dt.UTC)))  # fmt: skip
    form = {"grant_type": "client_credentials", "client_id": "bank_00000000000017aa",
            "client_secret": "legacy-secret"}  # fmt: skip
    _refused(actors.http.post(TOKEN_PATH, data=form), 401, "invalid_client")


def test_the_token_request_of_a_bank_needs_one_valid_proof(actors: Actors) -> None:
    holder = _client(actors)
    r = actors.http.post(TOKEN_PATH, data=holder.token_form())
    _refused(r, 400, "invalid_dpop_proof")
    for proof in (
        holder.proof("POST", ISSUER + "/v1/scores"),
        holder.proof("GET", ISSUER + TOKEN_PATH),
    ):
        r = actors.http.post(TOKEN_PATH, data=holder.token_form(), headers={"DPoP": proof})
        _refused(r, 400, "invalid_dpop_proof")
    two = [("DPoP", holder.proof("POST", ISSUER + TOKEN_PATH)) for _ in range(2)]
    r = actors.http.post(TOKEN_PATH, data=holder.token_form(), headers=two)
    _refused(r, 400, "invalid_dpop_proof")


# -- resource requests: the token is bound to the key -----------------------------------------


def _mutations(
    holder: ClientKey, token: str, other: ClientKey
) -> Iterator[tuple[str, dict[str, str]]]:
    proof = holder.proof
    now = int(time.time())
    yield "no proof", {"Authorization": f"DPoP {token}"}
    yield "bearer scheme", {"Authorization": f"Bearer {token}"}
    yield "another URL", _dpop(token, proof("GET", ISSUER + "/v1/access-requests", token))
    yield "another method", _dpop(token, proof("POST", COMPUTATIONS, token))
    yield "another host", _dpop(token, proof("GET", "http://evil.example/v1/computations", token))
    yield "stale", _dpop(token, proof("GET", COMPUTATIONS, token, iat=now - 300))
    yield "from the future", _dpop(token, proof("GET", COMPUTATIONS, token, iat=now + 300))
    yield "no ath", _dpop(token, proof("GET", COMPUTATIONS, None))
    yield "another token's ath", _dpop(token, proof("GET", COMPUTATIONS, token + "x"))
    yield "no jti", _dpop(token, proof("GET", COMPUTATIONS, token, jti=None))
    yield "another key's proof", _dpop(token, other.proof("GET", COMPUTATIONS, token))


def test_a_token_without_a_valid_proof_of_its_key_is_refused(actors: Actors) -> None:
    holder, other = _client(actors), _client(actors)
    token = _bound(actors, holder)
    for name, headers in _mutations(holder, token, other):
        r = actors.http.get("/v1/computations", headers=headers)
        assert (r.status_code, r.json()["reason"]) == (401, "invalid_dpop_proof"), name
        assert r.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"'), name
    r = actors.http.get(
        "/v1/computations", headers=_dpop(token, holder.proof("GET", COMPUTATIONS, token))
    )
    assert r.status_code == 200  # the holder itself, with a fresh proof


def test_a_stolen_token_and_a_captured_proof_are_useless(actors: Actors) -> None:
    holder, thief = _client(actors), _client(actors)
    token = _bound(actors, holder)
    proof = holder.proof("GET", COMPUTATIONS, token)
    assert actors.http.get("/v1/computations", headers=_dpop(token, proof)).status_code == 200
    _refused(actors.http.get("/v1/computations", headers=_dpop(token, proof)), 401,
             "invalid_dpop_proof")  # fmt: skip  # the same proof again: replayed jti
    stolen = _dpop(token, thief.proof("GET", COMPUTATIONS, token))
    _refused(actors.http.get("/v1/computations", headers=stolen), 401, "invalid_dpop_proof")


def test_a_proof_whose_header_carries_a_private_key_is_refused(actors: Actors) -> None:
    holder = _client(actors)
    token = _bound(actors, holder)
    from joserfc import jwt

    claims = {"htm": "GET", "htu": COMPUTATIONS, "iat": int(time.time()), "jti": "private-key-0001"}
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": holder.key.as_dict(private=True)}
    leaky = jwt.encode(header, claims, holder.key, algorithms=["ES256"])
    _refused(actors.http.get("/v1/computations", headers=_dpop(token, leaky)), 401,
             "invalid_dpop_proof")  # fmt: skip
    plain = jwt.encode({"typ": "JWT", "alg": "ES256", "jwk": holder.key.as_dict(private=False)},
                       claims | {"jti": "wrong-type-00001"}, holder.key, algorithms=["ES256"])  # fmt: skip
    _refused(actors.http.get("/v1/computations", headers=_dpop(token, plain)), 401,
             "invalid_dpop_proof")  # fmt: skip


def test_a_provider_is_held_to_the_same_rules(actors: Actors) -> None:
    holder = _client(actors, role=Role.PROVIDER)
    token = _bound(actors, holder)
    stolen = {"Authorization": f"Bearer {token}"}
    _refused(actors.http.get("/v1/computations", headers=stolen), 401, "invalid_dpop_proof")


# -- behind a proxy: the public base URL --------------------------------------------------------


@pytest.fixture
def proxied(world: World, tmp_path: Path) -> Iterator[TestClient]:
    trail = AuditTrail(AuditLog.open(tmp_path / "audit", NoteSigner.generate("test.local/log")))
    settings = world.with_gateway(public_url="https://gateway.example")
    app = create_app(settings, world.components(audit=trail))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_behind_a_proxy_proofs_and_assertions_name_the_public_url(
    actors: Actors, proxied: TestClient
) -> None:
    public = "https://gateway.example"
    meta = proxied.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == public and meta["token_endpoint"] == public + TOKEN_PATH
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    holder = _client(actors)
    as_seen = proxied.post(TOKEN_PATH, data=holder.token_form(),
                           headers={"DPoP": holder.proof("POST", ISSUER + TOKEN_PATH)})  # fmt: skip
    _refused(as_seen, 401, "invalid_client")  # the audience is the public issuer
    r = proxied.post(TOKEN_PATH, data=holder.token_form(audience=public),
                     headers={"DPoP": holder.proof("POST", public + TOKEN_PATH)})  # fmt: skip
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    inside = _dpop(token, holder.proof("GET", COMPUTATIONS, token))
    _refused(proxied.get("/v1/computations", headers=inside), 401, "invalid_dpop_proof")
    outside = _dpop(token, holder.proof("GET", public + "/v1/computations", token))
    assert proxied.get("/v1/computations", headers=outside).status_code == 200


def test_the_refusals_name_nothing_but_the_error_class(actors: Actors) -> None:
    """The body of a refused assertion carries the fixed detail, never which check failed."""
    r = _token(actors, _client(actors), aud="http://evil.example")
    body = json.dumps(r.json())
    assert "audience" not in body and "evil" not in body
