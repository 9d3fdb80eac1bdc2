"""Staging: read a contribution file into a temporary all-text table, numbering its rows.

The staged table ``<run>_stage`` has ``__row`` (the 1-based data row; a CSV's header is line 1,
so row r is line r + 1) and one VARCHAR column per header column. ``<run>_bad`` lists the rows
that could not be parsed at all (wrong number of fields, invalid UTF-8, a broken quote) with
DuckDB's error type, never the line's content. DuckDB's CSV reader returns rows in file order
(insertion order is preserved) but not their line numbers, so parsed rows get the row numbers
that remain once the rejected ones are taken out.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vault.engine import DuckDBError

if TYPE_CHECKING:
    from vault.ingest import _Run


@dataclass(frozen=True)
class Header:
    columns: list[str]
    refusal: tuple[str, str | None] | None = None


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    with path.open("rb") as f:
        f.seek(max(path.stat().st_size - 1, 0))
        last = f.read(1)
    return lines + (1 if last not in (b"\n", b"") else 0)


def _empty_stage(run: _Run) -> None:
    run.sql("CREATE TEMP TABLE {p}_stage (__row BIGINT)")
    run.sql("CREATE TEMP TABLE {p}_bad (__row BIGINT, error_type VARCHAR)")


def _unreadable(run: _Run, path: Path, reason: str) -> Header:
    """Stage nothing, but count the file's rows as submitted-and-rejected."""
    _empty_stage(run)
    rows = max(_count_lines(path) - 1, 0)
    run.sql(f"INSERT INTO {{p}}_bad SELECT r, 'unreadable' FROM range(1, {rows + 1}) t(r)")
    return Header([], (reason, None))


def _read_header(path: Path) -> list[str] | str:
    """The header's column names, or why the header cannot be read."""
    with path.open("rb") as f:
        first = f.readline(1 << 16)
    if not first.strip():
        return "the file is empty or has no header row"
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "the header is not UTF-8 text (re-export the file as UTF-8)"
    return next(csv.reader([text.rstrip("\r\n")]))


def stage_csv(run: _Run, path: Path) -> Header:
    header = _read_header(path)
    if isinstance(header, str):
        return _unreadable(run, path, header)
    if len(set(header)) != len(header) or any('"' in c for c in header):
        return _unreadable(run, path, "the header repeats a column or quotes a name oddly")
    columns = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in header)
    names = ", ".join(f'"{c}"' for c in header)
    run.sql(
        "CREATE TEMP TABLE {p}_raw AS SELECT * FROM read_csv(?, "
        f"columns = {{{columns}}}, header = true, auto_detect = false, delim = ',', quote = '\"', "
        "escape = '\"', strict_mode = true, store_rejects = true, "
        "rejects_scan = '{p}_rej_scan', rejects_table = '{p}_rej_err')",
        [str(path)],
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
        return Header(header)
    total = run.one("SELECT count(*) FROM {p}_raw") + bad
    run.sql(
        f"CREATE TEMP TABLE {{p}}_stage AS SELECT g.__row, {names} FROM "
        "(SELECT *, rowid AS __k FROM {p}_raw) s JOIN "
        f"(SELECT r AS __row, row_number() OVER (ORDER BY r) - 1 AS __k FROM range(1, {total + 1}) t(r) "
        "WHERE r NOT IN (SELECT __row FROM {p}_bad)) g USING (__k)"
    )
    run.sql("DROP TABLE {p}_raw")
    return Header(header)


def stage_parquet(run: _Run, path: Path) -> Header:
    try:
        described = run.sql("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except DuckDBError:
        return _unreadable(run, path, "not a readable Parquet file")
    header = [str(row[0]) for row in described]
    casts = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in header if '"' not in c)
    run.sql(
        f"CREATE TEMP TABLE {{p}}_stage AS SELECT file_row_number + 1 AS __row, {casts} "
        "FROM read_parquet(?, file_row_number = true)",
        [str(path)],
    )
    run.sql("CREATE TEMP TABLE {p}_bad (__row BIGINT, error_type VARCHAR)")
    return Header(header)


def stage(run: _Run, path: Path, fmt: Literal["csv", "parquet"]) -> Header:
    """Stage ``path``; the returned header names its columns or says why it was refused."""
    if fmt == "csv":
        return stage_csv(run, path)
    return stage_parquet(run, path)
