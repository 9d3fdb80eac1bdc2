"""Row-level validation of a contribution against the registry, as DuckDB expressions.

`row_problems_sql(table)` builds one expression over the raw (all-VARCHAR) columns of a
staged contribution that yields, per row, the list of problems found:
``[{column, code, detail}]``, empty for a valid row. Each check fires only when the checks
before it passed (a failed cast yields NULL, and a NULL condition never fires), so every
problem is reported once, at its root. A problem never quotes the offending value: reports
and logs may be read by people who must not see raw identifiers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vault.idnumber import CHECK_CHARS, WEIGHTS
from vault.registry import Column, Table

# code -> (zh-CN, English) message templates; {detail} is filled from the check.
MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("必填项为空", "required value is missing"),
    "bad_format": ("格式不符：{detail}", "wrong format: {detail}"),
    "bad_id_number": ("身份号码无效：{detail}", "invalid ID number: {detail}"),
    "not_integer": ("不是整数", "not an integer"),
    "not_decimal": (
        "不是数值（最多 {detail} 位小数）",
        "not a number with at most {detail} decimals",
    ),
    "not_date": ("不是日期（YYYY-MM-DD）", "not a date (YYYY-MM-DD)"),
    "not_boolean": ("不是 true/false", "not true or false"),
    "not_allowed": ("取值不在允许范围：{detail}", "value not allowed; one of: {detail}"),
    "out_of_range": ("超出范围：{detail}", "out of range: {detail}"),
    "date_order": ("日期早于 {detail}", "date is before {detail}"),
    "id_mismatch": ("与身份号码不一致：{detail}", "does not match the ID number: {detail}"),
    "duplicate": ("重复记录：{detail}", "duplicate record: {detail}"),
    "unparsable": ("无法解析此行：{detail}", "the line cannot be parsed: {detail}"),
}

_LOWEST_DATE = "1900-01-01"


def message(code: str, detail: str) -> tuple[str, str]:
    zh, en = MESSAGES[code]
    return zh.format(detail=detail), en.format(detail=detail)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Check:
    """One rule: a SQL condition over the raw row that is true when the rule is broken."""

    condition: str
    column: str
    code: str
    detail: str = ""
    per_value: bool = True  # depends on this column's value alone (not on other columns)

    def guarded(self, guard: str) -> Check:
        return Check(
            f"({guard}) AND ({self.condition})", self.column, self.code, self.detail, self.per_value
        )

    def problem_sql(self) -> str:
        struct = f"{{'column': {_lit(self.column)}, 'code': {_lit(self.code)}, 'detail': {_lit(self.detail)}}}"
        return f"CASE WHEN {self.condition} THEN {struct} END"


_problem = Check


def _check_digit_sql(v: str) -> str:
    terms = " + ".join(
        f"CAST(substr({v}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS)
    )
    return f"substr('{CHECK_CHARS}', (({terms}) % 11) + 1, 1)"


def _id_number_checks(c: Column, v: str, as_of: dt.date) -> list[Check]:
    well_formed = f"regexp_full_match({v}, '[0-9]{{17}}[0-9X]')"
    birth = f"try_strptime(substr({v}, 7, 8), '%Y%m%d')"
    return [
        _problem(f"NOT {well_formed}", c.name, "bad_id_number", "not 17 digits then a digit or X"),
        _problem(
            f"{well_formed} AND {birth} IS NULL",
            c.name,
            "bad_id_number",
            "birth date part is not a date",
        ),
        _problem(
            f"{well_formed} AND ({birth} < DATE '{_LOWEST_DATE}' OR {birth} > DATE '{as_of}')",
            c.name,
            "bad_id_number",
            "birth date part out of range",
        ),
        _problem(
            f"{well_formed} AND {birth} IS NOT NULL AND {_check_digit_sql(v)} <> right({v}, 1)",
            c.name,
            "bad_id_number",
            "check digit does not match",
        ),
    ]


def _number_checks(c: Column, v: str, cast: str, shape: str, code: str, detail: str) -> list[Check]:
    out = [_problem(f"NOT regexp_full_match({v}, '{shape}')", c.name, code, detail)]
    if c.min is not None:
        out.append(
            _problem(f"TRY_CAST({v} AS {cast}) < {c.min}", c.name, "out_of_range", f">= {c.min:g}")
        )
    if c.max is not None:
        out.append(
            _problem(f"TRY_CAST({v} AS {cast}) > {c.max}", c.name, "out_of_range", f"<= {c.max:g}")
        )
    return out


def _date_checks(c: Column, v: str, as_of: dt.date) -> list[Check]:
    d = f"TRY_CAST({v} AS DATE)"
    shape = f"regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
    checks = [
        _problem(f"NOT ({shape} AND {d} IS NOT NULL)", c.name, "not_date"),
        _problem(f"{d} < DATE '{_LOWEST_DATE}'", c.name, "out_of_range", f">= {_LOWEST_DATE}"),
    ]
    if not c.may_be_future:
        checks.append(
            _problem(
                f"{d} > DATE '{as_of}'", c.name, "out_of_range", f"<= {as_of} (no future dates)"
            )
        )
    return checks


def _type_checks(c: Column, v: str, as_of: dt.date) -> list[Check]:
    if c.type == "id_number":
        return _id_number_checks(c, v, as_of)
    if c.type == "integer":
        return _number_checks(c, v, "BIGINT", "-?[0-9]{1,18}", "not_integer", "")
    if c.type == "decimal":
        fraction = f"(\\.[0-9]{{1,{c.scale}}})?" if c.scale else ""
        cast = f"DECIMAL(18,{c.scale})"
        return _number_checks(c, v, cast, f"-?[0-9]{{1,15}}{fraction}", "not_decimal", str(c.scale))
    if c.type == "date":
        return _date_checks(c, v, as_of)
    if c.type == "boolean":
        return [_problem(f"{v} NOT IN ('true', 'false')", c.name, "not_boolean")]
    if c.type == "enum":
        allowed = ", ".join(_lit(x) for x in c.values or ())
        return [
            _problem(f"{v} NOT IN ({allowed})", c.name, "not_allowed", ", ".join(c.values or ()))
        ]
    return []


def _pattern_check(c: Column, v: str) -> list[Check]:
    if c.pattern is None:
        return []
    return [
        _problem(f"NOT regexp_full_match({v}, {_lit(c.pattern)})", c.name, "bad_format", c.pattern)
    ]


def _relation_checks(table: Table, c: Column, v: str) -> list[Check]:
    out = []
    if c.not_before is not None:
        other = _q(c.not_before)
        cond = f"TRY_CAST({v} AS DATE) < TRY_CAST({other} AS DATE)"
        out.append(_problem(cond, c.name, "date_order", c.not_before, per_value=False))
    subject = table.subject_column
    if c.matches_id is not None and subject is not None:
        sv = _q(subject.name)
        derived = {
            "birth_year": f"TRY_CAST(substr({sv}, 7, 4) AS BIGINT) <> TRY_CAST({v} AS BIGINT)",
            "sex": f"(CASE WHEN TRY_CAST(substr({sv}, 17, 1) AS INTEGER) % 2 = 1 THEN 'M' ELSE 'F' END) <> {v}",
        }[c.matches_id]
        cond = f"length({sv}) = 18 AND {derived}"
        out.append(_problem(cond, c.name, "id_mismatch", c.matches_id, per_value=False))
    return out


def column_checks(table: Table, c: Column, as_of: dt.date) -> list[Check]:
    """The checks of one column, in the order their problems should be reported."""
    v = _q(c.name)
    present = [*_type_checks(c, v, as_of), *_pattern_check(c, v), *_relation_checks(table, c, v)]
    checks = [p.guarded(f"{v} IS NOT NULL") for p in present]
    if c.required:
        checks.insert(0, _problem(f"{v} IS NULL", c.name, "missing", per_value=False))
    return checks


def table_checks(table: Table, as_of: dt.date) -> list[Check]:
    return [p for c in table.columns for p in column_checks(table, c, as_of)]


def row_problems_sql(table: Table, as_of: dt.date) -> str:
    """A DuckDB expression: the list of problems of one raw row (empty when it is valid)."""
    problems = ", ".join(c.problem_sql() for c in table_checks(table, as_of))
    return f"list_filter([{problems}], p -> p IS NOT NULL)"


def _any(checks: list[Check]) -> str:
    return " OR ".join(f"coalesce({c.condition}, FALSE)" for c in checks) or "FALSE"


def row_is_bad_sql(table: Table, as_of: dt.date, deferred: frozenset[str] = frozenset()) -> str:
    """A DuckDB boolean, true when `row_problems_sql` is non-empty, except that the checks of
    the ``deferred`` columns' own values are left out (see `value_is_bad_sql`).

    Building the list of problems costs far more than testing the conditions, so ingest
    uses this flag to split rows and builds problem lists for the rejected rows only.
    """
    return _any(
        [c for c in table_checks(table, as_of) if not (c.per_value and c.column in deferred)]
    )


def value_is_bad_sql(table: Table, column: Column, as_of: dt.date) -> str:
    """A DuckDB boolean over one column's (non-NULL) value alone: true when it breaks a check.

    Ingest evaluates it once per distinct identifier instead of once per row: an ID number's
    check digit costs more than everything else in a row.
    """
    return _any([c for c in column_checks(table, column, as_of) if c.per_value])
