"""`Services`: the running governance components one gateway process answers with.

Built once by the composition root (`dexin.app.open_services`) and handed to every edge:
the API routes, the console pages and the CLI call the use cases (`governance.scores`,
`governance.aggregates`, `governance.consents`, `governance.votes`) with it. In an answer
worker (``vault_owner`` False) the vault is the owner's published snapshot, and the use
cases that write the vault call `Services.require_vault_owner` before changing anything.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from governance.accesses import AccessIndex
from governance.aggregates import AggregateSource
from governance.approvals import Approvals
from governance.audit_trail import AuditSink
from governance.catalogue import Catalogue
from governance.config import GatewaySettings
from governance.consent_log import ConsentLog
from governance.control import ControlPlane
from governance.credentials import GatewayKeys
from governance.disputes import DisputeDesk
from governance.metrics import Metrics
from governance.ratelimit import RateLimiter
from governance.relying_party import RelyingParty
from governance.replay import ReplayCache
from governance.rights_state import RightsState
from governance.scores import ScoreService
from governance.signing_keys import SigningKeys
from governance.witnessing import Witnessing
from ledger import Ledger
from vault import Vault, VaultReadOnly

CLIENT_CACHE_SECONDS = 1.0


@dataclass
class Services:
    settings: GatewaySettings
    engine: Engine
    control: ControlPlane
    catalogue: Catalogue
    keys: GatewayKeys
    signer: SigningKeys
    audit: AuditSink
    scores: ScoreService
    aggregates: AggregateSource
    approvals: Approvals
    consents: ConsentLog
    vault: Vault  # pseudonyms and contributions (an answer worker: the published snapshot)
    ledger: Ledger
    rate_limiter: RateLimiter
    accesses: AccessIndex
    workdir: Path  # this process's own files (contribution uploads in flight)
    relying_party: RelyingParty | None = None  # residents' IdP (None: not configured)
    witnessing: Witnessing | None = None  # when the audit trail is the Merkle log
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)
    metrics: Metrics = field(default_factory=Metrics)  # what an operator watches (issue 16)
    disputes: DisputeDesk | None = None  # residents' disputes and repairs (issue 18)
    replay: ReplayCache = field(default_factory=ReplayCache)  # DPoP and assertion jti seen
    rights: RightsState = field(default_factory=RightsState)  # statements, reviews, clock
    vault_owner: bool = True  # False: an answer worker, reading the vault's snapshot
    _clients: dict[str, tuple[bool, float]] = field(default_factory=dict)

    def require_vault_owner(self, action: str) -> None:
        """Refuse ``action`` (a write to the vault) before anything changes, unless this
        process owns the vault: an answer worker reads a snapshot (`VaultReadOnly`, answered
        503 ``vault_owner_only``: the vault owner's gateway takes these)."""
        if not self.vault_owner:
            raise VaultReadOnly(action)

    def client_active(self, client_id: str) -> bool:
        """Whether the client exists and is enabled (cached for one second)."""
        now = time.monotonic()
        cached = self._clients.get(client_id)
        if cached is not None and now - cached[1] < CLIENT_CACHE_SECONDS:
            return cached[0]
        active = self.control.active_client(client_id) is not None
        self._clients[client_id] = (active, now)
        return active
