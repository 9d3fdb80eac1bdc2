"""Every row of every generated file is valid against the registry (naive reference check)."""

from __future__ import annotations

from collections import Counter

import pytest
from synthetic_reference import data_files, read_rows, row_problems

from synthetic import GenerationSummary
from vault.registry import Registry


def test_one_file_per_provider_and_table(tiny_csv: GenerationSummary, registry: Registry) -> None:
    expected = sorted(
        f"{provider}/{table.name}.csv" for table in registry.tables for provider in table.providers
    )
    found = [str(p.relative_to(tiny_csv.out_dir)) for p in data_files(tiny_csv.out_dir)]
    assert sorted(found) == expected
    assert len(found) == 18


def test_every_row_of_every_file_is_valid(tiny_csv: GenerationSummary, registry: Registry) -> None:
    for path in data_files(tiny_csv.out_dir):
        table = registry.table(path.stem)
        header, rows = read_rows(path)
        assert header == [c.name for c in table.columns], path
        problems = [p for row in rows for p in row_problems(table, row)]
        assert problems[:5] == [], path


def test_files_are_plain_utf8_lines(tiny_csv: GenerationSummary) -> None:
    for path in data_files(tiny_csv.out_dir):
        text = path.read_bytes().decode("utf-8")
        assert '"' not in text and "\r" not in text and text.endswith("\n")


@pytest.mark.parametrize("column", ["record_id", "id_number"])
def test_keys_are_unique_across_a_tables_providers(
    tiny_csv: GenerationSummary, registry: Registry, column: str
) -> None:
    for table in registry.tables:
        if table.key != (column,):
            continue
        keys: Counter[str] = Counter()
        for provider in table.providers:
            _, rows = read_rows(tiny_csv.out_dir / provider / f"{table.name}.csv")
            keys.update(row[column] for row in rows)
        assert keys.most_common(1)[0][1] == 1, table.name


def test_every_subject_is_a_resident(tiny_csv: GenerationSummary) -> None:
    _, residents = read_rows(tiny_csv.out_dir / "public_security" / "residents.csv")
    known = {row["id_number"] for row in residents}
    for path in data_files(tiny_csv.out_dir):
        _, rows = read_rows(path)
        assert {row["id_number"] for row in rows} <= known, path


def test_loan_ids_and_households_have_their_shapes(tiny_csv: GenerationSummary) -> None:
    _, loans = read_rows(tiny_csv.out_dir / "banks" / "loan_repayments.csv")
    _, residents = read_rows(tiny_csv.out_dir / "public_security" / "residents.csv")
    assert all(len(r["loan_id"]) == 11 and r["loan_id"][0] == "L" for r in loans)
    assert all(len(r["household_id"]) == 10 for r in residents)
