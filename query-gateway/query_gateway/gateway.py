"""`Gateway`: everything a request needs, built once by `create_app` and kept on the app.

Holds the settings, the control plane, the subjects' access index (from the audit log), the catalogue, keys and signer, the audit sink, the
score service, aggregates, approvals and the consent log, the vault (for pseudonyms and
contributions) and the rate limiter. Routes reach it through `GatewayDep`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine

from ledger import Ledger
from query_gateway.access_index import AccessIndex
from query_gateway.aggregates import AggregateSource
from query_gateway.approvals import Approvals
from query_gateway.audit_sink import AuditSink
from query_gateway.catalogue import Catalogue
from query_gateway.consent_log import ConsentLog
from query_gateway.control import ControlPlane
from query_gateway.credentials import GatewayKeys, Principal
from query_gateway.ratelimit import RateLimiter
from query_gateway.scoring import ScoreService
from query_gateway.settings import GatewaySettings
from query_gateway.signing_keys import SigningKeys

CLIENT_CACHE_SECONDS = 1.0


@dataclass
class Gateway:
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
    vault: Any  # vault.store.Vault: pseudonyms and contributions
    ledger: Ledger
    rate_limiter: RateLimiter
    accesses: AccessIndex
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)
    _clients: dict[str, tuple[bool, float]] = field(default_factory=dict)

    def client_active(self, client_id: str) -> bool:
        """Whether the client exists and is enabled (cached for one second)."""
        now = time.monotonic()
        cached = self._clients.get(client_id)
        if cached is not None and now - cached[1] < CLIENT_CACHE_SECONDS:
            return cached[0]
        active = self.control.active_client(client_id) is not None
        self._clients[client_id] = (active, now)
        return active


def gateway_of(request: Request) -> Gateway:
    gateway = request.app.state.gateway
    assert isinstance(gateway, Gateway)
    return gateway


# async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request
async def get_gateway(request: Request) -> Gateway:
    return gateway_of(request)


async def get_principal(request: Request) -> Principal:
    principal = request.state.principal
    assert isinstance(principal, Principal)
    return principal


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
