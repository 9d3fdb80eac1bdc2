"""The auditor's check that every repair and every deletion is in the anchored dispute log.

A granted repair (信用修复) and a deletion by a dispute's answer change what counts about a
person outside any contribution, so each is a ``row_changed`` leaf of the dispute log
(`governance.dispute_log.RowChange`), whose roots are anchored on the ledger. Here the
changes the vault records (``row_changes``, `vault.row_changes`) — or, while the gateway
holds the vault, the control plane's granted repairs and deleting answers — are compared
with the leaves of the *anchored* log: the longest stored prefix whose root is anchored
(an altered, removed or inserted leaf ends it). A change that is recorded but not in the
anchored log, and a leaf that names a change the record does not hold, are both named.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from audit import merkle
from governance.db import session_factory
from governance.dispute_log import CHANGED, KIND, METADATA, RowChange
from governance.dispute_models import Dispute, DisputeEvent, Repair
from ledger import LedgerEvent

__all__ = ["anchored_changes", "recorded_changes", "row_change_findings", "vault_changes"]


def row_change_findings(
    engine: Engine, chain: Iterable[LedgerEvent], recorded: Iterable[RowChange]
) -> tuple[int, list[str]]:
    """(changes recorded, findings): each recorded change not among the anchored log's
    ``row_changed`` leaves (saying so when it is stored but not yet under an anchor), and
    each such leaf that is not a recorded change (compared by what, which row, from which
    day and under which reference)."""
    anchored, stored = _logged(engine, chain)
    logged = {_key(c): c for c in anchored}
    waiting = {_key(c) for c in stored} - logged.keys()
    held = {_key(c): c for c in recorded}
    missing = [f"{held[k].describe()} is "
               + ("in the dispute log but not yet anchored" if k in waiting
                  else "not in the anchored dispute log")
               for k in sorted(held.keys() - logged.keys())]  # fmt: skip
    extra = [f"{logged[k].describe()} is in the anchored dispute log but not recorded"
             for k in sorted(logged.keys() - held.keys())]  # fmt: skip
    return len(held), missing + extra


def _key(c: RowChange) -> tuple[str, ...]:
    return (c.effective.isoformat(), c.reference, c.change, c.provider, c.table, c.contribution,
            str(c.row))  # fmt: skip


def anchored_changes(engine: Engine, chain: Iterable[LedgerEvent]) -> list[RowChange]:
    """The ``row_changed`` leaves of the longest stored prefix of the log that is anchored."""
    return _logged(engine, chain)[0]


def _logged(
    engine: Engine, chain: Iterable[LedgerEvent]
) -> tuple[list[RowChange], list[RowChange]]:
    """The ``row_changed`` leaves of the longest anchored prefix, and of the whole log."""
    entries = _entries(engine)
    anchors = dict(_anchor(e) for e in chain if _is_ours(e))
    leaves = [merkle.leaf_hash(e.encode()) for e in entries]
    size = next((n for n in sorted(anchors, reverse=True)
                 if 0 < n <= len(leaves) and merkle.root(leaves[:n]) == anchors[n]), 0)  # fmt: skip
    docs = [json.loads(e) for e in entries]
    changes = [(i, _change(d)) for i, d in enumerate(docs) if d.get("event") == CHANGED]
    return [c for i, c in changes if i < size], [c for _, c in changes]


def recorded_changes(engine: Engine) -> list[RowChange]:
    """The control plane's granted repairs and deleting answers, as changes."""
    if "repairs" not in inspect(engine).get_table_names():
        return []
    with session_factory(engine)() as s:
        repairs = list(s.scalars(select(Repair).where(Repair.status == "granted")))
        deleted = list(s.scalars(select(Dispute).where(Dispute.outcome == "deleted")))
    out = [RowChange("repaired", r.id, r.provider, r.table_name, r.contribution_id, r.row_no,
                     r.row_digest, r.repaired_on) for r in repairs if r.repaired_on]  # fmt: skip
    out += [RowChange("deleted", d.id, d.provider or "", d.table_name or "",
                      d.contribution_id or "", d.row_no or 0, d.row_digest or "",
                      d.answered_at.date()) for d in deleted if d.answered_at]  # fmt: skip
    return out


def vault_changes(rows: Iterable[tuple[str, str, str, str, str, int, dt.date]]) -> list[RowChange]:
    """The vault's ``row_changes`` (`vault.row_changes`) as changes (no row digest: the
    comparison does not use it)."""
    return [RowChange(c, ref, p, t, cid, n, "", e) for c, ref, p, t, cid, n, e in rows]


def _entries(engine: Engine) -> list[str]:
    if "dispute_events" not in inspect(engine).get_table_names():
        return []
    with session_factory(engine)() as s:
        return list(s.scalars(select(DisputeEvent.entry).order_by(DisputeEvent.seq)))


def _anchor(e: LedgerEvent) -> tuple[int, bytes]:
    size, root = e.args["size"], e.args["root"]
    assert isinstance(size, int) and isinstance(root, bytes)
    return size, root


def _is_ours(e: LedgerEvent) -> bool:
    return (e.name == "Anchored" and e.args.get("kind") == KIND
            and e.args.get("metadataDigest") == METADATA)  # fmt: skip


def _change(d: dict[str, Any]) -> RowChange:
    return RowChange(d["change"], d["reference"], d["provider"], d["table"], d["contribution"],
                     int(d["row"]), d["row_digest"], dt.date.fromisoformat(d["effective"]))  # fmt: skip
