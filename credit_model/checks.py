"""Consistency checks of a parsed `ModelSpec` against itself and the vault's schema registry.

`check_spec` raises the first problem found as a `SpecError` subclass whose ``where`` names
the part of the spec (``features.vol_hours.where[0]``) and whose message names the table,
column or value at fault.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable

from credit_model.errors import (
    BandsError,
    ColumnTypeError,
    SpecError,
    UnknownColumnError,
    UnknownTableError,
    WeightsError,
)
from credit_model.spec import Band, Condition, Feature, ModelSpec, Selection, Veto, Weighting
from vault import Column, Registry, Table

NUMERIC = ("integer", "decimal")
RESERVED_PREFIXES = ("n_", "veto_")
RESERVED_NAMES = {"subject", "household", "birth_year", "sex", "town_code", "village_code"}
NO_SCORE_CODES = {"NS01", "NS02", "NS03"}


def check_spec(spec: ModelSpec, registry: Registry) -> None:
    """Raise a `SpecError` subclass for the first inconsistency; return None if there is none."""
    _check_dimensions(spec)
    _check_names(spec)
    for feature in spec.features:
        _check_feature(feature, spec, registry)
    for veto in spec.vetoes:
        _check_veto(veto, spec, registry)
    _check_bands(spec)
    if spec.points.qualifying > spec.points.scale:
        raise SpecError("points", "the qualifying points exceed the scale")
    if spec.eligibility.min_sources > len(spec.tables()):
        raise SpecError("eligibility", "min_sources exceeds the number of tables the spec reads")


def _check_dimensions(spec: ModelSpec) -> None:
    _unique("dimensions", [d.id for d in spec.dimensions])
    total = sum(d.weight for d in spec.dimensions)
    if abs(total - 1.0) > 1e-9:
        raise WeightsError(total)
    for d in spec.dimensions:
        if not any(f.dimension == d.id for f in spec.features):
            raise SpecError(f"dimensions.{d.id}", "no feature scores this dimension")


def _check_names(spec: ModelSpec) -> None:
    names = [f.id for f in spec.features] + [v.id for v in spec.vetoes]
    _unique("features/vetoes", names)
    for name in names:
        if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
            raise SpecError(f"features.{name}", "the id is reserved for the feature table")
    codes = [f.reason.code for f in spec.features] + [v.reason.code for v in spec.vetoes]
    _unique("reason codes", [*codes, *NO_SCORE_CODES])


def _unique(where: str, names: list[str]) -> None:
    repeated = sorted(n for n, k in Counter(names).items() if k > 1)
    if repeated:
        raise SpecError(where, f"repeated: {', '.join(repeated)}")


def _table(where: str, registry: Registry, name: str) -> Table:
    for table in registry.tables:
        if table.name == name:
            return table
    raise UnknownTableError(where, name)


def _column(where: str, table: Table, name: str, *types: str) -> Column:
    try:
        column = table.column(name)
    except KeyError:
        raise UnknownColumnError(where, table.name, name) from None
    if column.type in ("id_number", "pseudonym"):
        raise ColumnTypeError(where, table.name, name, "a non-identifying column")
    if types and column.type not in types:
        raise ColumnTypeError(where, table.name, name, " or ".join(types))
    return column


def _check_selection(where: str, sel: Selection, spec: ModelSpec, registry: Registry) -> Table:
    table = _table(where, registry, sel.table)
    _column(f"{where}.date", table, sel.date, "date", "integer")
    if sel.open_at is not None:
        for name in sel.open_at:
            _column(f"{where}.open_at", table, name, "date")
    for i, cond in enumerate(sel.where):
        _check_condition(f"{where}.where[{i}]", table, cond)
    return table


def _check_condition(where: str, table: Table, cond: Condition) -> None:
    if cond.elapsed is not None:
        for name in cond.elapsed:
            _column(where, table, name, "date")
        _check_values(where, cond, lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        return
    assert cond.column is not None
    column = _column(where, table, cond.column)
    _check_values(where, cond, lambda v: _fits(column, v))


def _check_values(where: str, cond: Condition, fits: Callable[[object], bool]) -> None:
    for v in (cond.value,) if cond.value is not None else cond.values or ():
        if not fits(v):
            raise SpecError(where, f"value {v!r} does not fit the column")


def _fits(column: Column, value: object) -> bool:
    if column.type == "enum":
        return value in (column.values or ())
    if column.type == "boolean":
        return isinstance(value, bool)
    if column.type in NUMERIC:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if column.type == "date":
        return isinstance(value, str) and _is_date(value)
    return isinstance(value, str)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_feature(f: Feature, spec: ModelSpec, registry: Registry) -> None:
    where = f"features.{f.id}"
    if f.dimension not in {d.id for d in spec.dimensions}:
        raise SpecError(where, f"unknown dimension {f.dimension!r}")
    table = _check_selection(where, f, spec, registry)
    for name in (f.value, f.minus):
        if name is not None:
            _column(f"{where}.value", table, name, *NUMERIC)
    for w in f.weights:
        _check_weighting(f"{where}.weights", table, w)


def _check_weighting(where: str, table: Table, w: Weighting) -> None:
    column = _column(where, table, w.column, "enum", "boolean")
    allowed = set(column.values or ("true", "false"))
    unknown = sorted(set(w.map) - allowed)
    if unknown:
        raise SpecError(where, f"column {table.name}.{w.column} has no value {unknown[0]!r}")


def _check_veto(v: Veto, spec: ModelSpec, registry: Registry) -> None:
    where = f"vetoes.{v.id}"
    if v.dimension not in {d.id for d in spec.dimensions}:
        raise SpecError(where, f"unknown dimension {v.dimension!r}")
    _check_selection(where, v, spec, registry)


def _check_bands(spec: ModelSpec) -> None:
    bands = sorted(spec.bands, key=lambda b: b.min)
    if not bands:
        raise BandsError("no bands")
    _unique("bands", [b.code for b in bands])
    if bands[0].min != 0 or bands[-1].max != spec.points.scale:
        raise BandsError(f"bands must cover 0 to {spec.points.scale:g} points")
    for band in bands:
        if band.min >= band.max:
            raise BandsError(f"band {band.code} is empty ({band.min:g} to {band.max:g})")
    for low, high in itertools.pairwise(bands):
        _check_adjacent(low, high, spec.points.qualifying)
    if spec.points.qualifying not in {b.min for b in bands}:
        raise BandsError("the qualifying points must be the lower edge of a band")


def _check_adjacent(low: Band, high: Band, qualifying: float) -> None:
    if low.max > high.min:
        raise BandsError(f"bands {low.code} and {high.code} overlap")
    if low.max < high.min:
        raise BandsError(f"gap between bands {low.code} and {high.code}")
    if low.credit_line > high.credit_line or low.household_line > high.household_line:
        raise BandsError(f"band {low.code} grants more credit than the higher band {high.code}")
    if low.expected_default_rate < high.expected_default_rate:
        raise BandsError(f"band {high.code} expects more defaults than the lower band {low.code}")
    if low.max <= qualifying and (low.credit_line or low.household_line):
        raise BandsError(f"band {low.code} lies below the qualifying points but grants credit")
