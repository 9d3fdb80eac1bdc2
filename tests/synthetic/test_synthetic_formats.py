"""Parquet and CSV hold the same rows, and the CSV text follows the declared formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow.parquet as pq
from synthetic_reference import data_files, read_rows

from synthetic import GenerationSummary


def as_text(value: object) -> str:
    """How the CSV writes one Parquet value (naive: one value at a time)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | Decimal | int | str):
        return str(value)
    raise TypeError(type(value))


def test_parquet_and_csv_hold_the_same_rows(
    tiny_csv: GenerationSummary, tiny_parquet: GenerationSummary
) -> None:
    assert tiny_csv.row_counts == tiny_parquet.row_counts
    for path in data_files(tiny_csv.out_dir):
        header, rows = read_rows(path)
        parquet = tiny_parquet.out_dir / path.relative_to(tiny_csv.out_dir).with_suffix(".parquet")
        table = pq.read_table(parquet)
        assert table.column_names == header
        as_rows = [{k: as_text(v) for k, v in r.items()} for r in table.to_pylist()]
        assert as_rows == rows, path


def test_truth_is_written_in_the_same_format(tiny_parquet: GenerationSummary) -> None:
    truth = tiny_parquet.out_dir / "_truth"
    assert sorted(p.name for p in truth.iterdir()) == [
        "loans.parquet",
        "persons.parquet",
        "summary.json",
    ]
