"""Clients' own keys: the public JWKS a bank or provider registers, and `private_key_jwt`.

A bank or a provider generates its key pair; the gateway keeps only the public half (a JWK,
`PublicKey`), registered by an admin (``dexin admin create-client --jwks``, ``add-client-key``)
and rotatable: a client has at most `MAX_ACTIVE_KEYS` keys at once, so a new key can overlap
the old one until the old one is retired. Every key keeps the time it was added and retired,
so a signature can be checked later against the key registered *at that time*.

Client authentication at the token endpoint is a JWT the client signs (RFC 7523 §2.2, RFC
7521 §4.2; the ``private_key_jwt`` method of OpenID Connect Core §9) as the FAPI 2.0
Security Profile requires (§5.3.2.1, §5.3.3.4): ``iss`` and ``sub`` the client id, ``aud``
the gateway's issuer identifier as a string (only that value: the audience-injection fix of
FAPI 2.0 final), ``exp`` at most `MAX_ASSERTION_SECONDS` ahead, ``iat``, a ``jti`` that is
used once. Algorithms: ES256, PS256 and Ed25519 (RFC 9864's fully specified name for EdDSA
over Ed25519); never ``none``, never a symmetric one.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

from governance.errors import InvalidClient
from governance.replay import ReplayCache

__all__ = [
    "ALGORITHMS",
    "ASSERTION_TYPE",
    "MAX_ACTIVE_KEYS",
    "KeyRefused",
    "PublicKey",
    "assertion_issuer",
    "parse_jwks",
    "public_key",
    "verify_assertion",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("ES256", "PS256", "Ed25519")
MAX_ACTIVE_KEYS = 2
MAX_ASSERTION_SECONDS = 300
SKEW_SECONDS = 30
MAX_JWT_BYTES = 8192
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MIN_RSA_BITS = 2048

Key = ECKey | OKPKey | RSAKey


class KeyRefused(ValueError):
    """A JWK or JWKS that cannot be registered (private, unsupported, malformed)."""


@dataclass(frozen=True)
class PublicKey:
    """A client's public key: ``kid`` (the client's own, else the thumbprint), its RFC 7638
    SHA-256 ``thumbprint``, the algorithm it signs with and the JWK as registered."""

    kid: str
    thumbprint: str
    alg: str
    jwk: Mapping[str, Any]

    def key(self) -> Key:
        imported = JWKRegistry.import_key(dict(self.jwk))
        assert isinstance(imported, ECKey | OKPKey | RSAKey)
        return imported

    def as_json(self) -> str:
        return json.dumps(dict(self.jwk), sort_keys=True, separators=(",", ":"))


def public_key(jwk: Mapping[str, Any]) -> PublicKey:
    """Validate one public JWK: EC P-256 (ES256), OKP Ed25519, or RSA of at least 2048 bits
    (PS256); no private member; ``use``, if present, ``sig``. Raises `KeyRefused`."""
    if not isinstance(jwk, Mapping) or _PRIVATE_MEMBERS & set(jwk):
        raise KeyRefused("a JWK with private members (only the public half is registered)")
    if jwk.get("use", "sig") != "sig":
        raise KeyRefused("a key registered for client authentication must have use=sig")
    if jwk.get("kty") == "RSA" and _rsa_bits(jwk.get("n")) < MIN_RSA_BITS:
        raise KeyRefused("an RSA key must have 2048 bits or more")  # before joserfc warns
    try:
        key = JWKRegistry.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError, KeyError):
        raise KeyRefused("not a valid JWK") from None
    alg = _algorithm(key)
    given = jwk.get("alg")
    if given is not None and given != alg:
        raise KeyRefused(f"the key's alg must be {alg}")
    public = key.as_dict(private=False)
    kid = str(jwk.get("kid") or key.thumbprint())
    if not 1 <= len(kid) <= 128:
        raise KeyRefused("kid must have 1 to 128 characters")
    return PublicKey(kid, key.thumbprint(), alg, public | {"kid": kid, "alg": alg, "use": "sig"})


def _algorithm(key: Any) -> str:
    if isinstance(key, ECKey) and key.curve_name == "P-256":
        return "ES256"
    if isinstance(key, OKPKey) and key.curve_name == "Ed25519":
        return "Ed25519"
    if isinstance(key, RSAKey) and key.raw_value.key_size >= MIN_RSA_BITS:
        return "PS256"
    raise KeyRefused("unsupported key: use EC P-256, Ed25519 or RSA of 2048 bits or more")


def _rsa_bits(modulus: Any) -> int:
    if not isinstance(modulus, str) or len(modulus) > 2048:
        return 0
    try:
        return int.from_bytes(
            base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
        ).bit_length()
    except ValueError:
        return 0


def parse_jwks(document: Mapping[str, Any]) -> list[PublicKey]:
    """The keys of a JWKS document (``{"keys": [...]}``, 1 to `MAX_ACTIVE_KEYS` keys with
    distinct ``kid``s). Raises `KeyRefused`."""
    keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_ACTIVE_KEYS:
        raise KeyRefused(f"a JWKS holds 1 to {MAX_ACTIVE_KEYS} keys under 'keys'")
    parsed = [public_key(k) for k in keys]
    if len({k.kid for k in parsed}) != len(parsed):
        raise KeyRefused("two keys share a kid")
    return parsed


def assertion_issuer(assertion: str) -> str:
    """The ``iss`` an assertion claims, read *without* verifying it (to find whose keys
    verify it). Raises `InvalidClient`."""
    try:
        claims = json.loads(jws.extract_compact(assertion.encode("ascii")).payload)
        issuer = claims["iss"]
    except (JoseError, ValueError, KeyError, TypeError, UnicodeError):
        raise InvalidClient(audit_detail="assertion_malformed") from None
    if not isinstance(issuer, str) or not 1 <= len(issuer) <= 64:
        raise InvalidClient(audit_detail="assertion_malformed")
    return issuer


def verify_assertion(
    assertion: str,
    *,
    client_id: str,
    keys: Sequence[PublicKey],
    issuer: str,
    replay: ReplayCache,
    now: float | None = None,
) -> PublicKey:
    """Verify a client assertion of ``client_id`` against its registered ``keys``; returns
    the key that signed it. Raises `InvalidClient` (``audit_detail`` says which check failed;
    the caller learns only ``invalid_client``)."""
    now = time.time() if now is None else now
    if len(assertion) > MAX_JWT_BYTES:
        raise InvalidClient(audit_detail="assertion_too_large")
    signer, claims = _verified(assertion, keys)
    _check_claims(claims, client_id=client_id, issuer=issuer, now=now)
    if not replay.first_use(f"assertion:{client_id}:{claims['jti']}", claims["exp"] + SKEW_SECONDS):
        raise InvalidClient(audit_detail="assertion_replayed")
    return signer


def _verified(assertion: str, keys: Sequence[PublicKey]) -> tuple[PublicKey, dict[str, Any]]:
    try:
        header = jws.extract_compact(assertion.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        raise InvalidClient(audit_detail="assertion_malformed") from None
    kid = header.get("kid")
    candidates = [k for k in keys if kid is None or k.kid == kid]
    for key in candidates:
        if header.get("alg") != key.alg:
            continue
        try:
            token = jwt.decode(assertion, key.key(), algorithms=[key.alg])
        except (JoseError, ValueError):
            continue
        return key, dict(token.claims)
    raise InvalidClient(
        audit_detail="assertion_signature" if candidates else "assertion_key_unknown"
    )


def _check_claims(claims: Mapping[str, Any], *, client_id: str, issuer: str, now: float) -> None:
    def refuse(what: str) -> InvalidClient:
        return InvalidClient(audit_detail=f"assertion_{what}")

    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise refuse("subject")
    if claims.get("aud") != issuer:
        raise refuse("audience")
    exp, iat = _seconds(claims.get("exp")), _seconds(claims.get("iat"))
    if exp is None or exp <= now - SKEW_SECONDS:
        raise refuse("expired")
    if exp > now + MAX_ASSERTION_SECONDS + SKEW_SECONDS:
        raise refuse("lifetime")
    if iat is None or iat > now + SKEW_SECONDS:
        raise refuse("issued_at")
    nbf = _seconds(claims.get("nbf", now))
    if nbf is None or nbf > now + SKEW_SECONDS:
        raise refuse("not_yet_valid")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
        raise refuse("jti")


def _seconds(value: Any) -> float | None:
    """A NumericDate (RFC 7519 §2) as a float; None for anything else (a bool, a string)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
