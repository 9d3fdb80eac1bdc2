"""Console accounts: officers, auditors and providers' staff who sign in with a password and a
TOTP code.

Each account is bound to the OAuth client it acts as (an officer's vote is that client's vote,
signed on the ledger with its key; a provider's staff account, role ``provider_staff``, is
bound to the provider's client and only reads its dispute inbox: the provider answers with
its own key, through the API). Stored in ``$DEXIN_HOME/console/accounts.json`` (0600):

- passwords as scrypt hashes (RFC 7914; n=2^14, r=8, p=1, 16-byte salt), compared in
  constant time;
- TOTP secrets (RFC 6238, 30 s, 6 digits, ±1 step) sealed with AES-256-GCM under a key
  derived from the gateway's token key, so a copy of the file alone yields no second factor;
- a code is accepted once: the last accepted time step of each account is kept in the file,
  so a replayed code is refused by every process and after a restart;
- the account's consecutive failed sign-ins and the time of the last one (`attempt`: backoff
  and lockout by `login_guard.LoginPolicy`), and an admin's pending unlock.

The file is replaced atomically under an exclusive ``flock``, so the demo or an admin
command may add or unlock accounts while the gateway runs.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import secrets
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
from sqlalchemy.orm import Session, sessionmaker

from audit import write_atomic
from governance.credentials import Role
from governance.login_guard import (
    AccountLockedOut,
    Failures,
    LoginFailed,
    LoginPolicy,
    UnlockPending,
)

__all__ = [
    "CONSOLE_ROLES",
    "Account",
    "ConsoleAccounts",
    "LoginFailed",
    "hash_password",
    "password_matches",
    "request_unlock",
]

CONSOLE_ROLES = (Role.OFFICER, Role.AUDITOR, Role.PROVIDER_STAFF)
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_AAD = b"dexin.console.totp.v1"


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
    def __init__(self, path: Path, token_key: bytes, policy: LoginPolicy | None = None,
                 sessions: sessionmaker[Session] | None = None) -> None:  # fmt: skip
        """``sessions``: the control plane, when several gateway processes share it (the
        failures of names with no account are kept there; else in memory)."""
        self.path = path
        self.policy = policy or LoginPolicy()
        self._aead = AESGCM(seal_key(token_key))
        self._unknown = Failures(self.policy, locks=True, sessions=sessions)  # names, no account

    def create(self, username: str, role: Role, client_id: str, password: str) -> str:
        """Add an account; returns its TOTP secret (base32), to be shown once."""
        if role not in CONSOLE_ROLES:
            raise ValueError("console accounts are for officers, auditors and providers' staff")
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
        with _locked(self.path) as accounts:
            if username in accounts:
                raise ValueError("an account with this name exists")
            accounts[username] = record
        return secret

    def attempt(self, username: str, password: str, code: str, now: float | None = None) -> Account:
        """`check` behind the account's backoff and lockout (`policy`; blocking: call it from
        a worker thread).

        The attempt is counted as a failure before the password is hashed and the count is
        cleared only by a success, so concurrent guesses are throttled like consecutive ones.
        Raises `LoginThrottled`, `AccountLocked` (both before any hashing), `UnlockPending`
        (an admin's unlock waits to be audited and applied), `AccountLockedOut` (this failure
        locked the account) or `LoginFailed`."""
        now = time.time() if now is None else now
        failures = self._admit(username, now)
        try:
            return self.check(username, password, code, now)
        except LoginFailed:
            account = self.account(username)
            if account is not None and failures >= self.policy.lockout:
                raise AccountLockedOut(account) from None
            raise

    def _admit(self, username: str, now: float) -> int:
        if username not in _read(self.path):
            return self._unknown.admit(username, now)
        with _locked(self.path) as accounts:
            record = accounts.get(username)
            if record is None:
                raise LoginFailed()  # removed meanwhile
            if record.get("unlock_requested"):
                raise UnlockPending(_account(username, record))
            failures = int(str(record.get("failures", 0)))
            self.policy.admit(failures, float(str(record.get("failed_at", 0.0))), now)
            record["failures"], record["failed_at"] = failures + 1, now
            return failures + 1

    def check(self, username: str, password: str, code: str, now: float | None = None) -> Account:
        """The account if the password and a fresh TOTP code match; `LoginFailed` otherwise.
        A success records the code's time step (a code is used once) and clears the
        account's failures."""
        record = _read(self.path).get(username)
        if record is None:
            hash_password(password)  # the same work whether or not the name exists
            raise LoginFailed()
        if not password_matches(password, str(record["password"])):
            raise LoginFailed()
        step = self._verify_code(username, str(record["totp"]), code, now or time.time())
        with _locked(self.path) as accounts:
            current = accounts.get(username)
            if current is None or step <= int(str(current.get("totp_step", -1))):
                raise LoginFailed()  # a code is used once
            current["totp_step"], current["failures"] = step, 0
        return _account(username, record)

    def account(self, username: str) -> Account | None:
        record = _read(self.path).get(username)
        return None if record is None else _account(username, record)

    def apply_unlock(self, username: str) -> None:
        """Clear the account's failures and its pending unlock (after the unlock is audited)."""
        with _locked(self.path) as accounts:
            record = accounts.get(username)
            if record is not None:
                record["failures"] = 0
                record.pop("failed_at", None)
                record.pop("unlock_requested", None)

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
        return sorted(_read(self.path))


def request_unlock(path: Path, username: str) -> bool:
    """Ask the gateway to unlock an account (False if there is none). It takes effect at the
    account's next sign-in, once the gateway has audited it; it needs no key, so ``dexin
    admin`` can write it while the gateway runs."""
    with _locked(path) as accounts:
        record = accounts.get(username)
        if record is None:
            return False
        record["unlock_requested"] = True
        return True


def _account(username: str, record: dict[str, object]) -> Account:
    return Account(username, Role(str(record["role"])), str(record["client_id"]))


def _read(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    assert isinstance(data, dict)
    return data


@contextmanager
def _locked(path: Path) -> Iterator[dict[str, dict[str, object]]]:
    """The accounts, to change under the file's lock; written back unless the body raises."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        accounts = _read(path)
        yield accounts
        document = json.dumps(accounts, indent=1, sort_keys=True).encode()
        write_atomic(path, document, mode=0o600)  # password hashes, sealed TOTP secrets
