"""Which of a resident's records a score rests on, decided inside the vault.

A record is *used* when it counts on the vault's as-of day (its ``src`` view: within
retention, its publication window open, not repaired) and some feature or veto of the model
selects it (`credit_model.counted_predicate`). A statement on such a record travels with the
score (征信业管理条例 第十六条, issue 18); the resident's report marks each record used or not.
"""

from __future__ import annotations

from collections.abc import Collection

from credit_model import ModelSpec, counted_predicate, load_spec
from vault import Vault

RowKey = tuple[str, str, int]  # table, contribution id, leaf index


def model_spec(vault: Vault) -> ModelSpec:
    """The model the gateway scores with (the shipped spec, checked against the registry)."""
    return load_spec(registry=vault.registry)


def used_rows(
    vault: Vault, spec: ModelSpec, subject: str, tables: Collection[str] | None = None
) -> set[RowKey]:
    """The rows of ``subject`` (a pseudonym) in ``tables`` (default: every table the model
    reads) that the model counts on the vault's as-of day: one filtered scan per table."""
    out: set[RowKey] = set()
    for name in spec.tables() if tables is None else tables:
        table = vault.registry.table(name)
        predicate = counted_predicate(spec, table, vault.as_of)
        who = table.subject_column
        if predicate is None or who is None:
            continue
        rows = vault.query(
            f"SELECT contribution_id, row_no FROM src.{table.name} "
            f'WHERE "{who.stored_name}" = ? AND ({predicate})',
            [subject],
        )
        out |= {(table.name, str(c), int(r)) for c, r in rows}
    return out
