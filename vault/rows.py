"""A subject's stored records, and the changes a row may undergo after its ingest.

A stored row is named by a `RowRef`: its table, its contribution and its leaf index in that
contribution (``row``); its digest is the Merkle leaf the contribution's anchored root pins.
After ingest a row may be

- *repaired* (信用修复, `record_repair`): it stays stored, but stops counting from the repair's
  effective day (`vault.windows`); only a row of a repairable publication window, and not
  before the window's minimum;
- *deleted* (`delete_row`, a dispute answered by deletion): the row is removed and its leaf
  kept in ``purged_leaves``, so its contribution's root still verifies;
- *superseded* by a correcting contribution (`vault.ingest.ingest_file` with
  ``supersedes``): the same, in the correcting contribution's own transaction.

Each change is kept in the provider database's ``row_changes`` (what, which row, from which
day, under which reference: the dispute or repair it answers). Raises `RowNotFound` for a
row that is not stored (or no longer), `RowChangeRefused` with a reason code otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vault import windows
from vault.engine import Connection
from vault.errors import ContributionNotFound, RowChangeRefused, RowNotFound
from vault.registry import Table
from vault.store import Vault, alias

CONTRIBUTION_ID = re.compile(r"^c[0-9a-f]{23}$")
Status = Literal["counts", "lapsed", "repaired", "expired"]


class RowRef(BaseModel):
    """A stored row: ``table``, ``contribution_id`` and the 0-based leaf index ``row``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = Field(pattern=r"^[a-z_]{1,40}$")
    contribution_id: str = Field(pattern=CONTRIBUTION_ID.pattern)
    row: int = Field(ge=0, lt=2**40)


class StoredRecord(BaseModel):
    """One stored row as its subject may see it: the declared columns as text, except the
    pseudonymised identifiers; whether it counts on the as-of day, and why not."""

    model_config = ConfigDict(frozen=True)

    ref: RowRef
    provider: str
    row_digest: str  # hex: the row's Merkle leaf
    subject: str  # the pseudonym: for the gateway's checks, never shown
    key: str  # the record key's value (the penalty decision number); "" when pseudonymised
    values: dict[str, str | None]
    negative: bool
    status: Status
    lapses_on: dt.date | None  # its publication window ends (None: no window, or not yet known)
    repairable_from: dt.date | None  # None: cannot be repaired
    repaired_on: dt.date | None


def _select(vault: Vault, table: Table, provider: str, where: str) -> str:
    a = alias(provider)
    shown = [c for c in table.columns if c.stored_name == c.name]
    texts = ", ".join(f'CAST("{c.name}" AS VARCHAR) AS "v_{c.name}"' for c in shown)
    return (
        f'SELECT contribution_id, row_no, row_digest, "{_subject(table)}" AS subject, {texts}, '
        f"coalesce({table.negative_predicate or 'FALSE'}, FALSE) AS negative, "
        f"{vault.expired_predicate(table)} AS expired, "
        f"{windows.lapses_on_sql(table)} AS lapses_on, "
        f"{windows.repairable_from_sql(table)} AS repairable_from, rp.repaired_on "
        f"FROM {a}.{table.name} LEFT JOIN ({windows.repairs_sql(a, table)}) rp "
        f"USING (contribution_id, row_no) WHERE {where} ORDER BY contribution_id, row_no"
    )


def _subject(table: Table) -> str:
    column = table.subject_column
    assert column is not None, "every source table names its subject"
    return column.stored_name


def _records(vault: Vault, table: Table, provider: str, where: str,
             params: dict[str, Any]) -> list[StoredRecord]:  # fmt: skip
    cur = vault.con.cursor()
    try:
        res = cur.execute(_select(vault, table, provider, where), params)
        names = [d[0] for d in res.description]
        rows = [dict(zip(names, r, strict=True)) for r in res.fetchall()]
    finally:
        cur.close()
    return [_record(vault, table, provider, r) for r in rows]


def _record(vault: Vault, table: Table, provider: str, r: dict[str, Any]) -> StoredRecord:
    values = {k[2:]: v for k, v in r.items() if k.startswith("v_")}
    return StoredRecord(
        ref=RowRef(table=table.name, contribution_id=r["contribution_id"], row=r["row_no"]),
        provider=provider, row_digest=bytes(r["row_digest"]).hex(), subject=r["subject"],
        key=values.get(table.key[0]) or "", values=values, negative=bool(r["negative"]),
        status=_status(vault.as_of, r), lapses_on=r["lapses_on"],
        repairable_from=r["repairable_from"], repaired_on=r["repaired_on"],
    )  # fmt: skip


def _status(as_of: dt.date, r: dict[str, Any]) -> Status:
    if r["expired"]:
        return "expired"
    if r["repaired_on"] is not None and r["repaired_on"] <= as_of:
        return "repaired"
    if r["lapses_on"] is not None and r["lapses_on"] <= as_of:
        return "lapsed"
    return "counts"


