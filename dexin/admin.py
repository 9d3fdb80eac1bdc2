"""What `dexin admin` does: control-plane operations that never open the vault or ledger.

They work while the gateway runs on the same data directory: the control plane is a SQLite
file in WAL mode (or PostgreSQL), and the keys they need (token sealing, pseudonymisation)
are unwrapped from the vault's keyring file without taking the vault's lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dexin.app import ledger_secret, vault_config
from dexin.keys import key_provider
from dexin.settings import Settings
from dexin_client import ClientKey
from governance import (
    KEYED_ROLES,
    ControlPlane,
    KeyRefused,
    NewClient,
    Principal,
    PublicKey,
    Role,
    derive_keys,
    issue_token,
    parse_jwks,
    rotate,
)
from vault import PSEUDONYM_KEY, Keyring, idnumber, load_registry, pseudonymise


class AdminError(Exception):
    """A refused admin command; the message never repeats an identifier."""


@dataclass(frozen=True)
class SubjectToken:
    access_token: str
    expires_in: int


def create_client(
    control: ControlPlane, role: Role, name: str, keys: Sequence[PublicKey] = ()
) -> NewClient:
    """Register a client; a provider's name must be one of the registry's provider ids. A
    bank or provider registers its public ``keys`` (it gets no secret)."""
    if role is Role.SUBJECT:
        raise AdminError("subjects sign in with subject-token, not as clients")
    if not 1 <= len(name) <= 64:
        raise AdminError("the name must have 1 to 64 characters")
    if role is Role.PROVIDER and name not in {p.id for p in load_registry().providers}:
        raise AdminError("a provider client's name must be a provider id of the schema registry")
    if role in KEYED_ROLES and not keys:
        raise AdminError("a bank or provider registers its public key: --jwks FILE (or, for a "
                         "demo, --generate-key DIR); client secrets are not accepted for it")  # fmt: skip
    return control.create_client(role, name, keys)


def read_jwks(path: Path) -> list[PublicKey]:
    """The public keys of a JWKS file; `AdminError` naming what is wrong (never a key)."""
    try:
        return parse_jwks(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # KeyRefused is a ValueError
        raise AdminError(
            f"{path}: {exc if isinstance(exc, KeyRefused) else 'not a JWKS file'}"
        ) from None


def create_keyed_client(
    control: ControlPlane, role: Role, name: str, directory: Path
) -> tuple[NewClient, Path]:
    """Generate a key pair for a new bank or provider (the demo's shortcut: in production the
    bank generates its own and gives only the public JWKS), register its public half and
    write the private key file, 0600, under ``directory`` (0700). Returns the client and
    the file."""
    key = ClientKey.generate()
    made = create_client(control, role, name, parse_jwks(key.public_jwks()))
    path = directory / f"{made.client_id}.key.json"
    key.save(path, client_id=made.client_id, name=name)
    return made, path


def subject_token(settings: Settings, id_number: str, ttl: int) -> SubjectToken:
    """The development identity provider: a short-lived token for the holder of an ID number.
    Refused unless ``DEXIN_UNSAFE_DEV_IDENTITY=1``: it lets whoever runs it act as any
    resident."""
    if not settings.gateway.unsafe_dev_identity:
        raise AdminError(
            "subject-token is the unsafe development identity provider: set "
            "DEXIN_UNSAFE_DEV_IDENTITY=1 to use it (never in production; residents sign in at "
            "the identity provider)"
        )
    reason = idnumber.problem(id_number)
    if reason is not None:
        raise AdminError(f"invalid ID number: {reason}")
    keyring = Keyring.load(vault_config(settings).keyring, key_provider(settings))
    subject = pseudonymise(keyring.unwrap(PSEUDONYM_KEY), "subject", id_number)
    keys = derive_keys(ledger_secret(settings))
    token = issue_token(keys.token_key, Principal(Role.SUBJECT, subject=subject), ttl)
    return SubjectToken(token, ttl)


def rotate_signing_key(settings: Settings) -> dict[str, str]:
    """A new response-signing key (`signing_keys.rotate`): its ``kid``; the running gateway
    signs with it within a second and keeps publishing the old ones."""
    signer = rotate(ledger_secret(settings), settings.gateway_dir)
    return {"kid": signer.jwk["kid"], "x": signer.jwk["x"]}
