"""Dashboards: contributions by provider over time, queries per bank, denials by reason, and
the grade distribution by town — released through the privacy rules, never as raw counts.

The grade distribution is a publication (`query_gateway.console.publications`): every
declared cell noised once at ε = `PUBLISH_EPSILON`, small noisy counts suppressed, the spend
recorded in the audit log against the dashboards' budget, and the release kept on disk, so
reloading the page or restarting the gateway shows the same numbers and spends nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response

from audit import decode_entry
from dexin.app import open_audit_reader
from governance import Role
from query_gateway.console.charts import Label, bars, stacked
from query_gateway.console.i18n import (
    has_label,
    label,
    lang_of,
    provider_label,
    town_label,
    translate,
)
from query_gateway.console.publications import (
    DASHBOARD_BUDGET,
    PUBLISH_EPSILON,
    publication_epsilon,
    published,
)
from query_gateway.console.route import console_router, render
from query_gateway.console.state import console_state
from query_gateway.gateway import Services
from query_gateway.policy import policy

routes = console_router()
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


@dataclass
class LogCounts:
    """What the dashboards read from the audit log."""

    queries: Counter[str] = field(default_factory=Counter)  # allowed bank queries per bank
    denials: Counter[str] = field(default_factory=Counter)  # denials per reason
    spent: float = 0.0  # ε of the dashboards' publications


def audit_counts(settings: Any, names: dict[str, str]) -> LogCounts:
    """Queries per bank, denials per reason and the publications' ε, from the audit log."""
    counts = LogCounts()
    with open_audit_reader(settings) as reader:  # the PostgreSQL log or the file log
        for raw in reader.entries():  # every durable entry, checkpointed or not yet
            _, e = decode_entry(raw)
            if e.decision == "deny":
                counts.denials[e.reason or "unknown"] += 1
            elif e.role == "bank" and e.action in ("POST /v1/scores", "POST /v1/aggregates"):
                counts.queries[names.get(e.actor, e.actor)] += 1
            counts.spent += publication_epsilon(e)
    return counts


@routes.get("/console/dashboards", openapi_extra=policy(*VIEWERS))
def dashboards(request: Request) -> Response:
    gw, state = console_state(request)
    lang = lang_of(request)
    registry = gw.vault.registry
    empty = translate(lang, "empty_chart")
    days, providers, contributed = contributions_over_time(gw)
    grades = published(gw, state, "grades")
    names = {c.client_id: c.name for c in gw.control.clients()}
    log = audit_counts(state.settings, names)
    cells = grades.cells if grades is not None else []
    towns = sorted({str(c["group"]["town"]) for c in cells})
    codes = sorted({str(c["group"]["code"]) for c in cells})
    chart = {(str(c["group"]["town"]), str(c["group"]["code"])): float(c["count"] or 0)
             for c in cells}  # fmt: skip
    provider_names = {p: provider_label(lang, registry, p) for p in providers}
    town_names = {t: town_label(registry, t) for t in towns}
    denials = [(reason_label(lang, reason), n)
               for reason, n in sorted(log.denials.items(), key=lambda kv: -kv[1])]  # fmt: skip
    return render(
        request,
        "dashboards.html",
        contributions=stacked(days, providers, contributed, empty=empty, names=provider_names),
        queries=bars(sorted(log.queries.items(), key=lambda kv: -kv[1]), empty=empty),
        denials=bars(denials, empty=empty),
        grades=stacked(towns, codes, chart, width=900, empty=empty, names=town_names),
        suppressed=sum(bool(c["suppressed"]) for c in cells),
        epsilon=PUBLISH_EPSILON,
        spent=round(log.spent, 6),
        budget=DASHBOARD_BUDGET,
        released_at=grades.release["released_at"] if grades is not None else None,
        min_cell=grades.release["min_cell"] if grades is not None else gw.settings.min_cell,
    )


def reason_label(lang: str, reason: str) -> Label:
    """A denial reason in words, with its code beside them (an officer looks the code up)."""
    if has_label("reason", reason):
        return label(lang, "reason", reason), reason
    if reason.startswith("http_") and reason[5:].isdigit():
        return (f"HTTP {reason[5:]}", reason)
    return ("其他原因" if lang == "zh" else "Other reason"), reason
