"""Feature extraction: the SQL that computes every feature of a spec inside the vault.

`feature_sql(spec, registry, as_of)` generates one SELECT over the vault's ``src.<table>``
views producing one row per registered resident (``src.residents``), with:

- the resident's base attributes (``subject``, ``household``, ``birth_year``, ``sex``,
  ``town_code``, ``village_code``), the as-of date and the spec's digest (hex);
- one DOUBLE column per feature (uncapped; the scorecard caps), rounded to 6 decimals so
  that the order in which DuckDB adds rows cannot change a score;
- one BOOLEAN column ``veto_<id>`` per veto;
- one BIGINT column ``n_<table>`` per table read: the subject's rows that count on the
  as-of date (the data coverage of the score);
- for each table read that has publication windows (`vault.windows`), two BIGINT columns
  ``repaired_<table>`` and ``lapsed_<table>``: the subject's rows that stopped counting by
  the as-of date through a repair (信用修复) or the end of their window, still within
  retention (the vault's ``ended`` views); a score says so in its reasons.

Each table is scanned once. The as-of date is a typed date rendered as a literal (the vault
materialises a SELECT without parameters); every identifier comes from the checked spec and
the schema registry. The 5-year rule is applied again relative to the as-of date, so a
feature computed for a past date never counts what had expired by then either.
`FeatureRow.from_record` parses a row of that table back into a typed value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from credit_model.errors import SpecError
from credit_model.spec import Condition, Feature, ModelSpec, Scalar, Selection, Veto, Weighting
from vault import Registry, Table

BASE_COLUMNS = ("subject", "household", "birth_year", "sex", "town_code", "village_code")


def retention_cutoff(as_of: dt.date, years: int) -> dt.date:
    """The 5-year rule: negative rows whose conduct ended before this day never count
    (the same arithmetic as the vault's `Vault.retention_cutoff`; 29 February → 28)."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:
        return as_of.replace(year=as_of.year - years, day=28)


def feature_sql(spec: ModelSpec, registry: Registry, as_of: dt.date) -> str:
    """One SELECT computing every feature, veto flag and coverage count of ``spec`` for every
    resident, as known on ``as_of``. The spec must have been checked (`load_spec`)."""
    ctes = [f"p AS (SELECT {', '.join(BASE_COLUMNS)} FROM src.residents)"]
    joins, columns = [], [f"p.{c}" for c in BASE_COLUMNS]
    columns += [f"DATE '{as_of.isoformat()}' AS as_of", f"'{spec.digest.hex()}' AS spec_digest"]
    for name in spec.tables():
        table = registry.table(name)
        ctes.append(f"t_{name} AS ({_table_aggregate(spec, table, as_of, registry)})")
        joins.append(f"LEFT JOIN t_{name} ON t_{name}.subject = p.subject")
        columns += [f"coalesce(t_{name}.{c}, {d}) AS {c}" for c, d in _outputs(spec, name)]
    for name in ended_tables(spec, registry):
        ctes.append(f"e_{name} AS ({_ended_aggregate(name, as_of)})")
        joins.append(f"LEFT JOIN e_{name} ON e_{name}.subject = p.subject")
        columns += [f"coalesce(e_{name}.{c}, 0) AS {c}" for c in ended_columns(name)]
    return f"WITH {', '.join(ctes)} SELECT {', '.join(columns)} FROM p {' '.join(joins)}"


def ended_tables(spec: ModelSpec, registry: Registry) -> tuple[str, ...]:
    """The tables the spec reads whose rows may stop counting by a window or a repair."""
    return tuple(t for t in spec.tables() if registry.table(t).windows)


def ended_columns(table: str) -> tuple[str, str]:
    """The feature table's counts of a subject's repaired and lapsed rows of ``table``."""
    return f"repaired_{table}", f"lapsed_{table}"


def _ended_aggregate(table: str, as_of: dt.date) -> str:
    repaired, lapsed = ended_columns(table)
    return (
        f"SELECT subject, count(*) FILTER (WHERE why = 'repaired') AS {repaired}, "
        f"count(*) FILTER (WHERE why = 'lapsed') AS {lapsed} FROM ended.{table} "
        f"WHERE ended_on <= DATE '{as_of.isoformat()}' GROUP BY subject"
    )


def _outputs(spec: ModelSpec, table: str) -> list[tuple[str, str]]:
    """The columns a table's aggregate yields, with their value for a subject without rows."""
    out = [(f"n_{table}", "0")]
    out += [(f.id, "0.0") for f in spec.features if f.table == table]
    out += [(f"veto_{v.id}", "FALSE") for v in spec.vetoes if v.table == table]
    return out


def _table_aggregate(spec: ModelSpec, table: Table, as_of: dt.date, registry: Registry) -> str:
    d = f"DATE '{as_of.isoformat()}'"
    selections: list[Selection] = [*spec.features, *spec.vetoes]
    dates = {s.date for s in selections if s.table == table.name}
    date = _date_expr(table, dates.pop()) if len(dates) == 1 else None
    where = [_retained(table, as_of, registry.retention_years)]
    if date is not None:  # every selection of the table shares its date: filter once
        where.append(f"{date} <= {d}")
        parts = [f"count(*) AS n_{table.name}"]
    else:
        parts = [f"count(*) FILTER (WHERE {_known(table, spec, d)}) AS n_{table.name}"]
    known = date is not None  # the WHERE already keeps only rows known on the as-of date
    parts += [_feature(f, table, d, known) for f in spec.features if f.table == table.name]
    parts += [_veto(v, table, d, known) for v in spec.vetoes if v.table == table.name]
    return (
        f"SELECT subject, {', '.join(parts)} FROM src.{table.name} "
        f"WHERE {' AND '.join(where)} GROUP BY subject"
    )


def counted_predicate(spec: ModelSpec, table: Table, as_of: dt.date) -> str | None:
    """SQL over the stored columns of ``table`` (its ``src`` view) that is true for a row some
    feature or veto of ``spec`` counts on ``as_of`` — the records a score rests on (a
    resident's statement on one travels with the score, issue 18); None if the spec reads no
    such table. The spec must have been checked (`load_spec`)."""
    d = f"DATE '{as_of.isoformat()}'"
    chosen = [s for s in (*spec.features, *spec.vetoes) if s.table == table.name]
    if not chosen:
        return None
    return " OR ".join(f"({_selected(s, table, d, known=False)})" for s in chosen)


def _known(table: Table, spec: ModelSpec, d: str) -> str:
    """A row is known on the as-of date when its date (any the spec uses) is not after it."""
    dates = sorted({s.date for s in (*spec.features, *spec.vetoes) if s.table == table.name})
    return " AND ".join(f"{_date_expr(table, c)} <= {d}" for c in dates)


def _retained(table: Table, as_of: dt.date, years: int) -> str:
    if table.negative_predicate is None or table.conduct_end is None:
        return "TRUE"
    cutoff = retention_cutoff(as_of, years).isoformat()
    end = _ident(table.column(table.conduct_end).stored_name)
    return f"NOT coalesce(({table.negative_predicate}) AND {end} < DATE '{cutoff}', FALSE)"


def _selected(sel: Selection, table: Table, d: str, known: bool) -> str:
    """The rows ``sel`` counts; ``known``: the query's WHERE already dropped rows dated after
    the as-of date (evaluating it again per aggregate cost ~10 % of the feature query)."""
    date = _date_expr(table, sel.date)
    terms = [] if known else [f"{date} <= {d}"]
    if sel.window_days is not None:
        terms.append(f"{date} > {d} - INTERVAL {sel.window_days} DAY")
    if sel.open_at is not None:
        start, end = (_ident(c) for c in sel.open_at)
        terms.append(f"{start} <= {d} AND ({end} IS NULL OR {end} > {d})")
    terms += [_condition(c, table, d) for c in sel.where]
    return " AND ".join(f"({t})" for t in terms) or "TRUE"


def _feature(f: Feature, table: Table, d: str, known: bool) -> str:
    factors = [_value(f)] + [_weight(w, table) for w in f.weights]
    if f.half_life_days is not None:
        age = f"datediff('day', {_date_expr(table, f.date)}, {d})"
        factors.append(f"pow(0.5, {age} / {_number(f.half_life_days)})")
    term = " * ".join(factors)
    total = f"sum(CASE WHEN {_selected(f, table, d, known)} THEN {term} END)"
    return f"round(coalesce({total}, 0.0), 6)::DOUBLE AS {_ident(f.id)}"


def _veto(v: Veto, table: Table, d: str, known: bool) -> str:
    return f"coalesce(bool_or({_selected(v, table, d, known)}), FALSE) AS veto_{v.id}"


def _value(f: Feature) -> str:
    if f.value is None:
        return "1.0"
    value = f"CAST({_ident(f.value)} AS DOUBLE)"
    if f.minus is not None:
        value = f"{value} - CAST({_ident(f.minus)} AS DOUBLE)"
    if f.negate:
        value = f"-({value})"
    return f"greatest({value}, 0.0)"


def _weight(w: Weighting, table: Table) -> str:
    column = _ident(w.column)
    if table.column(w.column).type == "boolean":
        column = f"CAST({column} AS VARCHAR)"
    cases = " ".join(f"WHEN {_literal(k)} THEN {_number(v)}" for k, v in sorted(w.map.items()))
    return f"(CASE {column} {cases} ELSE 0.0 END)"


def _condition(c: Condition, table: Table, d: str) -> str:
    if c.elapsed is not None:
        start, end = (_ident(x) for x in c.elapsed)
        left = (
            f"(CASE WHEN {end} IS NOT NULL AND {end} <= {d} "
            f"THEN datediff('day', {start}, {end}) ELSE datediff('day', {start}, {d}) END)"
        )
        is_date = False
    else:
        assert c.column is not None
        left, is_date = _ident(c.column), table.column(c.column).type == "date"
    if c.op in ("is_null", "not_null"):
        return f"{left} IS {'NOT ' if c.op == 'not_null' else ''}NULL"
    if c.op in ("in", "not_in"):
        items = ", ".join(_literal(v, is_date) for v in c.values or ())
        return f"{left} {'NOT ' if c.op == 'not_in' else ''}IN ({items})"
    assert c.value is not None
    return f"{left} {c.op} {_literal(c.value, is_date)}"


def _date_expr(table: Table, column: str) -> str:
    """A date column as is; an integer year column as 1 January of that year."""
    if table.column(column).type == "integer":
        return f"make_date(CAST({_ident(column)} AS INTEGER), 1, 1)"
    return _ident(column)


def _ident(name: str) -> str:
    return f'"{name}"'


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise SpecError("features", f"{value!r} is not a finite number")
    return repr(float(value))


def _literal(value: Scalar, is_date: bool = False) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):  # compared as an integer: no cast of the column per row
        return str(value)
    if isinstance(value, float):
        return _number(value)
    quoted = "'" + value.replace("'", "''") + "'"
    return f"DATE {quoted}" if is_date else quoted


