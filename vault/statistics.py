"""Counts the aggregate computations release (true counts, before differential privacy).

Read-only queries over the ``src`` views (so the 5-year rule applies) and the credit
model's ``derived.scores``. Each yields one cell ``(group, count)`` for *every* group of its
declared domain, in a fixed order, a group nobody falls in counting 0: which cells exist
never depends on the data counted, so a missing cell cannot reveal an empty group. The
domains: towns are the registry's (``T01`` … one per declared town), villages those of the
town in the residents register, years the retention window, codes what the caller declares
(the catalogue). A count outside the domain raises `CellOutsideDomain` (never dropped).
The catalogue declares each computation's L1 sensitivity; the governance core noises and
suppresses the cells before release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vault.errors import VaultError
from vault.registry import Registry
from vault.store import Vault

__all__ = ["CellOutsideDomain", "grade_counts", "negative_counts_by_town_year", "town_codes",
           "village_codes", "window_years"]  # fmt: skip

Cells = list[tuple[dict[str, Any], int]]


class CellOutsideDomain(VaultError):
    """The data holds a group the declared domain lacks (a code the catalogue does not list,
    a town beyond the registry's): the release is refused rather than the count dropped."""

    def __init__(self, dimension: str) -> None:
        super().__init__(f"a count falls outside the declared domain of {dimension!r}")
        self.dimension = dimension


def town_codes(registry: Registry) -> list[str]:
    """``T01`` … ``Tnn``: one code per town the registry declares, in its order."""
    return [f"T{i:02d}" for i in range(1, len(registry.towns) + 1)]


def village_codes(vault: Vault, town: str) -> list[str]:
    """The village codes of ``town`` in the residents register (public administrative codes)."""
    rows = vault.query(
        "SELECT DISTINCT village_code FROM src.residents WHERE town_code = ? ORDER BY 1", [town]
    )
    return [str(v) for (v,) in rows]


def window_years(vault: Vault) -> list[int]:
    """The calendar years a negative record's conduct can have ended in and still be used."""
    return list(range(vault.retention_cutoff.year, vault.as_of.year + 1))


def grade_counts(vault: Vault, codes: Sequence[str], *, town: str | None = None) -> Cells:
    """Residents by morality code, for every (town, code) (``town`` None) or every (village
    of ``town``, code)."""
    column, label = ("town_code", "town") if town is None else ("village_code", "village")
    where, params = ("TRUE", []) if town is None else ("r.town_code = ?", [town])
    rows = vault.query(
        f"SELECT r.{column}, s.morality_code, count(*) FROM derived.scores s "
        f"JOIN src.residents r ON r.subject = s.subject "
        f"WHERE s.morality_code IS NOT NULL AND {where} GROUP BY 1, 2",
        params,
    )
    groups = town_codes(vault.registry) if town is None else village_codes(vault, town)
    return _every_cell((label, groups), ("code", list(codes)), rows)


def negative_counts_by_town_year(vault: Vault) -> Cells:
    """Distinct people with a negative record, for every town and year of the retention window
    (the year the conduct ended; ongoing conduct counts in the as-of year)."""
    year = vault.as_of.year
    parts = [
        f'SELECT subject, least(coalesce(year("{end}"), {year}), {year}) AS y '
        f"FROM src.{table} WHERE {predicate}"
        for table, predicate, end in _negative_tables(vault)
    ]
    rows = vault.query(
        f"SELECT r.town_code, n.y, count(DISTINCT n.subject) FROM ({' UNION ALL '.join(parts)}) n "
        "JOIN src.residents r ON r.subject = n.subject GROUP BY 1, 2"
    )
    years = window_years(vault)
    return _every_cell(("town", town_codes(vault.registry)), ("year", years), rows)


def _every_cell(
    first: tuple[str, Sequence[Any]], second: tuple[str, Sequence[Any]], rows: list[Any]
) -> Cells:
    """One cell per pair of the two domains, in order, with the count ``rows`` hold or 0."""
    found = {(a, b): int(n) for a, b, n in rows}
    cells = [
        ({first[0]: a, second[0]: b}, found.pop((a, b), 0)) for a in first[1] for b in second[1]
    ]
    if found:
        a, _ = next(iter(found))
        raise CellOutsideDomain(first[0] if a not in first[1] else second[0])
    return cells


def _negative_tables(vault: Vault) -> list[tuple[str, str, str]]:
    """(table, negative predicate, conduct-end column) of the registry's negative tables."""
    return [
        (t.name, t.negative_predicate, t.column(t.conduct_end).stored_name)
        for t in vault.registry.tables
        if t.negative_predicate and t.conduct_end and t.subject_column is not None
    ]
