"""DPoP proofs (RFC 9449): access tokens bound to a key the client holds.

A client sends, with its token request and with every request that carries the token, a
``DPoP`` header: a JWT it signs with its key, naming the HTTP method (``htm``) and URL
(``htu``) of this very request, when it made it (``iat``), a fresh identifier (``jti``)
and, beside an access token, the token's hash (``ath``). The token the gateway issues names
the key's RFC 7638 thumbprint (``cnf.jkt``, RFC 7800), so a stolen token is useless without
the private key, and a captured proof is useless for another request or a second time.

`verify_proof` makes the checks of RFC 9449 §4.3 (and §7.1 beside a token): one
well-formed JWT; ``typ`` ``dpop+jwt``; an asymmetric algorithm we support (ES256, PS256,
Ed25519); a public ``jwk`` in the header that verifies the signature; ``htm`` and ``htu``
equal to the request's (the URL compared after RFC 3986 §6.2.2–6.2.3 normalisation, without
query and fragment); ``iat`` within `MAX_AGE_SECONDS` before now (and at most
`SKEW_SECONDS` after); a ``jti`` not seen before; ``ath`` when a token is presented. The
gateway sends no nonces (``use_dpop_nonce`` is never answered): the ``iat`` window and the
``jti`` cache bound a captured proof instead (docs/api.md).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

from governance.client_keys import ALGORITHMS, KeyRefused, PublicKey, public_key
from governance.errors import InvalidDPoPProof
from governance.replay import ReplayCache

__all__ = ["MAX_AGE_SECONDS", "access_token_hash", "normalise_htu", "verify_proof"]

PROOF_TYPE = "dpop+jwt"
MAX_AGE_SECONDS = 60
SKEW_SECONDS = 5
MAX_PROOF_BYTES = 4096
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _ProofRegistry(JWSRegistry):
    max_header_length = 2048  # the header carries the key: an RSA JWK exceeds joserfc's 512


_REGISTRY = _ProofRegistry(algorithms=list(ALGORITHMS))


def access_token_hash(token: str) -> str:
    """``ath``: base64url (unpadded) of the SHA-256 of the token's ASCII (RFC 9449 §4.2)."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def normalise_htu(url: str) -> str:
    """The URL without query and fragment, scheme and host lowercased, a default port
    dropped, an empty path as ``/`` (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2–6.2.3).
    Raises ValueError for something that is not an absolute http(s) URL."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        raise ValueError("not an absolute http(s) URL")
    port = parts.port
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def verify_proof(
    proof: str,
    *,
    method: str,
    url: str,
    replay: ReplayCache,
    access_token: str | None = None,
    now: float | None = None,
) -> str:
    """Check one DPoP proof for the request ``method`` ``url`` (the URL as the client
    addressed it: the gateway's public base URL and the path); returns the thumbprint of the
    key that signed it (``jkt``). Raises `InvalidDPoPProof` whose ``audit_detail`` names the
    check that failed (the caller learns only ``invalid_dpop_proof``)."""
    now = time.time() if now is None else now
    header, claims = _signed(proof)
    _check_request(claims, method=method, url=url)
    _check_time(claims, now)
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise InvalidDPoPProof(audit_detail="dpop_ath")
    jkt = str(header["jkt"])
    if not replay.first_use(f"dpop:{jkt}:{claims['jti']}", now + MAX_AGE_SECONDS + SKEW_SECONDS):
        raise InvalidDPoPProof(audit_detail="dpop_replayed")
    return jkt


def _signed(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The proof's header (with the key's thumbprint as ``jkt``) and claims, once its
    signature verifies with the public key its header carries (parsed once)."""
    if not proof or len(proof) > MAX_PROOF_BYTES:
        raise InvalidDPoPProof(audit_detail="dpop_malformed")
    try:
        obj = jws.extract_compact(proof.encode("ascii"), registry=_REGISTRY)
        header = obj.headers()
    except (JoseError, ValueError, UnicodeError):
        raise InvalidDPoPProof(audit_detail="dpop_malformed") from None
    if header.get("typ") != PROOF_TYPE:
        raise InvalidDPoPProof(audit_detail="dpop_typ")
    public, key = _header_key(header.get("jwk"))
    if header.get("alg") not in ALGORITHMS or header.get("alg") != public.alg:
        raise InvalidDPoPProof(audit_detail="dpop_alg")
    try:
        if not jws.validate_compact(obj, key, registry=_REGISTRY):
            raise InvalidDPoPProof(audit_detail="dpop_signature")
        claims = json.loads(obj.payload)
    except (JoseError, ValueError):
        raise InvalidDPoPProof(audit_detail="dpop_signature") from None
    if not isinstance(claims, dict):
        raise InvalidDPoPProof(audit_detail="dpop_malformed")
    return dict(header) | {"jkt": public.thumbprint}, claims


def _header_key(jwk: Any) -> tuple[PublicKey, Any]:
    """The proof's public key, validated (no private member, a supported, strong key) and
    imported once per distinct key: a bank signs every proof with the same one."""
    if not isinstance(jwk, dict):
        raise InvalidDPoPProof(audit_detail="dpop_jwk")
    try:
        return _imported(json.dumps(jwk, sort_keys=True, separators=(",", ":")))
    except (KeyRefused, ValueError, TypeError):
        raise InvalidDPoPProof(audit_detail="dpop_jwk") from None


@functools.lru_cache(maxsize=4096)
def _imported(jwk: str) -> tuple[PublicKey, Any]:
    public = public_key(json.loads(jwk))  # refuses private members and weak keys
    return public, JWKRegistry.import_key(dict(public.jwk))


def _check_request(claims: dict[str, Any], *, method: str, url: str) -> None:
    if claims.get("htm") != method.upper():
        raise InvalidDPoPProof(audit_detail="dpop_htm")
    htu = claims.get("htu")
    try:
        same = isinstance(htu, str) and normalise_htu(htu) == normalise_htu(url)
    except ValueError:
        same = False
    if not same:
        raise InvalidDPoPProof(audit_detail="dpop_htu")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
        raise InvalidDPoPProof(audit_detail="dpop_jti")


def _check_time(claims: dict[str, Any], now: float) -> None:
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidDPoPProof(audit_detail="dpop_iat")
    if iat > now + SKEW_SECONDS:
        raise InvalidDPoPProof(audit_detail="dpop_iat_future")
    if iat < now - MAX_AGE_SECONDS:
        raise InvalidDPoPProof(audit_detail="dpop_iat_stale")
