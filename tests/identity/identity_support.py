"""Test support: a made-up IdP config, and a relying party and a resident's browser as the
gateway and console will drive the IdP.

The RP side is authlib's httpx client (authorization code + PKCE S256); the browser is a plain
httpx client with a cookie jar whose redirects are followed by hand, so a test sees every
step: the login page, the form post, the callback.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import rfc8785
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet, KeySetSerialization

from dexin.identity_provider import (
    IdentityProviderConfig,
    IdpClient,
    IdpResident,
    RunningIdentityProvider,
)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LOGIN_ACTION = re.compile(r'action="([^"]+/login)"')
WRONG_PASSWORD = "用户名或密码错误"


def terms_nonce(terms: dict[str, Any]) -> str:
    """A consent's terms digest (SHA-256 of their RFC 8785 JSON), sent as the OIDC nonce."""
    return hashlib.sha256(rfc8785.dumps(terms)).hexdigest()


def relying_party(client: IdpClient, scope: str) -> OAuth2Client:
    return OAuth2Client(
        client.client_id,
        client.client_secret,
        scope=scope,
        redirect_uri=client.redirect_uris[0],
        code_challenge_method="S256",
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        trust_env=False,
    )


def browser() -> httpx.Client:
    return httpx.Client(trust_env=False, follow_redirects=False, timeout=10.0)


@dataclass
class Authorization:
    """What one authorization request produced: the callback's parameters, or the page the
    browser was left on (a refused sign-in), and whether a login page was shown."""

    callback: dict[str, str]
    login_shown: bool
    page: httpx.Response | None = None

    @property
    def code(self) -> str | None:
        return self.callback.get("code")


def follow(user_agent: httpx.Client, response: httpx.Response, stop_at: str) -> httpx.Response:
    """Follow redirects until one points at ``stop_at`` (not fetched) or a page is shown."""
    while response.is_redirect:
        location = str(response.url.join(response.headers["location"]))
        if location.startswith(stop_at):
            return response
        response = user_agent.get(location)
    return response


def callback_params(response: httpx.Response) -> dict[str, str]:
    query = urlsplit(response.headers["location"]).query
    return {k: v[0] for k, v in parse_qs(query).items()}


def submit_login(
    user_agent: httpx.Client, page: httpx.Response, login: str, password: str, **extra: str
) -> httpx.Response:
    action = LOGIN_ACTION.search(page.text)
    csrf = CSRF.search(page.text)
    assert action and csrf, page.text
    form = {"csrf": csrf.group(1), "login": login, "password": password, **extra}
    return user_agent.post(str(page.url.join(action.group(1))), data=form)


def authorize(
    user_agent: httpx.Client,
    url: str,
    redirect_uri: str,
    credentials: tuple[str, str] | None = None,
) -> Authorization:
    """Run one authorization request; sign in with ``credentials`` if a login page comes."""
    response = follow(user_agent, user_agent.get(url), redirect_uri)
    if response.is_redirect:
        return Authorization(callback_params(response), login_shown=False)
    assert response.status_code == 200, response.text
    assert credentials is not None, "the IdP asked for a sign-in"
    response = follow(user_agent, submit_login(user_agent, response, *credentials), redirect_uri)
    if not response.is_redirect:
        return Authorization({}, login_shown=True, page=response)
    return Authorization(callback_params(response), login_shown=True)


@dataclass
class Flow:
    """One relying-party session: PKCE verifier, state and nonce kept for the callback."""

    rp: OAuth2Client
    idp: RunningIdentityProvider
    nonce: str
    verifier: str
    state: str
    url: str

    @classmethod
    def start(
        cls, idp: RunningIdentityProvider, client: IdpClient, scope: str, nonce: str, **params: Any
    ) -> Flow:
        rp = relying_party(client, scope)
        verifier = secrets.token_urlsafe(48)
        url, state = rp.create_authorization_url(
            idp.discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **params
        )
        return cls(rp, idp, nonce, verifier, state, url)

    def token(self, authorization: Authorization) -> dict[str, Any]:
        assert authorization.callback.get("state") == self.state
        assert authorization.callback.get("iss") == self.idp.issuer  # RFC 9207
        with self.rp:
            token: dict[str, Any] = self.rp.fetch_token(
                self.idp.discovery["token_endpoint"],
                code=authorization.code,
                code_verifier=self.verifier,
            )
        return token


def verified_id_token(
    id_token: str, jwks: KeySetSerialization, issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """Check the ID token as an auditor would: signature against the pinned JWKS, then claims."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        auth_time={"essential": True},
        sub={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def _id_number() -> str:
    """A made-up 18-character resident ID number (not checksummed; never a real one)."""
    return "330281" + "".join(secrets.choice("0123456789") for _ in range(12))


def make_config() -> IdentityProviderConfig:
    def client(name: str, scopes: tuple[str, ...] | None = None) -> IdpClient:
        return IdpClient(
            client_id=name,
            client_secret=secrets.token_urlsafe(32),
            redirect_uris=(f"https://{name}.dexin.test/oidc/callback",),
            scopes=scopes,
        )

    residents = tuple(
        IdpResident(
            account_id=f"acct-{i}",
            login=f"resident{i}",
            password=secrets.token_urlsafe(12),
            id_number=_id_number(),
            name=name,
        )
        for i, name in enumerate(["张伟", "王芳"])
    )
    clients = (client("gateway"), client("console"), client("statistics", ("openid", "profile")))
    return IdentityProviderConfig(clients=clients, residents=residents)


@dataclass(frozen=True)
class LocalIdp:
    config: IdentityProviderConfig
    running: RunningIdentityProvider
    workdir: Path

    def client(self, client_id: str) -> IdpClient:
        return next(c for c in self.config.clients if c.client_id == client_id)

    def credentials(self, index: int = 0) -> tuple[str, str]:
        resident = self.config.residents[index]
        return resident.login, resident.password
