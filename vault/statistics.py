"""Counts the aggregate computations release (true counts, before differential privacy).

Read-only queries over the ``src`` views (so the 5-year rule applies) and the credit
model's ``derived.scores``. Each yields cells ``(group, count)``; the catalogue declares
their L1 sensitivity, and the governance core noises or suppresses them before release.
"""

from __future__ import annotations

from typing import Any

from vault.store import Vault

__all__ = ["grade_counts", "negative_counts_by_town_year"]

Cells = list[tuple[dict[str, Any], int]]


def grade_counts(vault: Vault, *, town: str | None = None) -> Cells:
    """Residents by morality code, per town (``town`` None) or per village of ``town``."""
    column, label = ("town_code", "town") if town is None else ("village_code", "village")
    where, params = ("TRUE", []) if town is None else ("r.town_code = ?", [town])
    rows = vault.query(
        f"SELECT r.{column}, s.morality_code, count(*) FROM derived.scores s "
        f"JOIN src.residents r ON r.subject = s.subject "
        f"WHERE s.morality_code IS NOT NULL AND {where} GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )
    return [({label: g, "code": c}, int(n)) for g, c, n in rows]


def negative_counts_by_town_year(vault: Vault) -> Cells:
    """Distinct people with a negative record per town and year the conduct ended (ongoing
    conduct counts in the as-of year)."""
    year = vault.as_of.year
    parts = [
        f'SELECT subject, least(coalesce(year("{end}"), {year}), {year}) AS y '
        f"FROM src.{table} WHERE {predicate}"
        for table, predicate, end in _negative_tables(vault)
    ]
    rows = vault.query(
        f"SELECT r.town_code, n.y, count(DISTINCT n.subject) FROM ({' UNION ALL '.join(parts)}) n "
        "JOIN src.residents r ON r.subject = n.subject GROUP BY 1, 2 ORDER BY 1, 2"
    )
    return [({"town": t, "year": int(y)}, int(n)) for t, y, n in rows]


def _negative_tables(vault: Vault) -> list[tuple[str, str, str]]:
    """(table, negative predicate, conduct-end column) of the registry's negative tables."""
    return [
        (t.name, t.negative_predicate, t.column(t.conduct_end).stored_name)
        for t in vault.registry.tables
        if t.negative_predicate and t.conduct_end and t.subject_column is not None
    ]
