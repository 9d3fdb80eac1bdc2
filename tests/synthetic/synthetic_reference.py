"""A deliberately naive validator of generated files, written from the registry alone.

It reads every row with the csv module and checks each value one at a time: the fast
generator is checked against this, never against itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from vault.idnumber import problem
from vault.registry import Column, Table

AS_OF = dt.date(2026, 11, 1)
LOWEST_DATE = dt.date(1900, 1, 1)
UNASSIGNED_REGIONS = {str(code) for code in range(330290, 330300)}


def data_files(root: Path) -> list[Path]:
    """The providers' files under ``root`` (not the truth), sorted."""
    return sorted(p for p in root.rglob("*.*") if not p.relative_to(root).parts[0].startswith("_"))


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


def _decimal_problem(c: Column, text: str) -> str | None:
    shape = rf"-?\d+\.\d{{{c.scale}}}" if c.scale else r"-?\d+"
    if not re.fullmatch(shape, text):
        return f"{c.name}: {text!r} is not a decimal with scale {c.scale}"
    return _range_problem(c, Decimal(text))


def _range_problem(c: Column, value: Decimal | int) -> str | None:
    if c.min is not None and value < Decimal(str(c.min)):
        return f"{c.name}: {value} < {c.min}"
    if c.max is not None and value > Decimal(str(c.max)):
        return f"{c.name}: {value} > {c.max}"
    return None


def _date_problem(c: Column, text: str) -> str | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return f"{c.name}: {text!r} is not YYYY-MM-DD"
    day = dt.date.fromisoformat(text)
    if day < LOWEST_DATE or (day > AS_OF and not getattr(c, "may_be_future", False)):
        return f"{c.name}: {text} out of range"
    return None


def _id_problem(c: Column, text: str) -> str | None:
    reason = problem(text)
    if reason is not None:
        return f"{c.name}: {reason}"
    if text[:6] not in UNASSIGNED_REGIONS:
        return f"{c.name}: region {text[:6]} is not in the unassigned range"
    if dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14])) > AS_OF:
        return f"{c.name}: born after the as-of date"
    return None


def value_problem(c: Column, text: str) -> str | None:
    """Why ``text`` is not a valid value of column ``c``, or None."""
    if text == "":
        return None if not c.required else f"{c.name}: empty but required"
    if c.type == "id_number":
        return _id_problem(c, text)
    if c.type == "enum":
        return None if text in (c.values or ()) else f"{c.name}: {text!r} not declared"
    if c.type == "integer":
        if not re.fullmatch(r"-?\d+", text):
            return f"{c.name}: {text!r} is not an integer"
        return _range_problem(c, int(text))
    if c.type == "decimal":
        return _decimal_problem(c, text)
    if c.type == "date":
        return _date_problem(c, text)
    if c.type == "boolean":
        return None if text in ("true", "false") else f"{c.name}: {text!r} is not a boolean"
    if c.pattern is not None and not re.search(c.pattern, text):
        return f"{c.name}: {text!r} does not match {c.pattern}"
    return None


def row_problems(table: Table, row: dict[str, str]) -> Iterator[str]:
    """Every problem of one row: values, not_before orderings, agreement with the ID number."""
    for c in table.columns:
        found = value_problem(c, row[c.name])
        if found:
            yield found
        if c.not_before and row[c.name] and row[c.not_before] and row[c.name] < row[c.not_before]:
            yield f"{c.name} {row[c.name]} before {c.not_before} {row[c.not_before]}"
    if table.name == "residents":
        number = row["id_number"]
        if row["birth_year"] != number[6:10]:
            yield "birth_year disagrees with the ID number"
        if row["sex"] != ("M" if int(number[16]) % 2 else "F"):
            yield "sex disagrees with the ID number"
