"""The local OpenID Connect provider of the demo and the tests (issue 14; docs/identity.md).

Residents sign in at an IdP; locally that IdP is ``oidc-provider`` from npm, run by
``idp/server.mjs`` from a JSON config this module writes. `write_config` hashes the residents'
passwords (scrypt, as the server checks them) and keeps two files it creates only once, so a
restart changes nothing an auditor or a relying party pinned: the signing JWKS (private keys)
and the secrets (pairwise-subject salt, cookie keys, the login form's token key). Every file it
writes is mode 0600, in a 0700 directory.

`run_identity_provider` starts the server, waits for its ``ready <issuer>`` line and its
discovery document, yields a `RunningIdentityProvider`, and stops the server on exit. The
server's log (one JSON line per event) holds no password, login name or ID number.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from joserfc.jwk import ECKey, KeyParameters, KeySet, KeySetSerialization, RSAKey

from audit import write_atomic

SERVER_SCRIPT = Path(__file__).resolve().parents[1] / "idp" / "server.mjs"
SIGNING_KEYS_FILE = "signing-keys.jwks.json"
SECRETS_FILE = "secrets.json"
CONFIG_FILE = "idp.json"
LOG_FILE = "idp.log"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")

SigningAlg = Literal["ES256", "RS256"]


class IdentityProviderError(Exception):
    """Base of the identity provider's errors; ``advice`` says what to do about it."""

    advice = ""


class IdentityProviderConfigError(IdentityProviderError, ValueError):
    """The configuration is inconsistent (duplicate names, a bad claim name, a port clash)."""

    advice = "fix the IdentityProviderConfig; docs/identity.md lists the fields"


class IdentityProviderStartError(IdentityProviderError):
    """The server did not come up: it exited, or gave no ready line or discovery in time."""

    advice = "read the log file named in the message; `npm ci` installs oidc-provider"

    def __init__(self, reason: str, log_path: Path) -> None:
        super().__init__(f"identity provider did not start: {reason} (log: {log_path})")
        self.reason = reason
        self.log_path = log_path


@dataclass(frozen=True)
class IdpClient:
    """A relying party registered at the IdP (the gateway, the console).

    ``scopes`` are the scopes it may ask for (None: all the IdP offers). The ``sub`` it gets is
    pairwise over the host of its ``redirect_uris`` (its sector).
    """

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = (
        "client_secret_basic"
    )
    client_name: str | None = None
    scopes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class IdpResident:
    """A resident's account: ``account_id`` is the IdP's internal, never-shown identifier."""

    account_id: str
    login: str
    password: str = field(repr=False)
    id_number: str = field(repr=False)
    name: str | None = None


@dataclass(frozen=True)
class IdentityProviderConfig:
    """The local IdP. ``issuer`` None: ``http://host:port``; ``port`` 0: the OS picks one."""

    clients: tuple[IdpClient, ...]
    residents: tuple[IdpResident, ...]
    host: str = "127.0.0.1"
    port: int = 0
    issuer: str | None = None
    id_number_claim: str = "dexin_id_number"
    resident_scope: str = "dexin_resident"
    signing_alg: SigningAlg = "ES256"
    code_ttl: int = 30
    token_ttl: int = 300
    session_ttl: int = 600

    def __post_init__(self) -> None:
        _unique("client_id", [c.client_id for c in self.clients])
        _unique("login", [r.login for r in self.residents])
        _unique("account_id", [r.account_id for r in self.residents])
        for label, value in [("claim", self.id_number_claim), ("scope", self.resident_scope)]:
            if not _NAME.match(value):
                raise IdentityProviderConfigError(f"{value!r} is not a usable {label} name")
        if not 0 <= self.port <= 65535:
            raise IdentityProviderConfigError(f"port {self.port} out of range")
        if self.issuer is not None and self.port == 0:
            raise IdentityProviderConfigError("a fixed issuer needs a fixed port")
        for client in self.clients:
            unknown = set(client.scopes or ()) - set(self.scopes)
            if unknown:
                raise IdentityProviderConfigError(f"{client.client_id}: unknown scopes {unknown}")

    @property
    def scopes(self) -> tuple[str, ...]:
        return ("openid", "profile", self.resident_scope)


def _unique(label: str, values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise IdentityProviderConfigError(f"duplicate {label}")


def hash_password(password: str) -> str:
    """scrypt (N=2^15, r=8, p=1) over the NFC form, as ``idp/passwords.mjs`` verifies it."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        unicodedata.normalize("NFC", password).encode(),
        salt=salt,
        maxmem=256 * _SCRYPT["n"] * _SCRYPT["r"],
        dklen=32,
        **_SCRYPT,
    )
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _write_private(path: Path, data: Any) -> None:
    """Write JSON readable by the owner only, replacing ``path`` atomically and durably."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode(), mode=0o600)


def _new_signing_key(alg: SigningAlg) -> dict[str, Any]:
    params: KeyParameters = {"use": "sig", "alg": alg}
    key = (
        ECKey.generate_key("P-256", params, private=True)
        if alg == "ES256"
        else RSAKey.generate_key(2048, params, private=True)
    )
    return {**key.as_dict(private=True), "kid": key.thumbprint()}


def _signing_keys(directory: Path, alg: SigningAlg) -> Path:
    """The private signing JWKS, generated on first use and kept (auditors pin its public half)."""
    path = directory / SIGNING_KEYS_FILE
    if not path.exists():
        _write_private(path, {"keys": [_new_signing_key(alg)]})
    algs = {k.get("alg") for k in json.loads(path.read_text(encoding="utf-8"))["keys"]}
    if alg not in algs:
        raise IdentityProviderConfigError(f"{path} holds no {alg} key (it has {sorted(algs)})")
    return path


def _secrets(directory: Path) -> Path:
    path = directory / SECRETS_FILE
    if not path.exists():
        _write_private(
            path,
            {
                "pairwise_salt": _b64(secrets.token_bytes(32)),
                "cookie_keys": [_b64(secrets.token_bytes(32))],
                "csrf_key": _b64(secrets.token_bytes(32)),
            },
        )
    return path


def _client_json(client: IdpClient, config: IdentityProviderConfig) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "client_name": client.client_name or client.client_id,
        "redirect_uris": list(client.redirect_uris),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "scope": " ".join(client.scopes or config.scopes),
    }


