"""Whether a quota unit waits for its own WAL flush (`ControlPlane.quota_commit_waits`): not
when the audit log commits to the same database cluster as the control plane (an answer's
entry is committed synchronously after the unit, which flushes the WAL through it), and
always when the log is on another server. Two real servers: the machine's and one of the
test's own."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cluster_support import PrivatePostgres, private_postgres_available
from sqlalchemy import create_engine, text

from audit.note import NoteSigner
from audit.pg_log import PgAuditLog
from audit.pg_store import engine_url
from dexin.app import _one_wal
from governance.db import open_engine

PG_URL = os.environ.get("DEXIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
UNAVAILABLE = private_postgres_available()  # only the other-server test needs it


@pytest.fixture(scope="module")
def other_server() -> Iterator[str]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server.url
    finally:
        server.close()


@contextmanager
def _log(url: str, tmp_path: Path) -> Iterator[PgAuditLog]:
    schema = f"wal_{secrets.token_hex(5)}"
    admin = create_engine(engine_url(url))
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    log = PgAuditLog.open(url, NoteSigner.generate("dexin.test/wal"), directory=tmp_path,
                          schema=schema)  # fmt: skip
    try:
        yield log
    finally:
        log.close()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_a_log_on_the_control_planes_server_shares_its_wal(tmp_path: Path) -> None:
    control = open_engine(PG_URL)
    try:
        with _log(PG_URL, tmp_path) as log:
            assert _one_wal(control, log)
    finally:
        control.dispose()


@pytest.mark.skipif(UNAVAILABLE is not None, reason=f"no second server: {UNAVAILABLE}")
def test_a_log_on_another_server_does_not(tmp_path: Path, other_server: str) -> None:
    control = open_engine(PG_URL)
    try:
        with _log(other_server, tmp_path) as log:
            assert not _one_wal(control, log)
    finally:
        control.dispose()


def test_a_control_plane_on_sqlite_never_does(tmp_path: Path) -> None:
    control = open_engine(f"sqlite:///{tmp_path / 'control.sqlite'}")
    try:
        with _log(PG_URL, tmp_path) as log:
            assert not _one_wal(control, log)
    finally:
        control.dispose()
