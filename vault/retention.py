"""The 5-year rule: negative rows past retention are excluded everywhere, then purged.

Exclusion happens in the ``src`` views (`Vault.expired_predicate`), so no query ever sees an
expired row. `purge_expired` then deletes them physically, one transaction per provider
database, and keeps a purge record per (table, contribution): what, when, how many. The
Merkle leaves of purged rows are kept, so every contribution's root still verifies and the
remaining rows keep their inclusion proofs.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from vault.store import Vault, alias


class PurgeRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    purged_at: str
    provider: str
    table: str
    contribution_id: str
    rows: int
    cutoff: dt.date


def expired_counts(vault: Vault) -> list[tuple[str, str, str, int]]:
    """(provider, table, contribution_id, rows) of stored rows past the retention limit."""
    out: list[tuple[str, str, str, int]] = []
    for t in vault.registry.tables:
        if not t.is_negative_information:
            continue
        for p in t.providers:
            rows = vault.query(
                f"SELECT contribution_id, count(*) FROM {alias(p)}.{t.name} "
                f"WHERE {vault.expired_predicate(t)} GROUP BY 1 ORDER BY 1"
            )
            out.extend((p, t.name, cid, n) for cid, n in rows)
    return out


def purge_expired(vault: Vault) -> list[PurgeRecord]:
    """Delete every expired negative row; return (and store) one record per contribution."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    records = [
        PurgeRecord(
            purged_at=now,
            provider=p,
            table=t,
            contribution_id=c,
            rows=n,
            cutoff=vault.retention_cutoff,
        )
        for p, t, c, n in expired_counts(vault)
    ]
    for provider in sorted({r.provider for r in records}):
        _purge_provider(vault, provider, [r for r in records if r.provider == provider])
    return records


def _purge_provider(vault: Vault, provider: str, records: list[PurgeRecord]) -> None:
    a = alias(provider)
    vault.con.execute("BEGIN TRANSACTION")
    try:
        for t in sorted({r.table for r in records}):
            expired = vault.expired_predicate(vault.registry.table(t))
            vault.con.execute(
                f"INSERT INTO {a}.purged_leaves SELECT contribution_id, row_no, "
                f"row_digest FROM {a}.{t} WHERE {expired}"
            )
            vault.con.execute(f"DELETE FROM {a}.{t} WHERE {expired}")
        for r in records:
            vault.con.execute(
                f"INSERT INTO {a}.purges VALUES (?, ?, ?, ?, ?)",
                [r.purged_at, r.table, r.contribution_id, r.rows, r.cutoff],
            )
        vault.con.execute("COMMIT")
    except BaseException:
        vault.con.execute("ROLLBACK")
        raise
    vault.con.execute("CHECKPOINT")


def purge_history(vault: Vault) -> list[PurgeRecord]:
    out: list[PurgeRecord] = []
    for p in vault.registry.providers:
        for purged_at, table, cid, rows, cutoff in vault.query(
            f"SELECT * FROM {alias(p.id)}.purges ORDER BY purged_at"
        ):
            out.append(
                PurgeRecord(
                    purged_at=purged_at,
                    provider=p.id,
                    table=table,
                    contribution_id=cid,
                    rows=rows,
                    cutoff=cutoff,
                )
            )
    return out
