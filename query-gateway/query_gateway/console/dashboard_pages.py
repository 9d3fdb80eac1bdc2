"""Dashboards: contributions by provider over time, queries per bank, denials by reason, and
the grade distribution by town — released through the privacy rules, never as raw counts.

The grade distribution is published once per gateway process: small cells suppressed, then
one OpenDP discrete-Laplace release at ε = `PUBLISH_EPSILON` (the console's own publication
budget, separate from any bank's approval). Reloading the page shows the same release, so
repeated views cannot average the noise away.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import Request, Response

from audit import LogReader, decode_entry, snapshot_log
from governance import Role, release
from query_gateway.console.charts import bars, stacked
from query_gateway.console.route import console_router, render
from query_gateway.console.state import ConsoleState, console_state
from query_gateway.gateway import Services
from query_gateway.policy import policy

routes = console_router()
PUBLISH_EPSILON = 1.0
VIEWERS = (Role.OFFICER, Role.AUDITOR, Role.ADMIN)


def contributions_over_time(
    gw: Services,
) -> tuple[list[str], list[str], dict[tuple[str, str], float]]:
    records = gw.vault.contributions()  # a cursor of its own: never waits for an ingest
    values: Counter[tuple[str, str]] = Counter()
    for r in records:
        if r["status"] == "accepted":
            values[(str(r["received_at"])[:10], r["provider"])] += r["accepted"]
    days = sorted({d for d, _ in values})
    providers = sorted({p for _, p in values})
    return days, providers, dict(values)


def audit_counts(settings: Any, names: dict[str, str]) -> tuple[Counter[str], Counter[str]]:
    """Allowed bank queries per bank and denials per reason, from the audit log itself."""
    queries: Counter[str] = Counter()
    denials: Counter[str] = Counter()
    directory = settings.audit_dir
    if not (directory / "entries.log").exists():
        return queries, denials
    with LogReader(directory) as reader:
        for raw in snapshot_log(reader).entries():
            _, e = decode_entry(raw)
            if e.decision == "deny":
                denials[e.reason or "unknown"] += 1
            elif e.role == "bank" and e.action in ("POST /v1/scores", "POST /v1/aggregates"):
                queries[names.get(e.actor, e.actor)] += 1
    return queries, denials


def published_grades(gw: Services, state: ConsoleState) -> list[Any]:
    with state.lock:
        if "grades" not in state.published:
            with gw.ingest_lock:
                counts = gw.aggregates.counts("grade_distribution_by_town", {})
            state.published["grades"] = release(counts, epsilon=PUBLISH_EPSILON, sensitivity=1,
                                                min_cell=gw.settings.min_cell)  # fmt: skip
        cells: list[Any] = state.published["grades"]
    return cells


@routes.get("/console/dashboards", openapi_extra=policy(*VIEWERS))
def dashboards(request: Request) -> Response:
    gw, state = console_state(request)
    days, providers, contributed = contributions_over_time(gw)
    names = {c.client_id: c.name for c in gw.control.clients()}
    queries, denials = audit_counts(state.settings, names)
    cells = published_grades(gw, state)
    towns = sorted({str(c.group["town"]) for c in cells})
    codes = sorted({str(c.group["code"]) for c in cells})
    grades = {(str(c.group["town"]), str(c.group["code"])): float(c.count or 0) for c in cells}
    return render(
        request,
        "dashboards.html",
        contributions=stacked(days, providers, contributed),
        queries=bars(sorted(queries.items(), key=lambda kv: -kv[1])),
        denials=bars(sorted(denials.items(), key=lambda kv: -kv[1])),
        grades=stacked(towns, codes, grades, width=900),
        suppressed=sum(c.suppressed for c in cells),
        epsilon=PUBLISH_EPSILON,
        min_cell=gw.settings.min_cell,
    )
