"""A deliberately naive reference for the generated feature SQL: plain Python over row dicts.

`reference_features(spec, registry, rows, as_of)` takes one subject's rows per table (dicts
keyed by stored column names, as the ``src`` views return them) and computes every feature
value, veto flag and coverage count the way the spec's docstrings describe them, one row
and one rule at a time.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from credit_model.spec import Condition, Feature, ModelSpec, Selection
from vault.registry import Registry, Table

Row = Mapping[str, Any]
OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}  # fmt: skip


def cutoff(as_of: dt.date, years: int) -> dt.date:
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:
        return as_of.replace(year=as_of.year - years, day=28)


def row_date(table: Table, row: Row, column: str) -> dt.date:
    value = row[column]
    return dt.date(int(value), 1, 1) if table.column(column).type == "integer" else value


def is_negative(table: Table, row: Row) -> bool:
    if table.negative:
        return True
    rules = {
        "rating = 'poor'": lambda r: r["rating"] == "poor",
        "points < 0": lambda r: r["points"] < 0,
        "days_overdue > 0": lambda r: r["days_overdue"] > 0,
    }
    return table.negative_when is not None and rules[table.negative_when](row)


def retained(table: Table, row: Row, as_of: dt.date, years: int) -> bool:
    if not table.is_negative_information or not is_negative(table, row):
        return True
    end = row[table.conduct_end or ""]
    return end is None or end >= cutoff(as_of, years)


def elapsed(row: Row, start: str, end: str, as_of: dt.date) -> int:
    stop = row[end] if row[end] is not None and row[end] <= as_of else as_of
    return (stop - row[start]).days


def condition_holds(c: Condition, row: Row, as_of: dt.date) -> bool:
    left = elapsed(row, *c.elapsed, as_of) if c.elapsed else row[c.column or ""]
    if c.op == "is_null":
        return left is None
    if c.op == "not_null":
        return left is not None
    if left is None:
        return False
    if c.op in ("in", "not_in"):
        return (left in (c.values or ())) == (c.op == "in")
    value = dt.date.fromisoformat(c.value) if isinstance(left, dt.date) else c.value
    return bool(OPS[c.op](left, value))


def selected(sel: Selection, table: Table, row: Row, as_of: dt.date) -> bool:
    day = row_date(table, row, sel.date)
    if day > as_of:
        return False
    if sel.window_days is not None and day <= as_of - dt.timedelta(days=sel.window_days):
        return False
    if sel.open_at is not None:
        start, end = sel.open_at
        if not (row[start] <= as_of and (row[end] is None or row[end] > as_of)):
            return False
    return all(condition_holds(c, row, as_of) for c in sel.where)


def row_value(f: Feature, table: Table, row: Row, as_of: dt.date) -> float:
    value = 1.0
    if f.value is not None:
        value = float(Decimal(row[f.value]))
        if f.minus is not None:
            value -= float(Decimal(row[f.minus]))
        value = max(-value if f.negate else value, 0.0)
    for w in f.weights:
        key = row[w.column]
        key = str(key).lower() if isinstance(key, bool) else key
        value *= w.map.get(key, 0.0)
    if f.half_life_days is not None:
        age = (as_of - row_date(table, row, f.date)).days
        value *= 0.5 ** (age / f.half_life_days)
    return value


def reference_features(
    spec: ModelSpec, registry: Registry, rows: Mapping[str, Sequence[Row]], as_of: dt.date
) -> dict[str, Any]:
    """Feature values, ``veto_<id>`` flags and ``n_<table>`` counts of one subject."""
    out: dict[str, Any] = {}
    for name in spec.tables():
        table = registry.table(name)
        dates = {s.date for s in (*spec.features, *spec.vetoes) if s.table == name}
        kept = [
            r for r in rows.get(name, ()) if retained(table, r, as_of, registry.retention_years)
        ]
        out[f"n_{name}"] = sum(
            1 for r in kept if all(row_date(table, r, d) <= as_of for d in dates)
        )
        for f in (f for f in spec.features if f.table == name):
            out[f.id] = sum(
                row_value(f, table, r, as_of) for r in kept if selected(f, table, r, as_of)
            )
        for v in (v for v in spec.vetoes if v.table == name):
            out[f"veto_{v.id}"] = any(selected(v, table, r, as_of) for r in kept)
    return out
