"""A fresh PostgreSQL schema for a PostgreSQL audit-log test, dropped afterwards.

The database is ``DEXIN_TEST_DATABASE_URL`` (the Makefile's gateway pass sets it), else the
machine's ``postgresql://postgres@127.0.0.1:5432/test``; each test gets its own schema, so
runs in parallel never see each other's log.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from audit.pg_store import engine_url

URL = os.environ.get("DEXIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_schema() -> Iterator[str]:
    schema = f"audit_{secrets.token_hex(6)}"
    admin = create_engine(engine_url(URL))
    try:
        with admin.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        yield schema
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


def execute(schema: str, sql: str) -> list[tuple[object, ...]]:
    """Run one statement in ``schema`` (as an operator would with psql); its rows."""
    engine = create_engine(engine_url(URL), connect_args={"options": f"-csearch_path={schema}"})
    try:
        with engine.begin() as c:
            result = c.execute(text(sql))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()
