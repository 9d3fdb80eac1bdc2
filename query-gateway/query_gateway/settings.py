"""`GatewaySettings`: the gateway's own configuration, built once from the environment.

- ``DATABASE_URL``: the control plane. Default: a SQLite file ``$DEXIN_HOME/gateway/control.sqlite``
  (WAL mode); a ``postgresql://`` URL uses PostgreSQL through psycopg 3.
- ``DEXIN_TOKEN_TTL``: lifetime of access tokens in seconds (default 900).
- ``DEXIN_APPROVAL_THRESHOLD``: m, the distinct officer approvals an access request needs (2).
- ``DEXIN_MIN_CELL``: aggregate cells whose group is smaller are suppressed (10).
- ``DEXIN_RATE_LIMIT`` / ``DEXIN_RATE_BURST``: requests per second per client and burst (50/100).
- ``DEXIN_MAX_BODY``: bytes of a JSON or form body (16384); ``DEXIN_MAX_UPLOAD``: bytes of a
  contribution upload (268435456).
- ``DEXIN_AUDIT_SINK``: ``log`` (default: the Merkle audit log under ``$DEXIN_HOME/audit``) or
  ``jsonl`` (the interim durable JSON-lines file ``DEXIN_AUDIT_LOG``, default
  ``$DEXIN_HOME/gateway/audit.jsonl``).
- ``DEXIN_WITNESS_INTERVAL``: seconds between witnessing rounds (30; 0: no background rounds).
- ``DEXIN_OTEL``: ``1`` turns on FastAPI's OpenTelemetry traces, metrics and logs (off by
  default: nothing about requests leaves the process unless an operator asks, and the
  per-request check for a configured provider costs ~3 % of a score's CPU).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dexin.settings import Settings


@dataclass(frozen=True)
class GatewaySettings:
    database_url: str
    audit_path: Path
    audit_backend: Literal["log", "jsonl"] = "log"
    token_ttl: int = 900
    approval_threshold: int = 2
    min_cell: int = 10
    rate_limit: float = 50.0
    rate_burst: int = 100
    max_body: int = 16 * 1024
    max_upload: int = 256 * 1024 * 1024
    witness_interval: float = 30.0
    telemetry: bool = False

    @classmethod
    def from_env(cls, settings: Settings, env: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if env is None else env
        home = gateway_dir(settings)
        url = env.get("DATABASE_URL") or f"sqlite:///{home / 'control.sqlite'}"
        return cls(
            database_url=url,
            audit_path=Path(env.get("DEXIN_AUDIT_LOG") or home / "audit.jsonl"),
            audit_backend="jsonl" if env.get("DEXIN_AUDIT_SINK") == "jsonl" else "log",
            token_ttl=_positive(env, "DEXIN_TOKEN_TTL", 900),
            approval_threshold=_positive(env, "DEXIN_APPROVAL_THRESHOLD", 2),
            min_cell=_positive(env, "DEXIN_MIN_CELL", 10),
            rate_limit=float(_positive(env, "DEXIN_RATE_LIMIT", 50)),
            rate_burst=_positive(env, "DEXIN_RATE_BURST", 100),
            max_body=_positive(env, "DEXIN_MAX_BODY", 16 * 1024),
            max_upload=_positive(env, "DEXIN_MAX_UPLOAD", 256 * 1024 * 1024),
            witness_interval=_seconds(env, "DEXIN_WITNESS_INTERVAL", 30.0),
            telemetry=env.get("DEXIN_OTEL", "").lower() in ("1", "true"),
        )


def gateway_dir(settings: Settings) -> Path:
    """``$DEXIN_HOME/gateway``: the control-plane file, the interim audit log, uploads."""
    return settings.home / "gateway"


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
