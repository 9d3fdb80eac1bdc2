"""The control plane's engine and migrations: SQLite (WAL) by default, PostgreSQL by URL.

`open_engine(url)` normalises ``postgresql://`` to psycopg 3, turns on WAL and a busy
timeout for SQLite, and `migrate(engine)` brings the schema to alembic's head. The `dexin
admin` commands and the running gateway share the database, never the vault.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, text, true
from sqlalchemy.orm import Session, sessionmaker

from audit import drop_closed_connections

MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def open_engine(url: str, *, schema: str | None = None) -> Engine:
    """An engine on ``url``; ``schema`` (PostgreSQL only) sets the search path, for tests."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    args: dict[str, Any] = {"options": f"-csearch_path={schema}"} if schema else {}
    engine = create_engine(url, connect_args=args, pool_size=16, max_overflow=48)
    return drop_closed_connections(engine)  # a ping without the round trip


_AUTOCOMMIT: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()

# In a statement run by `lone_statements`: its commit does not wait for the WAL flush
# (set_config(..., true) holds for the statement's own transaction, and so for its commit).
NO_FLUSH_WAIT = func.set_config("synchronous_commit", "off", true())


def lone_statements(sessions: sessionmaker[Session]) -> Connection:
    """A connection of ``sessions``' pool on which each statement is its own transaction: a
    lone statement on the answer path costs one round trip instead of three (BEGIN, it,
    COMMIT). Use it as a context manager."""
    engine: Engine = sessions.kw["bind"]
    found = _AUTOCOMMIT.get(engine)
    if found is None:
        found = _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found.connect()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def migrate(engine: Engine) -> None:
    """Upgrade the control plane to the newest migration (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[None]:
    """A PostgreSQL session advisory lock named ``name``, held on a connection of its own
    until the block ends (released by the server if this process dies): one holder at a
    time across every process on the database. Used for one ledger writer per signing
    account (`ledger.Ledger.share_signing`)."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()
