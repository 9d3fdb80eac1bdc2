"""What a contribution is before any row is staged: its columns, its size, the limits.

A CSV's header is its first line and its rows are counted as lines (a quoted field holding
a line break counts twice: the count only ever errs towards refusing); its expanded size is
its size. A Parquet file's columns, types, row count and uncompressed size come from its
footer, read alone (`pyarrow.parquet.ParquetFile` reads no page). Then, for Parquet only,
`check_decoded` counts the rows and the decoded bytes of every text column in one streaming
pass that stores nothing: the footer is the writer's word, and a dictionary- or
run-length-encoded column expands to far more than its pages hold.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from vault.engine import Connection, DuckDBError
from vault.limits import IngestLimits
from vault.source import ContributionSource

FIXED_WIDTH = 8  # bytes counted per non-text value (dates, numbers, booleans)
Refusal = tuple[str, str | None]


@dataclass(frozen=True)
class Probe:
    """``columns``: the header; ``rows``: the data rows it declares; ``text``: the Parquet
    columns whose decoded size `check_decoded` counts; ``refusal``: why the header or
    footer alone refuses the contribution (then ``columns`` may be empty)."""

    columns: list[str]
    rows: int
    text: tuple[tuple[str, bool], ...] = ()  # (column, is binary)
    refusal: Refusal | None = None


def probe(source: ContributionSource, limits: IngestLimits) -> Probe:
    """The header or footer of ``source`` checked against ``limits``; raises
    `vault.limits.ContributionTooLarge` before any row is read."""
    if source.fmt == "csv":
        return probe_csv(source, limits)
    return probe_parquet(source, limits)


def probe_csv(source: ContributionSource, limits: IngestLimits) -> Probe:
    with source.open() as f:
        header = _read_header(f)
        f.seek(0)
        rows = max(_count_lines(f) - 1, 0)
    limits.check(rows, len(header) if isinstance(header, list) else 0, source.size)
    if isinstance(header, str):
        return Probe([], rows, refusal=(header, None))
    if len(set(header)) != len(header) or any('"' in c for c in header):
        return Probe([], rows, refusal=("the header repeats a column or quotes a name oddly", None))
    return Probe(header, rows)


def probe_parquet(source: ContributionSource, limits: IngestLimits) -> Probe:
    try:
        with source.open() as f:
            metadata = pq.ParquetFile(f).metadata
            schema = metadata.schema.to_arrow_schema()
    except (pa.ArrowException, OSError, ValueError):
        return Probe([], 0, refusal=("not a readable Parquet file", None))
    groups = (metadata.row_group(i) for i in range(metadata.num_row_groups))
    expanded = sum(g.total_byte_size for g in groups)
    limits.check(rows=metadata.num_rows, columns=metadata.num_columns, expanded=expanded)
    columns = [field.name for field in schema]
    nested = next((f.name for f in schema if pa.types.is_nested(f.type)), None)
    if nested is not None:
        return Probe(columns, metadata.num_rows, refusal=(f"column {nested!r} is nested", nested))
    text = tuple((f.name, _is_binary(f.type)) for f in schema if _is_text(f.type))
    return Probe(columns, metadata.num_rows, text)


def check_decoded(
    con: Connection, location: str, found: Probe, limits: IngestLimits
) -> Refusal | None:
    """Count the rows and decoded bytes of the Parquet file at ``location`` without storing
    them (DuckDB streams the aggregate); raises `ContributionTooLarge` past a limit, returns
    a refusal if a page cannot be read. Column names must be checked (declared) already."""
    sizes = [
        f'coalesce(sum({"octet_length" if binary else "strlen"}("{name}")), 0)'
        for name, binary in found.text
    ]
    try:
        rows, text = con.execute(
            f"SELECT count(*), {' + '.join(sizes) or '0'} FROM read_parquet(?)", [location]
        ).fetchone() or (0, 0)
    except DuckDBError:
        return ("not a readable Parquet file", None)
    fixed = rows * FIXED_WIDTH * (len(found.columns) - len(found.text))
    limits.check(rows=int(rows), expanded=int(text) + fixed)
    return None


def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_text(t.value_type)
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or _is_binary(t))


def _is_binary(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_binary(t.value_type)
    return bool(
        pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
    )


def _read_header(f: BinaryIO) -> list[str] | str:
    """The header's column names, or why the header cannot be read."""
    first = f.readline(1 << 16)
    if not first.strip():
        return "the file is empty or has no header row"
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "the header is not UTF-8 text (re-export the file as UTF-8)"
    return next(csv.reader([text.rstrip("\r\n")]))


def _count_lines(f: BinaryIO) -> int:
    """Lines in the file, a last line without a line break included."""
    lines, last = 0, b""
    while chunk := f.read(1 << 20):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    return lines + (1 if last not in (b"\n", b"") else 0)
