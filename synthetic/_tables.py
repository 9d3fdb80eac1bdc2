"""Table builders by name, and the assembly of one chunk into a registry-conformant table."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from synthetic import _conduct, _honesty, _residents, _virtue
from synthetic._chunk import Chunk, Columns
from synthetic._columns import arrow_type
from synthetic.errors import ColumnMismatchError
from vault import Table

Builder = Callable[[Chunk], Columns]

BUILDERS: dict[str, Builder] = {
    "residents": _residents.residents,
    "moral_reviews": _conduct.moral_reviews,
    "village_rules_points": _conduct.village_rules_points,
    "administrative_penalties": _conduct.administrative_penalties,
    "criminal_judgments": _conduct.criminal_judgments,
    "public_security_penalties": _conduct.public_security_penalties,
    "traffic_violations": _conduct.traffic_violations,
    "dishonest_debtors": _honesty.dishonest_debtors,
    "tax_arrears": _honesty.tax_arrears,
    "loan_repayments": _honesty.loan_repayments,
    "utility_arrears": _honesty.utility_arrears,
    "social_insurance": _honesty.social_insurance,
    "volunteer_service": _virtue.volunteer_service,
    "blood_donations": _virtue.blood_donations,
    "charitable_donations": _virtue.charitable_donations,
    "honors_awards": _virtue.honors_awards,
    "good_samaritan_acts": _virtue.good_samaritan_acts,
}


def schema(table: Table) -> pa.Schema:
    """The Arrow schema of a table's files: the registry's columns, in declared order."""
    return pa.schema(
        [pa.field(c.name, arrow_type(c), nullable=not c.required) for c in table.columns]
    )


def _check_enums(table: Table, columns: Columns) -> None:
    for column in table.columns:
        if column.type != "enum" or column.values is None:
            continue
        drawn = set(pc.unique(columns[column.name]).to_pylist()) - {None}
        unknown = drawn - set(column.values)
        if unknown:
            raise ColumnMismatchError(table.name, f"{column.name}: undeclared {sorted(unknown)}")


def build(table: Table, chunk: Chunk) -> pa.Table:
    """The rows of ``chunk`` as an Arrow table with exactly the registry's columns and types.

    Raises `ColumnMismatchError` when the builder's columns, types or enum values disagree
    with the registry (a generator bug, never bad luck).
    """
    columns = BUILDERS[table.name](chunk)
    expected = schema(table)
    if list(columns) != expected.names:
        raise ColumnMismatchError(table.name, f"columns {list(columns)} != {expected.names}")
    for field in expected:
        if columns[field.name].type != field.type:
            raise ColumnMismatchError(table.name, f"{field.name} is {columns[field.name].type}")
    _check_enums(table, columns)
    return pa.Table.from_arrays(list(columns.values()), schema=expected)
