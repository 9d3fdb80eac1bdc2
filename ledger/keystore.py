"""Role keys, encrypted at rest in ``keys.json``.

Each private key is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
application's secret and a per-file salt; the label and address are bound as associated
data, so a sealed key cannot be moved to another label. Keys are never logged and never
leave this module except as ``eth_account`` accounts used to sign.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import KeyStoreError
from .models import Identity, Role

_INFO = b"dexin ledger role keys v1"


class KeyStore:
    """Labelled signing keys in one JSON file; writes are atomic (temp file + rename)."""

    def __init__(self, path: Path, secret: bytes) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._doc = self._load()
        self._aead = AESGCM(_derive(secret, base64.b64decode(self._doc["salt"])))
        self._accounts: dict[str, LocalAccount] = {}

    def labels(self) -> list[str]:
        """Labels in creation order."""
        return list(self._doc["keys"])

    def identity(self, label: str) -> Identity:
        entry = self._entry(label)
        return Identity(label=label, address=entry["address"], role=Role(entry["role"]))

    def account(self, label: str) -> LocalAccount:
        """The decrypted signing account; raises KeyStoreError if missing or undecryptable."""
        if label not in self._accounts:
            self._accounts[label] = self._unseal(label, self._entry(label))
        return self._accounts[label]

    def create(self, label: str, private_key: bytes | None = None) -> Identity:
        """Add a key (a fresh random one unless ``private_key`` is given)."""
        with self._lock:
            if label in self._doc["keys"]:
                raise KeyStoreError(label, "label already exists")
            account = Account.from_key(private_key or os.urandom(32))
            self._doc["keys"][label] = self._seal(label, account)
            self._save()
        self._accounts[label] = account
        return self.identity(label)

    def set_role(self, label: str, role: Role) -> None:
        """Record the role granted on chain (a hint for choosing default signers)."""
        with self._lock:
            self._entry(label)["role"] = int(role)
            self._save()

    def first_with_role(self, role: Role) -> str | None:
        for label, entry in self._doc["keys"].items():
            if entry["role"] == role:
                return str(label)
        return None

    def _entry(self, label: str) -> dict[str, Any]:
        try:
            entry: dict[str, Any] = self._doc["keys"][label]
        except KeyError:
            raise KeyStoreError(label, "no such key") from None
        return entry

    def _seal(self, label: str, account: LocalAccount) -> dict[str, Any]:
        nonce = os.urandom(12)
        aad = _aad(label, account.address)
        sealed = self._aead.encrypt(nonce, bytes(account.key), aad)
        return {"address": account.address, "role": 0, "nonce": _b64(nonce), "sealed": _b64(sealed)}

    def _unseal(self, label: str, entry: dict[str, Any]) -> LocalAccount:
        aad = _aad(label, entry["address"])
        nonce, sealed = base64.b64decode(entry["nonce"]), base64.b64decode(entry["sealed"])
        try:
            account: LocalAccount = Account.from_key(self._aead.decrypt(nonce, sealed, aad))
        except InvalidTag:
            raise KeyStoreError(label, "cannot decrypt: wrong secret or altered file") from None
        if account.address != entry["address"]:
            raise KeyStoreError(label, "decrypted key does not match its address")
        return account

    def _load(self) -> dict[str, Any]:
        if not self._path.exists():
            return {"version": 1, "salt": _b64(os.urandom(16)), "keys": {}}
        doc: dict[str, Any] = json.loads(self._path.read_text(encoding="utf-8"))
        return doc

    def _save(self) -> None:
        tmp = self._path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self._doc, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self._path)


def _derive(secret: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(secret)


def _aad(label: str, address: str) -> bytes:
    return f"{label}\x00{address}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
