"""`GatewaySettings`: the limits the governance core and the gateway work within.

A plain frozen value: the application reads it from the environment (`dexin.settings`,
as the ``gateway`` section of the one `Settings`) and passes it in; nothing here reads env.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GatewaySettings"]


@dataclass(frozen=True)
class GatewaySettings:
    """The gateway's section of `Settings` (the variables are listed in `dexin.settings`)."""

    database_url: str
    token_ttl: int = 900
    approval_threshold: int = 2
    min_cell: int = 10
    rate_limit: float = 50.0
    rate_burst: int = 100
    max_body: int = 16 * 1024
    max_upload: int = 256 * 1024 * 1024
    max_rows: int = 20_000_000  # per contribution (`vault.limits`; `dexin vault ingest` too)
    max_columns: int = 64
    max_expanded_bytes: int = 4 * 1024**3  # decompressed and decoded
    witness_interval: float = 30.0
    telemetry: bool = False
    login_lockout: int = 10  # consecutive failed sign-ins that lock a console account
    login_backoff: float = 1.0  # seconds after the first failure, doubling with each one
    login_backoff_max: float = 900.0  # the longest wait between two attempts
    login_hashers: int = 1  # password hashes computed at once (scrypt: 16 MiB, ~30 ms each)
    login_queue: int = 4  # sign-ins that may wait for a hasher; more are refused with 503
