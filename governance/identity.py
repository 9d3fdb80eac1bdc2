"""Residents' identity: what an OpenID Connect provider's ID token proves, and for which terms.

A resident proves each consent and each withdrawal by a fresh sign-in at the authority's
identity provider (IdP) for exactly those terms: the relying party sends the digest of the
terms as the OIDC ``nonce`` with ``prompt=login``, and keeps the IdP-signed ID token as the
evidence. Anyone holding the IdP's public keys (its JWKS, pinned out of band) can check later
that the token is the IdP's, that it was issued to our client, that its ``nonce`` is the digest
of the recorded terms and that the sign-in happened before the record: the operator alone
cannot produce such a token.

`terms_digest` is the one definition of the digest (RFC 8785 canonical JSON, SHA-256);
`verify_evidence` checks a kept ID token and raises `EvidenceRejected` with a fixed reason
code. The pairwise ``sub`` names the resident at the IdP; the link from ``sub`` to the
subject's pseudonym is recorded at sign-in (`ResidentLink`), when the IdP released the
resident's ID number once (read, pseudonymised at once, never stored).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

__all__ = [
    "ALGORITHMS",
    "EvidenceRejected",
    "VerifiedEvidence",
    "evidence_digest",
    "grant_terms",
    "terms_digest",
    "verify_evidence",
    "withdrawal_terms",
]

ALGORITHMS = ("ES256", "RS256")
FRESHNESS = dt.timedelta(minutes=10)  # a sign-in older than this proves no fresh intent
MAX_TOKEN = 8192


class EvidenceRejected(Exception):
    """An ID token that does not prove the terms; ``reason`` is a fixed code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedEvidence:
    """What a verified ID token says: who (pairwise ``sub``) signed in when, for which terms."""

    issuer: str
    sub: str
    auth_time: dt.datetime
    nonce: str
    digest: str  # SHA-256 of the token's exact text: what the consent log binds
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)  # may hold the ID number


def grant_terms(
    bank: str, purpose: str, computations: tuple[str, ...] | list[str], expires_at: dt.datetime
) -> dict[str, Any]:
    """The terms a resident signs in for to grant a consent."""
    expiry = expires_at.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"action": "grant", "bank": bank, "purpose": purpose,
            "computations": sorted(computations), "expires_at": expiry}  # fmt: skip


def withdrawal_terms(consent_id: str) -> dict[str, Any]:
    """The terms a resident signs in for to withdraw a consent."""
    return {"action": "withdraw", "consent": consent_id}


def terms_digest(terms: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of ``terms``: the OIDC nonce."""
    return hashlib.sha256(rfc8785.dumps(dict(terms))).hexdigest()


def evidence_digest(id_token: str) -> str:
    return hashlib.sha256(id_token.encode("ascii")).hexdigest()


def verify_evidence(
    id_token: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    audience: str,
    terms: Mapping[str, Any],
    recorded_at: dt.datetime | None = None,
) -> VerifiedEvidence:
    """Check that ``id_token`` is the IdP's (a key of ``jwks``), issued by ``issuer`` to
    ``audience``, for exactly ``terms`` (its nonce), after a sign-in no older than
    `FRESHNESS` before ``recorded_at`` (default now) and not after it. The token's own
    expiry is not checked: evidence is kept and checked long after. Raises `EvidenceRejected`.
    """
    if not id_token or len(id_token) > MAX_TOKEN or not id_token.isascii():
        raise EvidenceRejected("evidence_malformed")
    try:
        token = jwt.decode(id_token, KeySet.import_key_set(dict(jwks)), algorithms=ALGORITHMS)  # type: ignore[arg-type]
    except (JoseError, ValueError):
        raise EvidenceRejected("evidence_signature_invalid") from None
    claims = token.claims
    _check_claims(claims, issuer, audience, terms_digest(terms))
    at = dt.datetime.fromtimestamp(claims["auth_time"], dt.UTC)
    moment = recorded_at or dt.datetime.now(dt.UTC)
    if not moment - FRESHNESS <= at <= moment + dt.timedelta(seconds=5):
        raise EvidenceRejected("evidence_not_fresh")
    return VerifiedEvidence(claims["iss"], claims["sub"], at, claims["nonce"],
                            evidence_digest(id_token), dict(claims))  # fmt: skip


def _check_claims(claims: Mapping[str, Any], issuer: str, audience: str, nonce: str) -> None:
    if claims.get("iss") != issuer:
        raise EvidenceRejected("evidence_wrong_issuer")
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise EvidenceRejected("evidence_wrong_audience")
    if claims.get("nonce") != nonce:
        raise EvidenceRejected("evidence_other_terms")
    sub, auth_time = claims.get("sub"), claims.get("auth_time")
    if not isinstance(sub, str) or not sub or type(auth_time) is not int:
        raise EvidenceRejected("evidence_malformed")
