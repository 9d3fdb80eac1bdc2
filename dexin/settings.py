"""One `Settings`, built once from the environment and passed in; nothing else reads env vars.

- ``DEXIN_HOME``: the data directory holding all state of the embedded default (vault,
  ledger, control plane, audit log, wrapped keys). Default: ``.dexin`` under the working
  directory. Two data directories never share anything.
- ``DEXIN_MASTER_KEY``: the master key as 64 hex characters. When unset, the key file is used.
- ``DEXIN_MASTER_KEY_FILE``: the master key file (mode 0600), by default
  ``$DEXIN_HOME/secrets/master.key``, outside the vault's files.
- ``DEXIN_AS_OF``: the day retention is computed against (YYYY-MM-DD); today if unset.
- ``DEXIN_MEMORY_LIMIT``: DuckDB's memory limit for the vault (default 3GB).
- ``DEXIN_LEDGER``: ``embedded`` (default: an in-process EVM under ``$DEXIN_HOME/ledger``) or
  ``jsonrpc``; then ``DEXIN_LEDGER_RPC_URL`` names the node (Besu, anvil),
  ``DEXIN_LEDGER_FUNDING_KEY`` (hex) may pay for deployment and accounts, and
  ``DEXIN_LEDGER_CONTRACT`` joins an existing deployment.
- ``DEXIN_AUDIT_DATABASE_URL``: a ``postgresql://`` URL puts the audit log in PostgreSQL
  (`audit.pg_log`), shared by any number of answer workers; unset (the default, and
  ``make demo``'s) the log is the file log under ``$DEXIN_HOME/audit``, one writer process.
  Either way the signing key is ``$DEXIN_HOME/audit/log.key``: every worker needs the same.
- ``DEXIN_VAULT_SNAPSHOTS``: ``1`` makes the vault's owner (``dexin serve``, ``dexin vault
  ingest``, ``dexin model score-all``) publish a read-only snapshot of the vault for answer
  workers (`Vault.publish_snapshot`) when it starts serving, after each ingest and after
  each refresh of the scores; off by default (``make demo`` publishes none).
- ``DEXIN_SERVE_ROLE``: ``owner`` (default: ``dexin serve`` owns the vault) or ``worker``
  (as ``dexin serve --worker``): an answer worker that reads the published snapshot, takes
  no vault lock, runs no witnessing or other owner work, and answers the routes that write
  the vault with 503 ``vault_owner_only``. A worker refuses to start unless ``DATABASE_URL``
  and ``DEXIN_AUDIT_DATABASE_URL`` are PostgreSQL and ``DEXIN_LEDGER`` is ``jsonrpc``.

The gateway's section (`GatewaySettings`, ``Settings.gateway``), read in the same pass:

- ``DATABASE_URL``: the control plane. Default: a SQLite file ``$DEXIN_HOME/gateway/control.sqlite``
  (WAL mode); a ``postgresql://`` URL uses PostgreSQL through psycopg 3.
- ``DEXIN_TOKEN_TTL``: lifetime of access tokens in seconds (default 900).
- ``DEXIN_APPROVAL_THRESHOLD``: m, the distinct officer approvals an access request needs (2).
- ``DEXIN_MIN_CELL``: aggregate cells whose group is smaller are suppressed (10).
- ``DEXIN_RATE_LIMIT`` / ``DEXIN_RATE_BURST``: requests per second per client and burst (50/100).
- ``DEXIN_MAX_BODY``: bytes of a JSON or form body (16384); ``DEXIN_MAX_UPLOAD``: bytes of a
  contribution upload (268435456).
- ``DEXIN_MAX_ROWS`` / ``DEXIN_MAX_COLUMNS`` / ``DEXIN_MAX_EXPANDED_BYTES``: per contribution,
  data rows (20000000), columns (64) and bytes once decompressed and decoded (4294967296),
  checked from a CSV's header and line count or a Parquet file's footer before any row is
  read (`vault.limits`); the gateway refuses with 413 and ``reason`` ``too_many_rows``,
  ``too_many_columns`` or ``too_many_expanded_bytes``; ``dexin vault ingest`` honours them too.
- ``DEXIN_WITNESS_INTERVAL``: seconds between witnessing rounds (30; 0: no background rounds).
- ``DEXIN_LOGIN_LOCKOUT``: consecutive failed console sign-ins that lock an account until an
  admin unlocks it (10). ``DEXIN_LOGIN_BACKOFF`` / ``DEXIN_LOGIN_BACKOFF_MAX``: seconds an
  account or a client address waits after its first failure, doubling with each further
  one, and the longest such wait (1 / 900). ``DEXIN_LOGIN_HASHERS``: password hashes
  computed at once (1; each is 16 MiB of scrypt); ``DEXIN_LOGIN_QUEUE``: sign-ins that may
  wait for one (4; beyond that a sign-in is refused with 503, so a flood cannot take the
  CPU from the answer path).
- ``DEXIN_OIDC_ISSUER``, ``DEXIN_OIDC_CLIENT_ID``, ``DEXIN_OIDC_CLIENT_SECRET``,
  ``DEXIN_OIDC_REDIRECT_URI``: the residents' OpenID Connect provider and this gateway's
  client there (all four, or none: then residents cannot sign in);
  ``DEXIN_OIDC_ID_CLAIM`` (``dexin_id_number``) and ``DEXIN_OIDC_RESIDENT_SCOPE``
  (``dexin_resident``): the claim carrying the ID number and the scope that releases it.
- ``DEXIN_PUBLIC_URL``: the gateway's base URL as banks and providers address it
  (``https://gateway.example``: scheme, host, optional port, no path), when a proxy or load
  balancer stands in front of it: the issuer identifier a client assertion's ``aud`` names
  and the origin of every DPoP proof's ``htu``. Unset: the scheme and host each request
  arrived with (right when clients reach the gateway directly).
- ``DEXIN_UNSAFE_DEV_IDENTITY``: ``1`` lets an ID number alone sign a resident in and lets
  consents be recorded without a fresh IdP sign-in (development and tests only; the gateway
  refuses to serve a non-loopback address with it set).
- ``DEXIN_DISPUTE_ATTACHMENT_MAX``: bytes of the file a resident may attach to a dispute
  (1048576; stored sealed); ``DEXIN_DISPUTE_SWEEP``: seconds between the background sweeps
  that escalate disputes left unanswered past their 20 days (300; 0: none, the lists of
  disputes still escalate before they are shown).
- ``DEXIN_METRICS_PORT``: the operator port `dexin serve` serves Prometheus's ``/metrics``
  on, never the public one (0, the default: none); ``DEXIN_METRICS_HOST`` the address it
  binds (``127.0.0.1``; in a container the operator's network, e.g. ``0.0.0.0`` unpublished).
- ``DEXIN_LOG_FORMAT``: ``text`` (default) or ``json`` (one object a line: time, level,
  logger, message, the request id; never an exception's message, which can hold input).
- ``DEXIN_OTEL``: ``1`` turns on FastAPI's OpenTelemetry traces, metrics and logs (off by
  default: nothing about requests leaves the process unless an operator asks, and the
  per-request check for a configured provider costs ~3 % of a score's CPU).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from governance import GatewaySettings, OidcSettings

__all__ = ["GatewaySettings", "Settings"]


@dataclass(frozen=True)
class Settings:
    home: Path
    master_key_file: Path
    master_key_hex: str | None = field(default=None, repr=False)
    as_of: dt.date | None = None
    memory_limit: str = "3GB"
    ledger_backend: Literal["embedded", "jsonrpc"] = "embedded"
    ledger_rpc_url: str | None = None
    ledger_funding_key_hex: str | None = field(default=None, repr=False)
    ledger_contract: str | None = None
    audit_database_url: str | None = field(default=None, repr=False)  # may hold a password
    vault_snapshots: bool = False  # the owner publishes snapshots for answer workers
    serve_role: Literal["owner", "worker"] = "owner"
    gateway: GatewaySettings = field(default=None)  # type: ignore[assignment]  # set in __post_init__

    def __post_init__(self) -> None:
        if self.gateway is None:
            object.__setattr__(self, "gateway", gateway_settings(self.home, {}))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("DEXIN_HOME") or (cwd or Path.cwd()) / ".dexin").absolute()
        key_file = env.get("DEXIN_MASTER_KEY_FILE")
        as_of = env.get("DEXIN_AS_OF")
        return cls(
            home=home,
            master_key_file=Path(key_file).absolute()
            if key_file
            else home / "secrets" / "master.key",
            master_key_hex=env.get("DEXIN_MASTER_KEY") or None,
            as_of=dt.date.fromisoformat(as_of) if as_of else None,
            memory_limit=env.get("DEXIN_MEMORY_LIMIT", "3GB"),
            ledger_backend="jsonrpc" if env.get("DEXIN_LEDGER") == "jsonrpc" else "embedded",
            ledger_rpc_url=env.get("DEXIN_LEDGER_RPC_URL") or None,
            ledger_funding_key_hex=env.get("DEXIN_LEDGER_FUNDING_KEY") or None,
            ledger_contract=env.get("DEXIN_LEDGER_CONTRACT") or None,
            audit_database_url=env.get("DEXIN_AUDIT_DATABASE_URL") or None,
            vault_snapshots=env.get("DEXIN_VAULT_SNAPSHOTS", "").lower() in ("1", "true"),
            serve_role=_serve_role(env),
            gateway=gateway_settings(home, env),
        )

    @property
    def vault_dir(self) -> Path:
        return self.home / "vault"

    @property
    def ledger_dir(self) -> Path:
        return self.home / "ledger"

    @property
    def gateway_dir(self) -> Path:
        """The control-plane file (SQLite default), the response-signing keys, uploads."""
        return self.home / "gateway"

    @property
    def console_accounts(self) -> Path:
        """The console's officer and auditor accounts (0600)."""
        return self.home / "console" / "accounts.json"

    @property
    def audit_dir(self) -> Path:
        return self.home / "audit"

    @property
    def key_source(self) -> str:
        return "DEXIN_MASTER_KEY" if self.master_key_hex else str(self.master_key_file)