class FeatureRow(BaseModel):
    """One subject's features as materialised: what the scorecard reads. ``values`` maps
    feature ids to uncapped values, ``vetoes`` veto ids to flags, ``coverage`` table names
    to the subject's rows that count, ``repaired`` and ``lapsed`` table names to the
    subject's rows that stopped counting, and why (tables with windows only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    household: str | None
    birth_year: int | None
    sex: str | None
    town_code: str | None
    village_code: str | None
    as_of: dt.date
    spec_digest: str
    values: Mapping[str, float]
    vetoes: Mapping[str, bool]
    coverage: Mapping[str, int]
    repaired: Mapping[str, int] = {}  # table → rows repaired (信用修复), no longer counting
    lapsed: Mapping[str, int] = {}  # table → rows whose publication window ended

    @property
    def age(self) -> int | None:
        """Age in whole years reached in the as-of year (birth dates are not stored)."""
        return None if self.birth_year is None else self.as_of.year - self.birth_year

    @classmethod
    def from_record(cls, spec: ModelSpec, record: Mapping[str, Any]) -> FeatureRow:
        """Parse a row of the feature table (a column → value mapping)."""
        base = {c: record[c] for c in BASE_COLUMNS}
        return cls(
            **base,
            as_of=record["as_of"],
            spec_digest=record["spec_digest"],
            values={f.id: float(record[f.id]) for f in spec.features},
            vetoes={v.id: bool(record[f"veto_{v.id}"]) for v in spec.vetoes},
            coverage={t: int(record[f"n_{t}"]) for t in spec.tables()},
            repaired=_counts(record, spec, "repaired"),
            lapsed=_counts(record, spec, "lapsed"),
        )


def _counts(record: Mapping[str, Any], spec: ModelSpec, kind: str) -> dict[str, int]:
    """``kind``'s counts (repaired, lapsed) of the tables the record has them for."""
    return {t: int(record[f"{kind}_{t}"]) for t in spec.tables() if f"{kind}_{t}" in record}
