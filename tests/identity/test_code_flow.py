"""The authorization code + PKCE flow against the local oidc-provider, as a relying party."""

from __future__ import annotations

import time

import httpx
from identity_support import (
    Flow,
    LocalIdp,
    authorize,
    browser,
    callback_params,
    follow,
    terms_nonce,
    verified_id_token,
)

CONSENT_TERMS = {
    "bank": "bank-yuyao-rural",
    "purpose": "unsecured-loan-review",
    "computations": ["morality_score@v3"],
    "expires": "2027-06-30",
}
ALL = "openid profile dexin_resident"


def _sign_in(idp: LocalIdp, client_id: str, scope: str = ALL, **params: str) -> dict[str, object]:
    client = idp.client(client_id)
    flow = Flow.start(idp.running, client, scope, terms_nonce(CONSENT_TERMS), **params)
    with browser() as user_agent:
        done = authorize(user_agent, flow.url, client.redirect_uris[0], idp.credentials())
    assert done.login_shown and done.code
    token = flow.token(done)
    return verified_id_token(
        token["id_token"], idp.running.jwks(), idp.running.issuer, client_id, flow.nonce
    )


def test_discovery_offers_only_what_the_consent_evidence_relies_on(local_idp: LocalIdp) -> None:
    d = local_idp.running.discovery
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert d["response_types_supported"] == ["code"]
    assert d["subject_types_supported"] == ["pairwise"]
    assert d["id_token_signing_alg_values_supported"] == ["ES256"]
    assert "dexin_resident" in d["scopes_supported"]
    assert "dexin_id_number" in d["claims_supported"]
    served = httpx.get(d["jwks_uri"], trust_env=False).json()
    assert served == local_idp.running.jwks()
    assert all("d" not in key for key in served["keys"])


def test_the_id_token_is_signed_and_carries_nonce_auth_time_and_id_number(
    local_idp: LocalIdp,
) -> None:
    before = int(time.time())
    claims = _sign_in(local_idp, "gateway")
    resident = local_idp.config.residents[0]
    assert claims["nonce"] == terms_nonce(CONSENT_TERMS)
    assert before - 1 <= int(claims["auth_time"]) <= int(time.time()) + 1  # type: ignore[call-overload]
    assert claims["dexin_id_number"] == resident.id_number
    assert claims["name"] == resident.name
    assert claims["amr"] == ["pwd"]


def test_without_the_resident_scope_no_id_number_is_released(local_idp: LocalIdp) -> None:
    claims = _sign_in(local_idp, "gateway", scope="openid")
    assert "dexin_id_number" not in claims
    assert "name" not in claims


def test_a_client_not_allowed_the_resident_scope_cannot_ask_for_it(local_idp: LocalIdp) -> None:
    client = local_idp.client("statistics")
    flow = Flow.start(local_idp.running, client, ALL, "n-1")
    with browser() as user_agent:
        done = authorize(user_agent, flow.url, client.redirect_uris[0])
    assert done.code is None
    assert done.callback["error"] == "invalid_scope"


def test_the_subject_is_pairwise_per_sector_and_stable(local_idp: LocalIdp) -> None:
    gateway, console = _sign_in(local_idp, "gateway"), _sign_in(local_idp, "console")
    assert gateway["sub"] != console["sub"]
    assert gateway["sub"] != local_idp.config.residents[0].account_id
    assert _sign_in(local_idp, "gateway")["sub"] == gateway["sub"]


def test_pkce_is_required(local_idp: LocalIdp) -> None:
    client = local_idp.client("gateway")
    params = {
        "client_id": client.client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": client.redirect_uris[0],
        "state": "s",
        "nonce": "n",
    }
    with browser() as user_agent:
        response = user_agent.get(
            local_idp.running.discovery["authorization_endpoint"], params=params
        )
        response = follow(user_agent, response, client.redirect_uris[0])
    callback = callback_params(response)
    assert "code" not in callback
    assert callback["error"] == "invalid_request"
    assert "PKCE" in callback["error_description"]


def test_a_code_is_refused_without_its_verifier(local_idp: LocalIdp) -> None:
    client = local_idp.client("gateway")
    flow = Flow.start(local_idp.running, client, "openid", "n-2")
    with browser() as user_agent:
        done = authorize(user_agent, flow.url, client.redirect_uris[0], local_idp.credentials())
    response = httpx.post(
        local_idp.running.discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": done.code,
            "redirect_uri": client.redirect_uris[0],
            "code_verifier": "x" * 43,
        },
        auth=(client.client_id, client.client_secret),
        trust_env=False,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