def gateway_settings(home: Path, env: Mapping[str, str]) -> GatewaySettings:
    url = env.get("DATABASE_URL") or f"sqlite:///{home / 'gateway' / 'control.sqlite'}"
    return GatewaySettings(
        database_url=url,
        token_ttl=_positive(env, "DEXIN_TOKEN_TTL", 900),
        approval_threshold=_positive(env, "DEXIN_APPROVAL_THRESHOLD", 2),
        min_cell=_positive(env, "DEXIN_MIN_CELL", 10),
        rate_limit=float(_positive(env, "DEXIN_RATE_LIMIT", 50)),
        rate_burst=_positive(env, "DEXIN_RATE_BURST", 100),
        max_body=_positive(env, "DEXIN_MAX_BODY", 16 * 1024),
        max_upload=_positive(env, "DEXIN_MAX_UPLOAD", 256 * 1024 * 1024),
        max_rows=_positive(env, "DEXIN_MAX_ROWS", 20_000_000),
        max_columns=_positive(env, "DEXIN_MAX_COLUMNS", 64),
        max_expanded_bytes=_positive(env, "DEXIN_MAX_EXPANDED_BYTES", 4 * 1024**3),
        witness_interval=_seconds(env, "DEXIN_WITNESS_INTERVAL", 30.0),
        telemetry=env.get("DEXIN_OTEL", "").lower() in ("1", "true"),
        login_lockout=_positive(env, "DEXIN_LOGIN_LOCKOUT", 10),
        login_backoff=_seconds(env, "DEXIN_LOGIN_BACKOFF", 1.0),
        login_backoff_max=_seconds(env, "DEXIN_LOGIN_BACKOFF_MAX", 900.0),
        login_hashers=_positive(env, "DEXIN_LOGIN_HASHERS", 1),
        login_queue=_positive(env, "DEXIN_LOGIN_QUEUE", 4),
        oidc=_oidc(env),
        unsafe_dev_identity=env.get("DEXIN_UNSAFE_DEV_IDENTITY", "") == "1",
        metrics_port=_port(env, "DEXIN_METRICS_PORT"),
        metrics_host=env.get("DEXIN_METRICS_HOST") or "127.0.0.1",
        log_format=_choice(env, "DEXIN_LOG_FORMAT", ("text", "json")),
        dispute_attachment_max=_positive(env, "DEXIN_DISPUTE_ATTACHMENT_MAX", 1024 * 1024),
        dispute_sweep=_seconds(env, "DEXIN_DISPUTE_SWEEP", 300.0),
        public_url=_public_url(env.get("DEXIN_PUBLIC_URL")),
    )


