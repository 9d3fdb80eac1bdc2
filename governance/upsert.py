"""`insert_for`: the INSERT of the session's dialect, with ``ON CONFLICT`` (SQLite, PostgreSQL).

The answer workers' shared state (`governance.replay`, `governance.ratelimit`) is kept with
single statements that insert a row or update the one already there, atomically on either
backend of the control plane.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["insert_for"]


def insert_for(bind: Session | Connection, table: Any) -> postgresql.Insert | sqlite.Insert:
    """``INSERT INTO table`` for the database of ``bind`` (``on_conflict_do_*`` available)."""
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
