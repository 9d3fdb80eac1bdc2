"""Keys: a master key that only wraps, data keys that only encrypt.

Every provider's database has its own data key, the pseudonymisation (HMAC) key is a key of
its own, and all of them are stored only *wrapped* (AES-256-GCM) in the keyring file
``keyring.json``. Wrapping goes through the `KeyProvider` interface, so a KMS or an HSM can
hold the master key instead of this process. `LocalKeyProvider` is the embedded default: the
master key comes from ``DEXIN_MASTER_KEY`` or a mode-0600 key file (docs/architecture.md says
what that protects against and what it does not).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit import write_atomic, write_secret
from vault.errors import (
    KeyFilePermissionsError,
    MasterKeyInvalid,
    MasterKeyMissing,
    VaultNotInitialised,
    WrongKeyError,
)

KEY_BYTES = 32


class KeyProvider(Protocol):
    """Wraps and unwraps data keys. Implementations: `LocalKeyProvider`; a KMS or HSM client."""

    @property
    def key_id(self) -> str:
        """A public fingerprint of the wrapping key (never the key)."""
        ...

    def wrap(self, name: str, key: bytes) -> bytes: ...

    def unwrap(self, name: str, wrapped: bytes) -> bytes:
        """Raise `WrongKeyError` when ``wrapped`` was not made by this provider for ``name``."""
        ...


class LocalKeyProvider:
    """AES-256-GCM key wrapping under a master key held in this process."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise MasterKeyInvalid("the given bytes")
        self._aead = AESGCM(master_key)
        self._key_id = hashlib.sha256(b"dexin.master-key-id\x00" + master_key).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"LocalKeyProvider(key_id={self._key_id})"

    @property
    def key_id(self) -> str:
        return self._key_id

    def wrap(self, name: str, key: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, key, name.encode())

    def unwrap(self, name: str, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:12], wrapped[12:], name.encode())
        except (InvalidTag, ValueError):
            raise WrongKeyError(f"the wrapped key {name!r}") from None


def _parse_hex_key(text: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise MasterKeyInvalid(source) from None
    if len(key) != KEY_BYTES:
        raise MasterKeyInvalid(source)
    return key


def read_key_file(path: Path) -> bytes:
    """Read a hex master key from ``path``, refusing a file that group or others can read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFilePermissionsError(str(path), mode)
    return _parse_hex_key(path.read_text(encoding="ascii"), str(path))


def create_key_file(path: Path) -> bytes:
    """Create a new random master key file with mode 0600 (its folder 0700); never overwrite."""
    key = secrets.token_bytes(KEY_BYTES)
    write_secret(path, key.hex().encode("ascii") + b"\n")
    return key


def master_key_from(env_value: str | None, key_file: Path | None) -> bytes:
    """The master key from the environment value if set, else from the key file."""
    if env_value:
        return _parse_hex_key(env_value, "DEXIN_MASTER_KEY")
    if key_file is not None and key_file.exists():
        return read_key_file(key_file)
    raise MasterKeyMissing()


@dataclass(frozen=True)
class WrappedKey:
    name: str
    version: int
    wrapped: bytes
    created: str


class Keyring:
    """The wrapped data keys of one vault, persisted atomically as JSON.

    Key names: ``provider:<id>`` (a provider's database), ``pseudonym`` (the HMAC key).
    Only wrapped forms are ever written; unwrapped keys live in memory only.
    """

    def __init__(self, path: Path, provider: KeyProvider) -> None:
        self.path = path
        self._provider = provider
        self._keys: dict[str, WrappedKey] = {}

    @classmethod
    def load(cls, path: Path, provider: KeyProvider) -> Keyring:
        if not path.exists():
            raise VaultNotInitialised(str(path.parent))
        ring = cls(path, provider)
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("master_key_id") != provider.key_id:
            raise WrongKeyError("the keyring (it was made under another master key)")
        for name, entry in document["keys"].items():
            ring._keys[name] = WrappedKey(
                name, entry["version"], base64.b64decode(entry["wrapped"]), entry["created"]
            )
        return ring

    @property
    def master_key_id(self) -> str:
        return self._provider.key_id

    def names(self) -> list[str]:
        return sorted(self._keys)

    def version(self, name: str) -> int:
        return self._keys[name].version

    def unwrap(self, name: str) -> bytes:
        entry = self._keys[name]
        return self._provider.unwrap(f"{name}@{entry.version}", entry.wrapped)

    def next_key(self, name: str) -> tuple[WrappedKey, bytes]:
        """A new random key for the next version of ``name``, wrapped; `put` installs it."""
        version = self._keys[name].version + 1 if name in self._keys else 1
        key = secrets.token_bytes(KEY_BYTES)
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        wrapped = self._provider.wrap(f"{name}@{version}", key)
        return WrappedKey(name, version, wrapped, created), key

    def put(self, entry: WrappedKey) -> None:
        """Install ``entry`` in memory; `save` persists the keyring."""
        self._keys[entry.name] = entry

    def rewrap(self, new_provider: KeyProvider) -> Keyring:
        """A copy of this keyring with every key wrapped under ``new_provider`` instead."""
        ring = Keyring(self.path, new_provider)
        for name, entry in self._keys.items():
            key = self.unwrap(name)
            wrapped = new_provider.wrap(f"{name}@{entry.version}", key)
            ring._keys[name] = WrappedKey(name, entry.version, wrapped, entry.created)
        return ring

    def save(self) -> None:
        document = {
            "format": 1,
            "master_key_id": self._provider.key_id,
            "keys": {
                k.name: {
                    "version": k.version,
                    "wrapped": base64.b64encode(k.wrapped).decode(),
                    "created": k.created,
                }
                for k in sorted(self._keys.values(), key=lambda k: k.name)
            },
        }
        write_atomic(self.path, json.dumps(document, indent=2).encode(), mode=0o600)