def _public_url(value: str | None) -> str | None:
    """``scheme://host[:port]`` without a trailing slash, or None; ValueError otherwise."""
    if not value:
        return None
    parts = urlsplit(value.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ValueError("DEXIN_PUBLIC_URL must be scheme://host[:port], without a path")
    return f"{parts.scheme}://{parts.netloc}"


def _serve_role(env: Mapping[str, str]) -> Literal["owner", "worker"]:
    return (
        "worker" if _choice(env, "DEXIN_SERVE_ROLE", ("owner", "worker")) == "worker" else "owner"
    )


def _port(env: Mapping[str, str], name: str) -> int:
    value = int(env.get(name) or 0)
    if not 0 <= value <= 65535:
        raise ValueError(f"{name} must be a TCP port (0: off)")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}")
    return value


OIDC_REQUIRED = ("DEXIN_OIDC_ISSUER", "DEXIN_OIDC_CLIENT_ID", "DEXIN_OIDC_CLIENT_SECRET",
                 "DEXIN_OIDC_REDIRECT_URI")  # fmt: skip


def _oidc(env: Mapping[str, str]) -> OidcSettings | None:
    given = [name for name in OIDC_REQUIRED if env.get(name)]
    if not given:
        return None
    if len(given) != len(OIDC_REQUIRED):
        missing = ", ".join(n for n in OIDC_REQUIRED if n not in given)
        raise ValueError(f"the residents' identity provider needs {missing} as well")
    return OidcSettings(
        issuer=env["DEXIN_OIDC_ISSUER"],
        client_id=env["DEXIN_OIDC_CLIENT_ID"],
        client_secret=env["DEXIN_OIDC_CLIENT_SECRET"],
        redirect_uri=env["DEXIN_OIDC_REDIRECT_URI"],
        id_number_claim=env.get("DEXIN_OIDC_ID_CLAIM") or "dexin_id_number",
        resident_scope=env.get("DEXIN_OIDC_RESIDENT_SCOPE") or "dexin_resident",
    )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = int(env.get(name, default))
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = float(env.get(name, default))
    if not value >= 0:
        raise ValueError(f"{name} must be a number of seconds (0 or more)")
    return value
