"""Publication windows and credit repair (信用修复) in SQL, from the registry's rules.

A negative row of a table with windows (`vault.registry.PublicationWindow`) counts only
inside its window: it *lapses* on the day its window ends (``max_months`` after its start,
or the date in its ``ends_with`` column, whichever is first) and is *repaired* from the
day a repair recorded for it takes effect (``row_changes``, change ``repaired``). From
either day it is excluded from the ``src`` views, so no feature, score or aggregate counts
it, and it appears in the ``ended`` views, from which a score says so in its reasons.

Every expression here reads only stored columns of one row (quoted, as the registry names
them) and literal dates; the rules are the registry's, so no caller text reaches the SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from vault.registry import PublicationWindow, Table

REPAIRED = "repaired"
LAPSED = "lapsed"


def _date(column: str) -> str:
    return f'"{column}"'


def _plus_months(column: str, months: int) -> str:
    return f"CAST({_date(column)} + INTERVAL {int(months)} MONTH AS DATE)"


def _lapses(w: PublicationWindow) -> str | None:
    ends = []
    if w.max_months is not None:
        ends.append(_plus_months(w.starts, w.max_months))
    if w.ends_with is not None:
        ends.append(_date(w.ends_with))
    return f"least({', '.join(ends)})" if ends else None


def _repairable_from(w: PublicationWindow) -> str | None:
    return _plus_months(w.starts, w.min_months) if w.repairable else None


def _case(table: Table, value: Callable[[PublicationWindow], str | None]) -> str:
    """``CASE WHEN applies₁ THEN value(w₁) ... END`` over the table's windows in order (the
    first that applies decides; one whose value is None yields NULL)."""
    if not table.windows:
        return "CAST(NULL AS DATE)"
    cases = [f"WHEN ({w.applies}) THEN {value(w) or 'CAST(NULL AS DATE)'}" for w in table.windows]
    return f"(CASE {' '.join(cases)} END)"


def lapses_on_sql(table: Table) -> str:
    """The day a row's publication window ends by itself (NULL: not yet known, or never)."""
    return _case(table, _lapses)


def repairable_from_sql(table: Table) -> str:
    """The first day a repair may take effect for a row (NULL: the row cannot be repaired)."""
    return _case(table, _repairable_from)


def lapsed_sql(table: Table, as_of: dt.date) -> str:
    """True for a row whose window has ended on or before ``as_of``."""
    if not table.windows:
        return "FALSE"
    return f"coalesce({lapses_on_sql(table)} <= DATE '{as_of.isoformat()}', FALSE)"


def repairs_sql(a: str, table: Table) -> str:
    """Each repaired row of ``table`` in database ``a`` with the day its repair takes effect
    (the earliest, were there several)."""
    return (
        f"SELECT contribution_id, row_no, min(effective) AS repaired_on FROM {a}.row_changes "
        f"WHERE table_name = '{table.name}' AND change = '{REPAIRED}' GROUP BY ALL"
    )


def counting_filter_sql(a: str, table: Table, as_of: dt.date) -> str:
    """Extra conditions (``AND ...``) of a ``src`` view over ``{a}.{table} AS r``: not lapsed,
    not repaired on or before ``as_of``; empty for a table without windows."""
    if not table.windows:
        return ""
    repaired = (
        f"SELECT 1 FROM {a}.row_changes c WHERE c.table_name = '{table.name}' "
        f"AND c.change = '{REPAIRED}' AND c.effective <= DATE '{as_of.isoformat()}' "
        "AND c.contribution_id = r.contribution_id AND c.row_no = r.row_no"
    )
    return f" AND NOT {lapsed_sql(table, as_of)} AND NOT EXISTS ({repaired})"


def ended_sql(a: str, provider: str, table: Table, expired: str, as_of: dt.date) -> str:
    """The rows of ``{a}.{table}`` that stopped counting by ``as_of`` through their window or
    a repair, still within retention (``expired`` is false): provider, contribution_id,
    row_no, subject, ``why`` (`REPAIRED` or `LAPSED`), ``ended_on``."""
    subject = table.subject_column
    assert subject is not None, "a windowed table names its subject"
    lapses, day = lapses_on_sql(table), f"DATE '{as_of.isoformat()}'"
    return (
        f"SELECT '{provider}' AS provider, contribution_id, row_no, "
        f'"{subject.stored_name}" AS subject, CASE WHEN rp.repaired_on IS NOT NULL AND '
        f"(lapses IS NULL OR rp.repaired_on <= lapses) THEN '{REPAIRED}' ELSE '{LAPSED}' END "
        f"AS why, least(rp.repaired_on, lapses) AS ended_on FROM (SELECT *, {lapses} AS lapses "
        f"FROM {a}.{table.name} WHERE NOT {expired}) r LEFT JOIN ({repairs_sql(a, table)}) rp "
        f"USING (contribution_id, row_no) WHERE least(rp.repaired_on, lapses) <= {day}"
    )
