"""`create_app(settings)`: the FastAPI application over one data directory.

The lifespan opens what the gateway owns for as long as it runs — the vault and the
embedded ledger (one owner process each), the control plane (migrated to head) and the
audit sink — unless `Components` are passed in (tests pass a vault and ledger they opened).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from credit_model.spec import load_spec
from dexin.app import ledger_secret, open_ledger, open_vault
from dexin.audit_wiring import open_audit_log
from dexin.scoring import find_release
from dexin.settings import Settings
from ledger import Ledger
from query_gateway import console, problems, witnessing
from query_gateway.access_index import AccessIndex
from query_gateway.aggregates import AggregateSource, VaultAggregates, negative_tables
from query_gateway.approvals import GATEWAY_LABEL, Approvals
from query_gateway.audit_log_sink import MerkleAuditSink
from query_gateway.audit_sink import AuditSink, JsonlAuditSink
from query_gateway.catalogue import load_catalogue
from query_gateway.consent_log import ConsentLog
from query_gateway.control import ControlPlane
from query_gateway.credentials import derive_keys
from query_gateway.db import migrate, open_engine, session_factory
from query_gateway.gateway import Gateway
from query_gateway.middleware import AuditMiddleware, BodyLimitMiddleware
from query_gateway.model_scores import ModelScoreService
from query_gateway.quota import QuotaFlusher
from query_gateway.ratelimit import RateLimiter
from query_gateway.routes import access, answers, audit_log, consents, contributions, public
from query_gateway.scoring import ScoreService
from query_gateway.settings import GatewaySettings, gateway_dir
from query_gateway.signing_keys import SigningKeys


@dataclass
class Components:
    """What tests (or another host) may provide instead of the lifespan opening it."""

    vault: Any
    ledger: Ledger
    audit: AuditSink | None = None
    scores: ScoreService | None = None
    aggregates: AggregateSource | None = None
    schema: str | None = None  # PostgreSQL schema (search path), for isolated test runs


def create_app(
    settings: Settings,
    gateway_settings: GatewaySettings | None = None,
    components: Components | None = None,
) -> FastAPI:
    config = gateway_settings or GatewaySettings.from_env(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            parts = components or Components(
                vault=stack.enter_context(open_vault(settings)),
                ledger=stack.enter_context(open_ledger(settings)),
            )
            app.state.gateway = build(settings, config, parts, stack)
            app.state.witnessing = stack.enter_context(witnessing.running(app.state.gateway))
            # what start-up built (and every module imported) lives as long as the process:
            # exempt it from the cyclic collector, or each full collection walks all of it
            # (~100 ms measured here, with every answer in flight waiting)
            gc.collect()
            gc.freeze()
            yield

    app = FastAPI(
        title="Dexin query gateway",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,  # no pages that load scripts from elsewhere
        telemetry={
            "tracing": config.telemetry,
            "metrics": config.telemetry,
            "logs": config.telemetry,
        },
    )
    for module in (public, access, consents, answers, contributions, audit_log):
        app.router.routes.extend(module.routes.routes)  # direct: routes stay PolicedRoute
    console.install(app, settings)  # the web console under /console (ConsoleRoute: policed too)
    problems.install(app)
    app.add_middleware(
        BodyLimitMiddleware,
        limit=config.max_body,
        upload_limit=config.max_upload,
        upload_paths={"/v1/contributions"},
    )
    app.add_middleware(AuditMiddleware, sink=lambda: app.state.gateway.audit)
    return app


def build(
    settings: Settings, config: GatewaySettings, parts: Components, stack: ExitStack
) -> Gateway:
    engine = open_engine(config.database_url, schema=parts.schema)
    stack.callback(engine.dispose)
    migrate(engine)
    sessions = session_factory(engine)
    control = ControlPlane(sessions)
    secret = ledger_secret(settings)  # unwrapped once: tokens and answer signatures derive from it
    audit = parts.audit or default_audit_sink(settings, config)
    stack.callback(audit.close)
    vault = parts.vault
    accesses = AccessIndex(getattr(audit, "entry", _no_entries))
    entries = getattr(audit, "entries", None)
    if callable(entries):  # "who accessed me" is read from the log itself
        accesses.scan(entries())
        control.reconcile_quotas(accesses.answered)  # spends a crash kept from the database
    flusher = QuotaFlusher(control)
    stack.callback(flusher.stop)
    return Gateway(
        settings=config,
        engine=engine,
        control=control,
        catalogue=load_catalogue(),
        keys=derive_keys(secret),
        signer=SigningKeys(secret, gateway_dir(settings)),
        audit=audit,
        scores=parts.scores or default_scores(vault, parts.ledger),
        aggregates=parts.aggregates
        or VaultAggregates(vault, negative_tables(vault.registry), vault.as_of),
        approvals=Approvals(control, parts.ledger, config.approval_threshold),
        consents=ConsentLog(sessions, parts.ledger, GATEWAY_LABEL),
        vault=vault,
        ledger=parts.ledger,
        rate_limiter=RateLimiter(config.rate_limit, config.rate_burst),
        accesses=accesses,
    )


def default_audit_sink(settings: Settings, config: GatewaySettings) -> AuditSink:
    """The Merkle audit log of the data directory; the interim JSON-lines file on request."""
    if config.audit_backend == "jsonl":
        return JsonlAuditSink(config.audit_path)
    return MerkleAuditSink(open_audit_log(settings))


def default_scores(vault: Any, ledger: Ledger) -> ScoreService:
    """The credit model's default spec, naming its release on the ledger if there is one."""
    spec = load_spec(registry=vault.registry)
    service = ModelScoreService(vault, spec, find_release(ledger, spec))
    service.warm()  # read the features now, not on the first bank's request
    return service


def _no_entries(index: int) -> bytes:
    raise LookupError("this audit sink cannot read its entries back")
