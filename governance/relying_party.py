"""The gateway as an OpenID Connect relying party: authorization code with PKCE (authlib).

`RelyingParty.begin` makes the authorization request for one purpose (a console sign-in, or a
fresh sign-in bound to a consent's terms through the ``nonce``) and returns the URL to send
the browser to with the `PendingSignIn` the callback needs (kept sealed in a cookie by the
edge); `RelyingParty.finish` checks the callback (``state``, the RFC 9207 ``iss``), redeems
the code and verifies the ID token (`governance.identity.verify_evidence`) against the IdP's
keys. The IdP is configured by issuer URL, client id and secret (`OidcSettings`); its
discovery document and JWKS are fetched once and the JWKS again when a token names a key it
does not hold (rotation).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import OAuth2Client

from governance.config import OidcSettings
from governance.identity import EvidenceRejected, VerifiedEvidence, terms_digest, verify_evidence

__all__ = ["IdentityProviderUnavailable", "PendingSignIn", "RelyingParty", "SignedIn"]

TIMEOUT = 10.0


class IdentityProviderUnavailable(Exception):
    """The IdP could not be reached or answered something unusable."""


@dataclass(frozen=True)
class PendingSignIn:
    """What the callback needs, kept by the browser sealed (never readable by it)."""

    state: str
    verifier: str
    terms: dict[str, Any]  # the nonce is their digest
    scope: str


@dataclass(frozen=True)
class SignedIn:
    evidence: VerifiedEvidence
    id_token: str


class RelyingParty:
    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._lock = threading.RLock()  # jwks() reads the metadata under it too
        self._discovery: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None

    def begin(self, terms: dict[str, Any], *, identify: bool) -> tuple[str, PendingSignIn]:
        """The authorization URL for a fresh sign-in (``prompt=login``) bound to ``terms``;
        ``identify`` asks for the resident's ID-number claim too (a console sign-in)."""
        scope = "openid " + self.settings.resident_scope if identify else "openid"
        verifier = secrets.token_urlsafe(48)
        url, state = self._client(scope).create_authorization_url(
            self._metadata()["authorization_endpoint"],
            code_verifier=verifier,
            nonce=terms_digest(terms),
            prompt="login",
            max_age=0,
        )
        return url, PendingSignIn(state, verifier, terms, scope)

    def finish(self, pending: PendingSignIn, params: dict[str, str]) -> SignedIn:
        """Redeem the callback's code; raises `EvidenceRejected` (a refused or forged
        callback, a token that does not prove the terms) or `IdentityProviderUnavailable`."""
        if params.get("error"):
            raise EvidenceRejected("sign_in_refused")
        if params.get("state") != pending.state or not params.get("code"):
            raise EvidenceRejected("sign_in_state_mismatch")
        if params.get("iss", self.settings.issuer) != self.settings.issuer:
            raise EvidenceRejected("evidence_wrong_issuer")  # RFC 9207 mix-up defence
        id_token = self._redeem(pending, params["code"])
        evidence = self.verify(id_token, pending.terms)
        return SignedIn(evidence, id_token)

    def verify(self, id_token: str, terms: dict[str, Any]) -> VerifiedEvidence:
        """`verify_evidence` against the IdP's current keys (fetched again once if the token
        names a key not yet seen)."""
        try:
            return self._verify(id_token, terms, self.jwks())
        except EvidenceRejected as exc:
            if exc.reason != "evidence_signature_invalid":
                raise
        return self._verify(id_token, terms, self.jwks(refresh=True))

    def _verify(self, token: str, terms: dict[str, Any], jwks: dict[str, Any]) -> VerifiedEvidence:
        return verify_evidence(token, jwks, issuer=self.settings.issuer,
                               audience=self.settings.client_id, terms=terms,
                               recorded_at=dt.datetime.now(dt.UTC))  # fmt: skip

    def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        with self._lock:
            if self._jwks is None or refresh:
                self._jwks = _get_json(self._metadata()["jwks_uri"])
            return self._jwks

    def _redeem(self, pending: PendingSignIn, code: str) -> str:
        try:
            with self._client(pending.scope) as client:
                token = client.fetch_token(self._metadata()["token_endpoint"], code=code,
                                           code_verifier=pending.verifier)  # fmt: skip
        except (AuthlibBaseError, httpx.HTTPError, ValueError):
            raise EvidenceRejected("sign_in_code_refused") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise EvidenceRejected("evidence_malformed")
        return id_token

    def _client(self, scope: str) -> OAuth2Client:
        s = self.settings
        return OAuth2Client(s.client_id, s.client_secret, scope=scope, redirect_uri=s.redirect_uri,
                            code_challenge_method="S256", timeout=TIMEOUT,
                            token_endpoint_auth_method="client_secret_basic",
                            trust_env=False)  # fmt: skip

    def _metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._discovery is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                found = _get_json(url)
                if found.get("issuer") != self.settings.issuer:
                    raise IdentityProviderUnavailable("the discovery document names another issuer")
                self._discovery = found
            return self._discovery


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=TIMEOUT, trust_env=False)
        response.raise_for_status()
        found = response.json()
    except (httpx.HTTPError, ValueError):
        raise IdentityProviderUnavailable(url) from None
    if not isinstance(found, dict):
        raise IdentityProviderUnavailable(url)
    return found
