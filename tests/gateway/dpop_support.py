"""A bank's or provider's side of FAPI 2.0 in the tests, built on joserfc (not the gateway's
code): client assertions (``private_key_jwt``, RFC 7523) and DPoP proofs (RFC 9449).

`ClientKey` holds a client's private key and makes its assertions and proofs; ``bind`` makes
a test client sign every request that carries a key's token: the header ``Authorization:
Bearer <token>`` that the tests write (`gateway_support.auth`) is rewritten as ``DPoP
<token>`` with a fresh proof for that request's method and URL, so every existing test keeps
its shape while each request proves possession of the key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from joserfc import jws, jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/v1/oauth/token"
ISSUER = "http://testserver"  # the TestClient's base URL: the gateway's issuer identifier
STATEMENT_TYPE = "dexin-contribution+jws"

Key = ECKey | OKPKey | RSAKey
_BOUND: dict[str, ClientKey] = {}  # token -> the key it is bound to (test side only)


def _alg(key: Key) -> str:
    if isinstance(key, ECKey):
        return "ES256"
    if isinstance(key, OKPKey):
        return "Ed25519"
    return "PS256"


def _rows(data: bytes) -> int:
    """Data rows of a CSV (lines after the header, blank ones not counted)."""
    return max(sum(1 for line in data.splitlines() if line.strip()) - 1, 0)


def signed(token: str, table: str, data: bytes, **stated: Any) -> dict[str, str]:
    """The signed form fields of a contribution by the provider holding ``token``."""
    return _BOUND[token].contribution(table, data, **stated)


def ath(token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def htu(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass
class ClientKey:
    client_id: str
    key: Key
    token: str = ""
    name: str = ""  # a provider's registry id

    @property
    def alg(self) -> str:
        return _alg(self.key)

    def assertion(self, audience: Any = ISSUER, **claims: Any) -> str:
        """A client assertion (RFC 7523 §3); ``claims`` override or, as None, drop a claim."""
        now = int(time.time())
        body: dict[str, Any] = {"iss": self.client_id, "sub": self.client_id, "aud": audience,
                                "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(16)}  # fmt: skip
        body.update(claims)
        header = {"alg": self.alg, "kid": self.key.thumbprint(), "typ": "JWT"}
        return jwt.encode(header, {k: v for k, v in body.items() if v is not None}, self.key,
                          algorithms=[self.alg])  # fmt: skip

    def proof(self, method: str, url: str, token: str | None = None, **claims: Any) -> str:
        """A DPoP proof (RFC 9449 §4.2) for ``method`` ``url`` (with ``ath`` of ``token``);
        ``claims`` override or, as None, drop a claim."""
        body: dict[str, Any] = {"htm": method, "htu": htu(url), "iat": int(time.time()),
                                "jti": secrets.token_urlsafe(16)}  # fmt: skip
        if token is not None:
            body["ath"] = ath(token)
        body.update(claims)
        header = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.key.as_dict(private=False)}
        return jwt.encode(header, {k: v for k, v in body.items() if v is not None}, self.key,
                          algorithms=[self.alg])  # fmt: skip

    def contribution(self, table: str, data: bytes, **stated: Any) -> dict[str, str]:
        """The signed form fields of a contribution of ``data`` to ``table``: the statement
        (``stated`` overrides a field, or, as None, drops it) and a detached JWS over its
        exact bytes (RFC 7515 Appendix F)."""
        statement: dict[str, Any] = {
            "v": 1, "client_id": self.client_id, "provider": self.name, "table": table,
            "file_sha256": hashlib.sha256(data).hexdigest(), "rows": _rows(data),
            "submission_id": secrets.token_hex(8),
            "submitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }  # fmt: skip
        statement.update(stated)
        raw = json.dumps({k: v for k, v in statement.items() if v is not None}).encode()
        header = {"alg": self.alg, "kid": self.key.thumbprint(), "typ": STATEMENT_TYPE}
        head, _, signature = jws.serialize_compact(header, raw, self.key,
                                                   algorithms=[self.alg]).split(".")  # fmt: skip
        return {"table": table, "statement": raw.decode(), "signature": f"{head}..{signature}"}

    def token_form(self, **claims: Any) -> dict[str, str]:
        return {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.assertion(**claims)}  # fmt: skip

    def fetch_token(self, http: httpx.Client) -> str:
        """A DPoP-bound token from the gateway (asserting and proving with this key)."""
        proof = self.proof("POST", ISSUER + TOKEN_PATH)
        r = http.post(TOKEN_PATH, data=self.token_form(), headers={"DPoP": proof})
        assert r.status_code == 200, r.text
        assert r.json()["token_type"] == "DPoP"
        return str(r.json()["access_token"])


def _sign(request: httpx.Request) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    holder = _BOUND.get(token) if scheme == "Bearer" else None
    if holder is None or "dpop" in request.headers:
        return
    request.headers["Authorization"] = f"DPoP {token}"
    request.headers["DPoP"] = holder.proof(request.method, str(request.url), token)


def sign_bound_requests(http: httpx.Client) -> None:
    """Let ``http`` sign every request carrying a bound token with a proof of its key."""
    hooks = http.event_hooks
    if _sign not in hooks["request"]:
        http.event_hooks = {**hooks, "request": [*hooks["request"], _sign]}


def bind(http: httpx.Client, holder: ClientKey) -> None:
    """Remember ``holder``'s token: test clients sign the requests that carry it."""
    _BOUND[holder.token] = holder
    sign_bound_requests(http)
