"""Signed answers: a detached JWS (RFC 7515 Appendix F) with EdDSA / Ed25519 (RFC 8037).

The signature covers the exact bytes of the response body: the signing input is
``BASE64URL(header) '.' BASE64URL(body)`` and the header ``Dexin-Signature`` carries
``BASE64URL(header) '..' BASE64URL(signature)``, the payload left out. The public key is
published at ``GET /v1/keys`` as a JWKS; ``kid`` is its RFC 7638 thumbprint. A bank
verifies offline with `verify_detached` or any JOSE library.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SIGNATURE_HEADER = "Dexin-Signature"


class SignatureError(Exception):
    """The detached JWS does not verify against the body with any published key."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    x = b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    thumbprint = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    kid = b64url(hashlib.sha256(thumbprint.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}


class ResponseSigner:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.jwk = public_jwk(key.public_key())
        header = {"alg": "EdDSA", "kid": self.jwk["kid"], "typ": "dexin-answer+json"}
        self._header = b64url(json.dumps(header, separators=(",", ":")).encode())

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def sign(self, body: bytes) -> str:
        """The detached compact JWS over ``body``."""
        signing_input = f"{self._header}.{b64url(body)}".encode()
        return f"{self._header}..{b64url(self._key.sign(signing_input))}"


def verify_detached(jws: str, body: bytes, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify ``jws`` over ``body`` with the key it names in ``jwks``; returns the header.

    Raises `SignatureError` for a malformed JWS, an unknown key or algorithm, a bad signature.
    """
    try:
        header_b64, payload, signature_b64 = jws.split(".")
        header = json.loads(b64url_decode(header_b64))
        signature = b64url_decode(signature_b64)
    except ValueError:
        raise SignatureError("malformed detached JWS") from None
    if payload or header.get("alg") != "EdDSA":
        raise SignatureError("not a detached EdDSA JWS")
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if jwk is None or jwk.get("crv") != "Ed25519":
        raise SignatureError("unknown key")
    key = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    try:
        key.verify(signature, f"{header_b64}.{b64url(body)}".encode())
    except InvalidSignature:
        raise SignatureError("signature does not verify") from None
    return dict(header)
