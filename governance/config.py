"""`GatewaySettings`: the limits the governance core and the gateway work within.

A plain frozen value: the application reads it from the environment (`dexin.settings`,
as the ``gateway`` section of the one `Settings`) and passes it in; nothing here reads env.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GatewaySettings", "OidcSettings"]


@dataclass(frozen=True)
class OidcSettings:
    """The residents' identity provider (any OpenID Connect provider: 浙里办 in production, the
    local `oidc-provider` in the demo and tests) and this gateway's client at it."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str  # the console's callback, as the IdP has it registered
    id_number_claim: str = "dexin_id_number"
    resident_scope: str = "dexin_resident"


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
    oidc: OidcSettings | None = None  # None: residents cannot sign in (unless the unsafe dev path)
    unsafe_dev_identity: bool = False  # DEXIN_UNSAFE_DEV_IDENTITY: an ID number alone signs in
    metrics_port: int = 0  # DEXIN_METRICS_PORT: the operator port serving /metrics (0: none)
    metrics_host: str = "127.0.0.1"  # DEXIN_METRICS_HOST: loopback unless an operator says
    log_format: str = "text"  # DEXIN_LOG_FORMAT: ``json`` (one object a line) or ``text``
    dispute_attachment_max: int = 1024 * 1024  # bytes of a dispute's attachment (sealed at rest)
    dispute_sweep: float = 300.0  # seconds between escalation sweeps of disputes (0: none)
    # DEXIN_PUBLIC_URL: the base URL clients address (behind a proxy): the issuer identifier
    # client assertions name and the origin of every DPoP proof's htu; None: the request's own
    public_url: str | None = None
