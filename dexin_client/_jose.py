"""The little JOSE a bank's client needs, written on `cryptography` alone (the client imports
nothing of the server): base64url, ES256 compact JWS (RFC 7515, RFC 7518 §3.4), RFC 7638
thumbprints, and the verification of the gateway's detached EdDSA answers (RFC 8037)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


class SignatureError(Exception):
    """An answer whose detached JWS does not verify against the gateway's published keys."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact_json(value: Any) -> bytes:
    """Sorted keys, no whitespace: RFC 8785 for the objects this client signs (ASCII keys,
    strings and integers)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def ec_public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big"))}  # fmt: skip


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint of an EC P-256 public JWK (its required members only)."""
    required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(compact_json(required)).digest())


def es256(key: ec.EllipticCurvePrivateKey, signing_input: bytes) -> bytes:
    """The JWS ES256 signature: R and S as two 32-byte big-endian integers (RFC 7518 §3.4)."""
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_compact(key: ec.EllipticCurvePrivateKey, header: dict[str, Any], payload: bytes,
                 *, detached: bool = False) -> str:  # fmt: skip
    """A compact JWS (ES256); ``detached``: the payload left out (RFC 7515 Appendix F)."""
    protected = b64url(compact_json({**header, "alg": "ES256"}))
    body = b64url(payload)
    signature = b64url(es256(key, f"{protected}.{body}".encode("ascii")))
    return f"{protected}.{'' if detached else body}.{signature}"


def verify_detached(jws: str, body: bytes, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify a detached EdDSA JWS (RFC 7515 Appendix F, RFC 8037) over ``body`` with the
    key it names in ``jwks``; returns its header. Raises `SignatureError`."""
    try:
        header_b64, payload, signature_b64 = jws.split(".")
        header = json.loads(b64url_decode(header_b64))
        signature = b64url_decode(signature_b64)
    except ValueError:
        raise SignatureError("malformed detached JWS") from None
    if payload or header.get("alg") != "EdDSA":
        raise SignatureError("not a detached EdDSA JWS")
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if jwk is None or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise SignatureError("unknown key")
    signed = f"{header_b64}.{b64url(body)}".encode()
    try:
        Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(signature, signed)
    except (InvalidSignature, ValueError):
        raise SignatureError("signature does not verify") from None
    return dict(header)
