"""`create_app(settings)`: the FastAPI application over one data directory.

The lifespan opens the running components through the composition root
(`dexin.app.open_services`) for as long as the app runs; tests pass `Components` (a vault
and ledger they opened, or another audit sink) instead.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from fastapi import FastAPI

from dexin.app import Components, Settings, open_services
from governance import Metrics
from query_gateway import console, openapi, problems
from query_gateway.middleware import AuditMiddleware, BodyLimitMiddleware
from query_gateway.routes import (
    access_requests,
    aggregates,
    audit_log,
    consents,
    contributions,
    disputes,
    me,
    officers,
    public,
    repairs,
    rights,
    scores,
)

__all__ = ["Components", "create_app"]

# The answer path's collector (issue 16 §4, measured with bench/stalls.py at 64
# connections): with the default thresholds (700, 10, 10) the cyclic collector ran ~130
# young and ~1 full collection a second, each walking the young objects of every answer in
# flight with the GIL held: 8 % of the process's time, pauses up to 20-57 ms, overlapping
# nearly every one of the slowest 1 % of answers. Reference counting frees an answer's own
# garbage; a young collection every 10,000 allocations, the older ones 50 and 5,000 times
# rarer, cost under 1 % and took throughput up 20-40 % in the same runs.
GC_THRESHOLDS = (10_000, 50, 100)


@contextmanager
def answer_path_runtime() -> Iterator[None]:
    """`GC_THRESHOLDS` while the gateway serves (a process-wide setting: the previous
    thresholds come back when it stops, as in a test process)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def create_app(
    settings: Settings, components: Components | None = None, metrics: Metrics | None = None
) -> FastAPI:
    """The gateway over ``settings``' data directory (or ``components``); its operator
    metrics on ``metrics`` (`dexin serve` serves them on the operator port)."""
    config = settings.gateway

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_services(settings, components, metrics) as services:
            app.state.gateway = services
            # what start-up built (and every module imported) lives as long as the process:
            # exempt it from the cyclic collector, or each full collection walks all of it
            # (~100 ms measured here, with every answer in flight waiting)
            gc.collect()
            gc.freeze()
            with answer_path_runtime():
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
    for module in (public, access_requests, consents, me, scores, aggregates, contributions,
                   audit_log, officers, rights, disputes, repairs):  # fmt: skip
        app.router.routes.extend(module.routes.routes)  # direct: routes stay PolicedRoute
    console.install(app, settings)  # the web console under /console (ConsoleRoute: policed too)
    problems.install(app)
    openapi.install(app)  # the contract: securities and problems on every operation
    # inner layers: each bounds a dispute's body only (the outer layer bounds every other)
    for paths, bound in disputes.bounded_bodies(config):
        app.add_middleware(BodyLimitMiddleware, limit=config.max_upload, upload_limit=bound,
                           upload_paths=paths)  # fmt: skip
    app.add_middleware(
        BodyLimitMiddleware,
        limit=config.max_body,
        upload_limit=config.max_upload,
        upload_paths={"/v1/contributions", *disputes.UPLOADS},
    )
    app.add_middleware(AuditMiddleware, sink=lambda: app.state.gateway.audit,
                       metrics=lambda: app.state.gateway.metrics)  # fmt: skip
    return app
