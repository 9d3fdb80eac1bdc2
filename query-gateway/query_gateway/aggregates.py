"""The aggregate computations' SQL over the vault (true counts, before `privacy.release`).

`AggregateSource` is the narrow interface; `VaultAggregates` runs read-only queries over
the ``src`` views and the credit model's ``derived.scores``. Each query yields cells
``(group, count)`` whose L1 sensitivity is the catalogue's ``sensitivity`` for it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from query_gateway.errors import InvalidRequest


class Query(Protocol):
    def query(
        self, sql: str, params: list[Any] | dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]: ...


class AggregateSource(Protocol):
    def counts(
        self, computation: str, parameters: dict[str, str]
    ) -> list[tuple[dict[str, Any], int]]: ...


class VaultAggregates:
    def __init__(self, vault: Query, negative_tables: list[tuple[str, str, str]], as_of: dt.date):
        """``negative_tables``: (table, negative predicate, conduct-end column) triples."""
        self._vault = vault
        self._negative = negative_tables
        self._as_of = as_of

    def counts(
        self, computation: str, parameters: dict[str, str]
    ) -> list[tuple[dict[str, Any], int]]:
        if computation == "grade_distribution_by_town":
            return self._grades("town_code", "town", "TRUE", [])
        if computation == "grade_distribution_by_village":
            town = parameters.get("town")
            if not town:
                raise InvalidRequest(reason="missing_parameter")
            return self._grades("village_code", "village", "r.town_code = ?", [town])
        if computation == "negative_records_by_town_year":
            return self._negative_by_town_year()
        raise InvalidRequest(reason="unknown_computation")

    def _grades(
        self, column: str, label: str, where: str, params: list[Any]
    ) -> list[tuple[dict[str, Any], int]]:
        rows = self._vault.query(
            f"SELECT r.{column}, s.morality_code, count(*) FROM derived.scores s "
            f"JOIN src.residents r ON r.subject = s.subject "
            f"WHERE s.morality_code IS NOT NULL AND {where} GROUP BY 1, 2 ORDER BY 1, 2",
            params,
        )
        return [({label: g, "code": c}, int(n)) for g, c, n in rows]

    def _negative_by_town_year(self) -> list[tuple[dict[str, Any], int]]:
        year = self._as_of.year
        parts = [
            f'SELECT subject, least(coalesce(year("{end}"), {year}), {year}) AS y '
            f"FROM src.{table} WHERE {predicate}"
            for table, predicate, end in self._negative
        ]
        rows = self._vault.query(
            f"SELECT r.town_code, n.y, count(DISTINCT n.subject) FROM ({' UNION ALL '.join(parts)}) n "
            "JOIN src.residents r ON r.subject = n.subject GROUP BY 1, 2 ORDER BY 1, 2"
        )
        return [({"town": t, "year": int(y)}, int(n)) for t, y, n in rows]


def negative_tables(registry: Any) -> list[tuple[str, str, str]]:
    """The registry's negative tables with a subject column, as `VaultAggregates` wants."""
    return [
        (t.name, t.negative_predicate, t.column(t.conduct_end).stored_name)
        for t in registry.tables
        if t.negative_predicate and t.conduct_end and t.subject_column is not None
    ]