def subject_records(vault: Vault, subject: str) -> list[StoredRecord]:
    """Every stored row of the subject with pseudonym ``subject``, table by table in the
    registry's order (a filtered scan of each table: a page's work, not an answer's)."""
    out: list[StoredRecord] = []
    for table in vault.registry.tables:
        for provider in table.providers:
            where = f'"{_subject(table)}" = $s'
            out += _records(vault, table, provider, where, {"s": subject})
    return out


def find_row(vault: Vault, ref: RowRef) -> StoredRecord:
    """The stored row ``ref`` names; `RowNotFound` if it is not (or no longer) stored."""
    record = vault.contribution(ref.contribution_id)
    if record is None or record["table_name"] != ref.table or record["status"] != "accepted":
        raise RowNotFound(ref.contribution_id, ref.row)
    table = vault.registry.table(ref.table)
    where = "contribution_id = $c AND row_no = $r"
    found = _records(vault, table, record["provider"], where,
                     {"c": ref.contribution_id, "r": ref.row})  # fmt: skip
    if not found:
        raise RowNotFound(ref.contribution_id, ref.row)
    return found[0]


def record_repair(
    vault: Vault, ref: RowRef, effective: dt.date, reference: str, recorded_at: str
) -> StoredRecord:
    """Record that row ``ref`` is repaired from ``effective`` on (see the module docstring).
    Refused (`RowChangeRefused`): ``not_repairable`` (no repairable window governs the row),
    ``repair_before_minimum``, ``already_repaired``, ``window_already_ended``."""
    found = find_row(vault, ref)
    if found.repairable_from is None:
        raise RowChangeRefused("not_repairable")
    if effective < found.repairable_from:
        raise RowChangeRefused("repair_before_minimum")
    if found.repaired_on is not None:
        raise RowChangeRefused("already_repaired")
    if found.lapses_on is not None and found.lapses_on <= effective:
        raise RowChangeRefused("window_already_ended")
    cur = vault.con.cursor()
    try:
        record_change(cur, found.provider, ref, "repaired", effective, reference, None, recorded_at)
    finally:
        cur.close()
    return find_row(vault, ref)


def delete_row(vault: Vault, ref: RowRef, on: dt.date, reference: str, recorded_at: str) -> None:
    """Delete row ``ref`` (its leaf kept, so its contribution's root still verifies) and
    record the deletion, in one transaction; `RowNotFound` if it is not stored."""
    found = find_row(vault, ref)
    cur = vault.con.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            remove_row(cur, found.provider, ref)
            record_change(cur, found.provider, ref, "deleted", on, reference, None, recorded_at)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()


def remove_row(con: Connection, provider: str, ref: RowRef) -> None:
    """Inside the caller's transaction: move the row's leaf to ``purged_leaves`` and delete
    the row; `RowNotFound` if no row was there to remove."""
    a, where = alias(provider), "contribution_id = ? AND row_no = ?"
    params = [ref.contribution_id, ref.row]
    con.execute(
        f"INSERT INTO {a}.purged_leaves SELECT contribution_id, row_no, row_digest "
        f"FROM {a}.{ref.table} WHERE {where}",
        params,
    )
    deleted = con.execute(f"DELETE FROM {a}.{ref.table} WHERE {where}", params).fetchone()
    if deleted is None or deleted[0] != 1:
        raise RowNotFound(ref.contribution_id, ref.row)


def record_change(
    con: Connection, provider: str, ref: RowRef, change: str, effective: dt.date,
    reference: str, by_contribution: str | None, recorded_at: str,
) -> None:  # fmt: skip
    """Append one ``row_changes`` record (inside the caller's transaction, if any)."""
    con.execute(
        f"INSERT INTO {alias(provider)}.row_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [ref.table, ref.contribution_id, ref.row, change, effective, reference, by_contribution,
         recorded_at],
    )  # fmt: skip


def row_changes(
    vault: Vault, kinds: tuple[str, ...] = ("repaired", "deleted")
) -> list[tuple[str, str, str, str, str, int, dt.date]]:
    """Every recorded change of ``kinds``, as (change, reference, provider, table,
    contribution, leaf index, effective day), provider by provider (an auditor compares them
    with the anchored dispute log: `governance.row_change_audit`)."""
    marks = ", ".join("?" for _ in kinds)
    out: list[tuple[str, str, str, str, str, int, dt.date]] = []
    for p in vault.registry.providers:
        rows = vault.query(
            f"SELECT change, reference, table_name, contribution_id, row_no, effective FROM "
            f"{alias(p.id)}.row_changes WHERE change IN ({marks}) ORDER BY recorded_at",
            list(kinds),
        )
        out += [(c, ref, p.id, t, cid, int(n), e) for c, ref, t, cid, n, e in rows]
    return out


def superseding(vault: Vault, ref: RowRef) -> str | None:
    """The contribution that superseded row ``ref`` (a dispute's correction), if any."""
    record = vault.contribution(ref.contribution_id)
    if record is None:
        raise ContributionNotFound(ref.contribution_id)
    rows = vault.query(
        f"SELECT by_contribution FROM {alias(record['provider'])}.row_changes WHERE "
        "table_name = ? AND contribution_id = ? AND row_no = ? AND change = 'superseded'",
        [ref.table, ref.contribution_id, ref.row],
    )
    return str(rows[0][0]) if rows else None
