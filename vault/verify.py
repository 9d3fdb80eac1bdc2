"""Recompute a contribution's Merkle root from what the vault stores, naming what differs.

Every stored row's digest is recomputed from its values (not trusted from the stored
digest); purged rows contribute their kept leaves. A row whose values no longer match its
recorded digest is *altered*; a leaf index with neither a row nor a purged leaf is *missing*.
The recomputed root must equal the root on the receipt (and, checked by the application,
the root anchored on the ledger).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from audit import merkle
from vault.digest import sql_row_digest
from vault.errors import ContributionNotFound
from vault.store import Vault, alias

_SHOWN = 20  # rows named per kind of problem; the counts are always complete


class ContributionCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    contribution_id: str
    recorded_root: str
    recomputed_root: str
    altered_rows: list[int]
    altered_count: int
    missing_rows: list[int]
    missing_count: int

    def problems(self) -> Iterator[str]:
        if self.altered_count:
            yield f"{self.altered_count} altered row(s), first {self.altered_rows}"
        if self.missing_count:
            yield f"{self.missing_count} missing row(s), first {self.missing_rows}"
        if self.recomputed_root != self.recorded_root:
            yield f"root recomputed {self.recomputed_root} differs from recorded {self.recorded_root}"


def check_contribution(vault: Vault, contribution_id: str) -> ContributionCheck:
    record = vault.contribution(contribution_id)
    if record is None:
        raise ContributionNotFound(contribution_id)
    table = vault.registry.table(record["table_name"])
    a, t = alias(record["provider"]), f"{alias(record['provider'])}.{table.name}"
    params = {"c": contribution_id}
    altered = vault.query(
        f"SELECT row_no FROM {t} WHERE contribution_id = $c AND row_digest <> "
        f"{sql_row_digest(table)} ORDER BY row_no",
        params,
    )
    missing = vault.query(
        f"SELECT r FROM range({int(record['accepted'])}) t(r) WHERE r NOT IN "
        f"(SELECT row_no FROM {t} WHERE contribution_id = $c) AND r NOT IN "
        f"(SELECT leaf_index FROM {a}.purged_leaves WHERE contribution_id = $c) ORDER BY r",
        params,
    )
    leaves = vault.con.execute(
        f"SELECT row_no AS i, {sql_row_digest(table)} AS d FROM {t} WHERE contribution_id = $c "
        f"UNION ALL SELECT leaf_index, digest FROM {a}.purged_leaves WHERE contribution_id = $c",
        params,
    ).to_arrow_table()
    hashes = leaves.sort_by("i").column("d").to_pylist()
    return ContributionCheck(
        contribution_id=contribution_id,
        recorded_root=record["merkle_root"],
        recomputed_root=merkle.root(hashes).hex(),
        altered_rows=[r for (r,) in altered[:_SHOWN]],
        altered_count=len(altered),
        missing_rows=[r for (r,) in missing[:_SHOWN]],
        missing_count=len(missing),
    )
