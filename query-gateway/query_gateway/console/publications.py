"""The dashboards' published statistics: released once, kept on disk, paid from a recorded budget.

A publication is one differentially private release of a catalogued aggregate for the
officers' dashboards (`governance.release`: every declared cell noised at ε =
`PUBLISH_EPSILON`, small *noisy* counts suppressed). It is shown again on every view and
after every restart, so neither can average the noise away. A new one is made only when none
is kept, or when the data or the computation's definition changed since the kept one, and
only while the dashboards' budget `DASHBOARD_BUDGET` can pay for it; otherwise the kept one
(or nothing) is shown.

Every publication is recorded before it is kept: an audit entry (action `PUBLISH_ACTION`,
actor and role ``console``, the computation, parameters ``{"epsilon", "min_cell"}``, and the
SHA-256 of the release document as ``result_digest``), then the file
``$DEXIN_HOME/console/published/<name>.json``, written atomically. The budget spent is the sum
of the ε of those entries in the audit log — append-only and witnessed — so deleting the
file does not give any budget back, and an auditor can recount it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from audit import AuditEntry, LogReader, decode_entry, write_atomic
from governance import AuditAppendError, AuditUnavailable, make_entry, new_id, release
from query_gateway.console.state import ConsoleState
from query_gateway.gateway import Services

__all__ = ["DASHBOARD_BUDGET", "PUBLISH_ACTION", "PUBLISH_EPSILON", "Publication",
           "publication_epsilon", "published", "spent_on_dashboards"]  # fmt: skip

PUBLISH_EPSILON = 1.0
DASHBOARD_BUDGET = 3.0  # every dashboard publication of this data directory, together
PUBLISH_ACTION = "PUBLISH /console/dashboards"
_SOURCES = {"grades": "grade_distribution_by_town"}  # publication name -> computation


@dataclass(frozen=True)
class Publication:
    """A kept release: the release document (its SHA-256 over RFC 8785 is the audit entry's
    ``result_digest``) and the position of that entry."""

    release: dict[str, Any]
    audit_index: int

    @property
    def cells(self) -> list[dict[str, Any]]:
        return list(self.release["cells"])


def published(gw: Services, state: ConsoleState, name: str) -> Publication | None:
    """The publication ``name`` to show: the kept one if current, else a new one if the budget
    pays for it, else the kept one (stale) or None. Raises `AuditUnavailable` if a new one
    could not be recorded (then nothing new is kept)."""
    computation = gw.catalogue.get(_SOURCES[name])
    version = data_version(gw)
    with state.lock:
        kept = state.published.get(name) or _load(_path(state, name))
        if kept is not None and _current(kept, computation.hash, version):
            state.published[name] = kept
            return kept
        spent = spent_on_dashboards(state.settings.audit_dir)
        if spent + PUBLISH_EPSILON > DASHBOARD_BUDGET + 1e-9:
            return kept
        made = _publish(gw, state, name, version)
        state.published[name] = made
        return made


def data_version(gw: Services) -> str:
    """What a release depends on besides the catalogue: the accepted contributions."""
    records = gw.vault.contributions()  # its own cursor: a reader never waits on an ingest
    accepted = sorted(str(r["contribution_id"]) for r in records if r["status"] == "accepted")
    return hashlib.sha256("\n".join(accepted).encode()).hexdigest()


def spent_on_dashboards(audit_dir: Path) -> float:
    """The ε of every publication the audit log records (its durable entries)."""
    if not (audit_dir / "entries.log").exists():
        return 0.0
    total = 0.0
    marker = PUBLISH_ACTION.encode()
    with LogReader(audit_dir) as reader:
        for raw in reader.entries():
            if marker in raw:
                _, entry = decode_entry(raw)
                total += publication_epsilon(entry)
    return total


def publication_epsilon(entry: AuditEntry) -> float:
    """The ε an audit entry records as spent on a dashboard publication (0 for any other)."""
    if entry.action != PUBLISH_ACTION or entry.role != "console":
        return 0.0
    try:
        epsilon = float((entry.parameters_value or {}).get("epsilon", "inf"))
    except ValueError:
        return math.inf  # unreadable: counted as the whole budget (fail closed)
    return epsilon if math.isfinite(epsilon) and epsilon >= 0 else math.inf


def _current(kept: Publication, computation_hash: str, version: str) -> bool:
    doc = kept.release
    return bool(doc["computation_hash"] == computation_hash and doc["data_version"] == version)


def _publish(gw: Services, state: ConsoleState, name: str, version: str) -> Publication:
    """Release, record the spend in the audit log, then keep the file (in that order)."""
    computation = gw.catalogue.get(_SOURCES[name])
    counts = gw.aggregates.counts(computation, {})  # a committed snapshot, no ingest lock
    cells = release(counts, epsilon=PUBLISH_EPSILON, sensitivity=computation.sensitivity or 1,
                    min_cell=gw.settings.min_cell)  # fmt: skip
    doc = {
        "computation": computation.id,
        "computation_hash": computation.hash,
        "data_version": version,
        "epsilon": PUBLISH_EPSILON,
        "min_cell": gw.settings.min_cell,
        "released_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cells": [{"group": c.group, "count": c.count, "suppressed": c.suppressed} for c in cells],
    }
    index = _record(gw, computation.id, doc)
    path = _path(state, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"release": doc, "audit_index": index}).encode(), mode=0o644)
    return Publication(doc, index)


def _record(gw: Services, computation: str, doc: dict[str, Any]) -> int:
    context = {"actor": "console", "role": "console", "computation": computation,
               "purpose": "statistics",
               "parameters": {"epsilon": str(doc["epsilon"]), "min_cell": str(doc["min_cell"])}}  # fmt: skip
    digest = hashlib.sha256(rfc8785.dumps(doc)).hexdigest()
    try:
        entry = make_entry(context, action=PUBLISH_ACTION, decision="allow",
                           request_id=new_id("pub"), result_digest=digest)  # fmt: skip
        return gw.audit.append(entry).index
    except AuditAppendError:
        raise AuditUnavailable() from None


def _load(path: Path) -> Publication | None:
    """The kept publication, or None if there is none (or it cannot be read: made anew)."""
    try:
        kept = json.loads(path.read_bytes())
        return Publication(dict(kept["release"]), int(kept["audit_index"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _path(state: ConsoleState, name: str) -> Path:
    return state.settings.home / "console" / "published" / f"{name}.json"
