"""Console accounts: officers and auditors who sign in with a password and a TOTP code.

Each account is bound to the OAuth client it acts as (an officer's vote is that client's vote,
signed on the ledger with its key). Stored in ``$DEXIN_HOME/console/accounts.json`` (0600):

- passwords as scrypt hashes (RFC 7914; n=2^14, r=8, p=1, 16-byte salt), compared in
  constant time;
- TOTP secrets (RFC 6238, 30 s, 6 digits, ±1 step) sealed with AES-256-GCM under a key
  derived from the gateway's token key, so a copy of the file alone yields no second factor;
- a code is accepted once: the last accepted time step of each account is kept in memory by
  the one gateway process, so a replayed code is refused.

The file is replaced atomically under an exclusive ``flock``, so the demo or an admin
command may add accounts while the gateway runs.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from governance import Role

CONSOLE_ROLES = (Role.OFFICER, Role.AUDITOR)
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_AAD = b"dexin.console.totp.v1"


class LoginFailed(Exception):
    """Wrong user name, password or code (one message for all: nothing is revealed)."""


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    client_id: str


def seal_key(token_key: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dexin.console.seal.v1")
    return hkdf.derive(token_key)


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    again = hash_password(password, bytes.fromhex(salt)).split("$")[2]
    return hmac.compare_digest(again, digest)


class ConsoleAccounts:
    def __init__(self, path: Path, token_key: bytes) -> None:
        self.path = path
        self._aead = AESGCM(seal_key(token_key))
        self._last_step: dict[str, int] = {}
        self._lock = threading.Lock()

    def create(self, username: str, role: Role, client_id: str, password: str) -> str:
        """Add an account; returns its TOTP secret (base32), to be shown once."""
        if role not in CONSOLE_ROLES:
            raise ValueError("console accounts are for officers and auditors")
        if len(password) < 12:
            raise ValueError("a password has at least 12 characters")
        secret = pyotp.random_base32()
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode(), _AAD + username.encode())
        record: dict[str, object] = {
            "role": role.value,
            "client_id": client_id,
            "password": hash_password(password),
            "totp": base64.b64encode(sealed).decode(),
        }
        with self._locked() as accounts:
            if username in accounts:
                raise ValueError("an account with this name exists")
            accounts[username] = record
        return secret

    def check(self, username: str, password: str, code: str, now: float | None = None) -> Account:
        """The account if the password and a fresh TOTP code match; `LoginFailed` otherwise."""
        record = self._read().get(username)
        if record is None:
            hash_password(password)  # the same work whether or not the name exists
            raise LoginFailed()
        if not password_matches(password, str(record["password"])):
            raise LoginFailed()
        step = self._verify_code(username, str(record["totp"]), code, now or time.time())
        with self._lock:
            if step <= self._last_step.get(username, -1):
                raise LoginFailed()  # a code is used once
            self._last_step[username] = step
        return Account(username, Role(str(record["role"])), str(record["client_id"]))

    def _verify_code(self, username: str, sealed: str, code: str, now: float) -> int:
        raw = base64.b64decode(sealed)
        try:
            secret = self._aead.decrypt(raw[:12], raw[12:], _AAD + username.encode()).decode()
        except InvalidTag:
            raise LoginFailed() from None
        totp = pyotp.TOTP(secret)
        for drift in (0, -1, 1):
            at = int(now) + drift * totp.interval
            if hmac.compare_digest(totp.at(at), code.strip()):
                return totp.timecode(at)
        raise LoginFailed()

    def usernames(self) -> list[str]:
        return sorted(self._read())

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        assert isinstance(data, dict)
        return data

    @contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, object]]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            accounts = self._read()
            yield accounts
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(accounts, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
