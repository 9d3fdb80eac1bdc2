"""Staging: read a contribution into a temporary all-text table, numbering its rows.

The staged table ``<run>_stage`` has ``__row`` (the 1-based data row; a CSV's header is line 1,
so row r is line r + 1) and one VARCHAR column per header column. ``<run>_bad`` lists the rows
that could not be parsed at all (wrong number of fields, invalid UTF-8, a broken quote) with
DuckDB's error type, never the line's content. DuckDB's CSV reader returns rows in file order
(insertion order is preserved) but not their line numbers, so parsed rows get the row numbers
that remain once the rejected ones are taken out.

Staging starts only once `vault.probe` has read the header (or the Parquet footer), checked
it against the limits and the registry: ``header`` is what it read, ``location`` is where
DuckDB reads the rows (`vault.source`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from vault.ingest import _Run


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def stage_csv(run: _Run, location: str, header: list[str]) -> None:
    columns = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in header)
    names = ", ".join(f'"{c}"' for c in header)
    run.sql(
        "CREATE TEMP TABLE {p}_raw AS SELECT * FROM read_csv(?, "
        f"columns = {{{columns}}}, header = true, auto_detect = false, delim = ',', quote = '\"', "
        "escape = '\"', strict_mode = true, store_rejects = true, "
        "rejects_scan = '{p}_rej_scan', rejects_table = '{p}_rej_err')",
        [location],
    )
    run.sql(
        "CREATE TEMP TABLE {p}_bad AS SELECT line - 1 AS __row, "
        "lower(min(error_type)) AS error_type FROM {p}_rej_err GROUP BY line"
    )
    bad = run.one("SELECT count(*) FROM {p}_bad")
    if bad == 0:  # the common case: row r is the r-th row read
        run.sql(
            f"CREATE TEMP VIEW {{p}}_stage AS SELECT rowid + 1 AS __row, {names} FROM {{p}}_raw"
        )
        return
    total = run.one("SELECT count(*) FROM {p}_raw") + bad
    run.sql(
        f"CREATE TEMP TABLE {{p}}_stage AS SELECT g.__row, {names} FROM "
        "(SELECT *, rowid AS __k FROM {p}_raw) s JOIN "
        f"(SELECT r AS __row, row_number() OVER (ORDER BY r) - 1 AS __k FROM range(1, {total + 1}) t(r) "
        "WHERE r NOT IN (SELECT __row FROM {p}_bad)) g USING (__k)"
    )
    run.sql("DROP TABLE {p}_raw")


def stage_parquet(run: _Run, location: str, header: list[str]) -> None:
    casts = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in header)
    run.sql(
        f"CREATE TEMP TABLE {{p}}_stage AS SELECT file_row_number + 1 AS __row, {casts} "
        "FROM read_parquet(?, file_row_number = true)",
        [location],
    )
    run.sql("CREATE TEMP TABLE {p}_bad (__row BIGINT, error_type VARCHAR)")


def stage(run: _Run, location: str, fmt: Literal["csv", "parquet"], header: list[str]) -> None:
    """Stage the rows at ``location``; ``header`` has passed `vault.probe` and the registry."""
    if fmt == "csv":
        stage_csv(run, location, header)
    else:
        stage_parquet(run, location, header)