def _resident_json(resident: IdpResident) -> dict[str, Any]:
    return {
        "account_id": resident.account_id,
        "login": resident.login,
        "password_hash": hash_password(resident.password),
        "name": resident.name,
        "id_number": resident.id_number,
    }


def write_config(config: IdentityProviderConfig, directory: Path) -> Path:
    """Write the server's config under ``directory`` (created 0700); return its path.

    The signing keys and secrets already there are kept; the config itself is rewritten
    (fresh password salts). Raises `IdentityProviderConfigError` if the kept keys do not
    match ``config.signing_alg``.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / CONFIG_FILE
    _write_private(
        path,
        {
            "version": 1,
            "issuer": config.issuer,
            "host": config.host,
            "port": config.port,
            "signing_keys_file": str(_signing_keys(directory, config.signing_alg)),
            "secrets_file": str(_secrets(directory)),
            "id_token_signing_alg": config.signing_alg,
            "id_number_claim": config.id_number_claim,
            "resident_scope": config.resident_scope,
            "ttl": {
                "authorization_code": config.code_ttl,
                "access_token": config.token_ttl,
                "id_token": config.token_ttl,
                "interaction": config.session_ttl,
                "session": config.session_ttl,
            },
            "clients": [_client_json(c, config) for c in config.clients],
            "residents": [_resident_json(r) for r in config.residents],
        },
    )
    return path


def public_jwks(signing_keys: Path) -> KeySetSerialization:
    """The public half of a private JWKS file: what an auditor or relying party pins."""
    keys = KeySet.import_key_set(json.loads(signing_keys.read_text(encoding="utf-8")))
    return keys.as_dict(private=False)


@dataclass(frozen=True)
class RunningIdentityProvider:
    """A started IdP: its issuer, discovery document and files."""

    issuer: str
    discovery: dict[str, Any]
    config_path: Path
    log_path: Path

    def jwks(self) -> KeySetSerialization:
        """The IdP's public signing keys (no private member), stable across restarts."""
        return public_jwks(self.config_path.parent / SIGNING_KEYS_FILE)


def _ready_issuer(log_path: Path, offset: int) -> str | None:
    with log_path.open("rb") as f:
        f.seek(offset)
        for line in f.read().decode("utf-8", "replace").splitlines():
            if line.startswith("ready "):
                return line.removeprefix("ready ").strip()
    return None


def _discovery(issuer: str) -> dict[str, Any] | None:
    try:
        with httpx.Client(trust_env=False, timeout=2.0) as http:
            response = http.get(f"{issuer}/.well-known/openid-configuration")
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        return None
    document: dict[str, Any] = response.json()
    return document


def _wait_until_ready(
    process: subprocess.Popen[bytes], config_path: Path, log_offset: int, timeout: float
) -> RunningIdentityProvider:
    log_path = config_path.parent / LOG_FILE
    deadline = time.monotonic() + timeout
    issuer: str | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise IdentityProviderStartError(f"exited with code {process.returncode}", log_path)
        issuer = issuer or _ready_issuer(log_path, log_offset)
        document = _discovery(issuer) if issuer else None
        if issuer and document is not None:
            if document.get("issuer") != issuer:
                raise IdentityProviderStartError("discovery names another issuer", log_path)
            return RunningIdentityProvider(issuer, document, config_path, log_path)
        time.sleep(0.05)
    what = "no discovery document" if issuer else "no ready line"
    raise IdentityProviderStartError(f"{what} within {timeout:g} s", log_path)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def run_identity_provider(
    config: IdentityProviderConfig, workdir: Path, *, timeout: float = 20.0
) -> Iterator[RunningIdentityProvider]:
    """Run the IdP from ``workdir`` (config, keys, secrets and ``idp.log``) until the block ends.

    Raises `IdentityProviderStartError` (naming the log file) when the server exits or is
    not serving its discovery document within ``timeout`` seconds. On exit the server gets
    SIGTERM, then SIGKILL after 5 s.
    """
    config_path = write_config(config, workdir)
    log_path = workdir / LOG_FILE
    node = shutil.which("node")
    if node is None:
        raise IdentityProviderStartError("node is not on PATH", log_path)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as log:
        offset = log.seek(0, os.SEEK_END)
        process = subprocess.Popen(
            [node, str(SERVER_SCRIPT), str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        yield _wait_until_ready(process, config_path, offset, timeout)
    finally:
        _stop(process)
