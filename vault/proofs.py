"""Proof that a stored row belongs to its contribution, from the vault alone.

The row's canonical digest is recomputed from its stored values and compared with its
Merkle leaf; the leaf's RFC 6962 inclusion proof is then checked against the contribution's
root (the root a provider holds on its receipt, and the ledger holds as an anchor).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from audit import merkle
from vault.digest import row_digest
from vault.errors import ContributionNotFound, RowNotFound, VaultError
from vault.store import Vault, alias


class LeafMismatch(VaultError):
    """The stored row no longer hashes to its recorded leaf: it was altered."""

    def __init__(self, contribution_id: str, row: int) -> None:
        super().__init__(f"row {row} of contribution {contribution_id} does not match its leaf")
        self.contribution_id = contribution_id
        self.row = row


class RowProof(BaseModel):
    model_config = ConfigDict(frozen=True)

    contribution_id: str
    row: int
    size: int
    leaf_digest: str
    row_present: bool  # False once the row has been purged under the retention rule
    proof: list[str]
    merkle_root: str

    def verify(self) -> None:
        """Raise `audit.errors.ProofError` unless the leaf is included under the root.

        A row digest is already the RFC 6962 leaf hash of the row's encoding (`vault.digest`).
        """
        merkle.verify_inclusion(
            bytes.fromhex(self.leaf_digest),
            self.row,
            self.size,
            [bytes.fromhex(h) for h in self.proof],
            bytes.fromhex(self.merkle_root),
        )


def prove_row(vault: Vault, contribution_id: str, row: int) -> RowProof:
    """The inclusion proof of accepted row ``row`` (0-based leaf index) of a contribution."""
    record = vault.contribution(contribution_id)
    if record is None:
        raise ContributionNotFound(contribution_id)
    if not 0 <= row < record["accepted"]:
        raise RowNotFound(contribution_id, row)
    a, table = alias(record["provider"]), vault.registry.table(record["table_name"])
    leaves = _leaves(vault, a, table.name, contribution_id)
    cols = ", ".join(f'"{c.stored_name}"' for c in table.columns)
    stored = vault.query(
        f"SELECT {cols} FROM {a}.{table.name} WHERE contribution_id = ? AND row_no = ?",
        [contribution_id, row],
    )
    if stored and row_digest(table, stored[0]) != leaves[row]:
        raise LeafMismatch(contribution_id, row)
    return RowProof(
        contribution_id=contribution_id,
        row=row,
        size=len(leaves),
        leaf_digest=leaves[row].hex(),
        row_present=bool(stored),
        proof=[h.hex() for h in merkle.inclusion_proof(leaves, row)],
        merkle_root=record["merkle_root"],
    )


def _leaves(vault: Vault, a: str, table: str, contribution_id: str) -> list[bytes]:
    """Every leaf of a contribution in order: stored rows' digests and purged rows' leaves."""
    rows = vault.query(
        f"SELECT row_no, row_digest FROM {a}.{table} WHERE contribution_id = $c UNION ALL "
        f"SELECT leaf_index, digest FROM {a}.purged_leaves WHERE contribution_id = $c ORDER BY 1",
        {"c": contribution_id},
    )
    return [bytes(d) for _, d in rows]
