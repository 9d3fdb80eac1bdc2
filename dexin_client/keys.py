"""A bank's or provider's own key: generated here, kept in a 0600 file, never sent anywhere.

The gateway stores only the public half (the JWKS the admin registers with ``dexin admin
create-client --jwks FILE``). The client signs with it its client assertions
(``private_key_jwt``, RFC 7523), the DPoP proof of every request (RFC 9449) and, for a
provider, each contribution's statement.

The key file (``dexin-client-key/v1``) is JSON: ``client_id``, ``name`` (a provider's
registry id) and ``jwk``, the private EC P-256 JWK. A file others can read is refused.

    key = ClientKey.generate()                   # the bank, on its own machine
    Path("bank.jwks.json").write_text(json.dumps(key.public_jwks()))   # to the admin
    key.save(Path("bank.key.json"), client_id="bank_…")                # once registered
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from dexin_client._jose import b64url, b64url_decode, ec_public_jwk, sign_compact, thumbprint

__all__ = ["KEY_FILE_FORMAT", "ClientKey", "KeyFileError"]

KEY_FILE_FORMAT = "dexin-client-key/v1"
ASSERTION_SECONDS = 60


class KeyFileError(Exception):
    """A key file that cannot be used (unreadable, others may read it, not an EC P-256 key)."""


@dataclass(frozen=True)
class ClientKey:
    """An EC P-256 private key with the ``client_id`` (and ``name``) it is registered for."""

    private: ec.EllipticCurvePrivateKey
    client_id: str = ""
    name: str = ""

    @classmethod
    def generate(cls) -> ClientKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_jwk(self) -> dict[str, str]:
        jwk = ec_public_jwk(self.private.public_key())
        return jwk | {"kid": thumbprint(jwk), "alg": "ES256", "use": "sig"}

    @property
    def kid(self) -> str:
        return self.public_jwk["kid"]

    def public_jwks(self) -> dict[str, Any]:
        """What the admin registers: ``{"keys": [the public JWK]}``."""
        return {"keys": [self.public_jwk]}

    def registered(self, client_id: str, name: str = "") -> ClientKey:
        return ClientKey(self.private, client_id, name)

    # -- what the key signs -------------------------------------------------------------

    def assertion(self, issuer: str, now: float | None = None) -> str:
        """A client assertion for the token endpoint: ``aud`` the gateway's issuer
        identifier (FAPI 2.0), valid 60 s, a fresh ``jti``."""
        issued = int(time.time() if now is None else now)
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": issuer, "iat": issued,
                  "exp": issued + ASSERTION_SECONDS, "jti": secrets.token_urlsafe(18)}  # fmt: skip
        return sign_compact(self.private, {"kid": self.kid, "typ": "JWT"}, _json(claims))

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        """A DPoP proof for one request: ``htm``, ``htu`` (the URL without query or
        fragment), ``iat``, a fresh ``jti`` and, beside a token, its hash ``ath``."""
        claims: dict[str, Any] = {"htm": method.upper(), "htu": url.split("?")[0].split("#")[0],
                                  "iat": int(time.time()), "jti": secrets.token_urlsafe(18)}  # fmt: skip
        if access_token is not None:
            claims["ath"] = _ath(access_token)
        public = {k: v for k, v in self.public_jwk.items() if k in ("kty", "crv", "x", "y")}
        return sign_compact(self.private, {"typ": "dpop+jwt", "jwk": public}, _json(claims))

    def sign_detached(self, payload: bytes, typ: str) -> str:
        """A detached compact JWS over ``payload`` naming this key (``kid``)."""
        return sign_compact(self.private, {"kid": self.kid, "typ": typ}, payload, detached=True)

    # -- the key file -------------------------------------------------------------------

    def save(self, path: Path, client_id: str | None = None, name: str | None = None) -> None:
        """Write the key file with mode 0600 (its folder 0700 if created here)."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        d = b64url(self.private.private_numbers().private_value.to_bytes(32, "big"))
        doc = {"format": KEY_FILE_FORMAT, "client_id": client_id or self.client_id,
               "name": name if name is not None else self.name, "jwk": self.public_jwk | {"d": d}}  # fmt: skip
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(doc, indent=2) + "\n")
        os.chmod(path, 0o600)

    @classmethod
    def load(cls, path: Path) -> ClientKey:
        """Read a key file; `KeyFileError` if others can read it or it is not ours."""
        try:
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                raise KeyFileError(f"{path} is readable by others: chmod 600 it")
            doc = json.loads(path.read_text(encoding="utf-8"))
            jwk = doc["jwk"]
            if doc.get("format") != KEY_FILE_FORMAT or jwk.get("crv") != "P-256":
                raise KeyFileError(f"{path} is not a Dexin client key file (EC P-256)")
            value = int.from_bytes(b64url_decode(jwk["d"]), "big")
            private = ec.derive_private_key(value, ec.SECP256R1())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyFileError(f"{path}: {type(exc).__name__}") from None
        return cls(private, str(doc.get("client_id", "")), str(doc.get("name", "")))


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _ath(token: str) -> str:
    return b64url(hashlib.sha256(token.encode("ascii")).digest())
