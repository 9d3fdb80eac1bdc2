"""Client secrets, access tokens and the gateway's keys.

- Client secrets are 32 random bytes (256 bits) shown once; only their SHA-256 is stored (a
  slow password hash adds nothing for secrets of that entropy, and costs every token call).
- Access tokens are opaque to their holders: claims sealed with AES-256-GCM under a key only
  the gateway and the `dexin admin` commands derive, so a subject's token does not reveal
  their pseudonym and nobody can mint one without the data directory's master key.
- Both keys (token sealing and the Ed25519 response-signing key) are derived with HKDF from
  the application secret the vault keeps wrapped under the master key (`dexin.app`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from governance.errors import Unauthenticated

TOKEN_PREFIX = "dx1."
_AAD = b"dexin.gateway.token.v1"


class Role(StrEnum):
    BANK = "bank"
    PROVIDER = "provider"
    OFFICER = "officer"
    AUDITOR = "auditor"
    SUBJECT = "subject"
    ADMIN = "admin"
    # a provider's staff in the console (issue 18): a console account bound to the provider's
    # client, which reads the provider's dispute inbox; never a client of its own, and it
    # answers nothing (answers are signed with the provider's key, through the API)
    PROVIDER_STAFF = "provider_staff"


CLIENT_ROLES = tuple(r for r in Role if r not in (Role.SUBJECT, Role.PROVIDER_STAFF))
# Clients that hold their own keys (issue 17): `private_key_jwt` at the token endpoint, tokens
# bound to a key by DPoP; never a secret.
KEYED_ROLES = frozenset({Role.BANK, Role.PROVIDER})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a client (``client_id``) or a subject (``subject`` pseudonym);
    ``jkt``: the thumbprint of the key a DPoP-bound token is bound to (RFC 9449 ``cnf.jkt``),
    None for a token that is not bound."""

    role: Role
    client_id: str | None = None
    subject: str | None = None
    jkt: str | None = None


@dataclass(frozen=True)
class GatewayKeys:
    """The token-sealing key; the response-signing keys are `signing_keys.SigningKeys`."""

    token_key: bytes


def derive_keys(app_secret: bytes) -> GatewayKeys:
    return GatewayKeys(hkdf(app_secret, b"dexin.gateway.token-key.v1"))


def hkdf(secret: bytes, info: bytes) -> bytes:
    """32 bytes derived from the application secret for the purpose ``info`` (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def new_client_id(role: Role) -> str:
    return f"{role.value}_{secrets.token_hex(8)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def issue_token(key: bytes, principal: Principal, ttl: int, now: float | None = None) -> str:
    """A sealed token for ``principal`` valid for ``ttl`` seconds (bound to its ``jkt``,
    if it has one: ``cnf.jkt``, RFC 9449 §6)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "role": principal.role.value,
        "cid": principal.client_id,
        "sub": principal.subject,
        "iat": issued,
        "exp": issued + ttl,
    }
    if principal.jkt is not None:
        claims["cnf"] = {"jkt": principal.jkt}
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(claims).encode(), _AAD)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64url_strict(text: str) -> bytes:
    """The bytes of canonical unpadded base64url (RFC 4648 §5, as `issue_token` writes it);
    `ValueError` for anything else: other characters, padding, an impossible length, or
    unused low bits that are not zero (another spelling of the same bytes)."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not canonical base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != text:
        raise ValueError("not canonical base64url")
    return raw


def open_token(key: bytes, token: str, now: float | None = None) -> Principal:
    """The principal of a valid, unexpired token; `Unauthenticated` otherwise."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 1024:
        raise Unauthenticated("token_malformed")
    try:
        raw = _b64url_strict(token[len(TOKEN_PREFIX) :])
        claims = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], _AAD))
        role = Role(claims["role"])
        expires = int(claims["exp"])
        jkt = claims.get("cnf", {}).get("jkt")
    except (ValueError, InvalidTag, KeyError, TypeError, AttributeError):
        raise Unauthenticated("token_invalid") from None
    if expires <= (now if now is not None else time.time()):
        raise Unauthenticated("token_expired")
    return Principal(role=role, client_id=claims.get("cid"), subject=claims.get("sub"), jkt=jkt)
