"""`drop_closed_connections`: a pooled connection the server ended is replaced when it is
taken, without a ping's round trip, so the first statement after a restart succeeds.

The machine's PostgreSQL ends our pooled sessions with ``pg_terminate_backend`` (what a
restart does to every session: an error message, then the socket closed).
"""

from __future__ import annotations

import time
from pathlib import Path

from pg_support import URL
from sqlalchemy import Engine, create_engine, event, text

from audit.pg_store import drop_closed_connections, engine_url
from governance.db import open_engine


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    admin = create_engine(engine_url(URL))
    try:
        with admin.connect() as c:
            assert c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        admin.dispose()
    time.sleep(0.2)  # the ended backend's message and close reach our socket


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_session_the_server_ended_is_replaced_when_taken_and_the_statement_succeeds() -> None:
    engine = open_engine(URL)
    try:
        first = _backend_pid(engine)
        _terminate(first)
        assert _backend_pid(engine) != first  # no OperationalError: a new session
    finally:
        engine.dispose()


def test_every_pooled_session_is_dropped_once_one_is_found_closed() -> None:
    engine = open_engine(URL)
    try:
        held = [engine.connect() for _ in range(3)]
        pids = [int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in held]
        for c in held:
            c.close()
        for pid in pids:  # a restart ends them all
            _terminate(pid)
        with engine.connect() as a, engine.connect() as b, engine.connect() as c:
            now = {int(x.execute(text("SELECT pg_backend_pid()")).scalar_one()) for x in (a, b, c)}
        assert not now & set(pids)
    finally:
        engine.dispose()


def _last_query_start(pid: int) -> object:
    """When the server last began a statement of session ``pid`` (pg_stat_activity)."""
    admin = create_engine(engine_url(URL))
    try:
        with admin.connect() as c:
            return c.execute(text("SELECT query_start FROM pg_stat_activity WHERE pid = :p"),
                             {"p": pid}).scalar_one()  # fmt: skip
    finally:
        admin.dispose()


def _server_saw_the_checkout(engine: Engine) -> bool:
    """Take the pooled session and put it back without a statement of ours: did the server
    begin one on it meanwhile?"""
    pid = _backend_pid(engine)
    before = _last_query_start(pid)
    time.sleep(0.01)
    with engine.connect():
        pass
    return _last_query_start(pid) != before


def test_taking_a_connection_sends_no_ping() -> None:
    """Unlike ``pool_pre_ping`` (a query per checkout, below what cursor events see): the
    check reads the socket and sends nothing, as the server's own record shows (and shows a
    pinging pool's query)."""
    engine = open_engine(URL)
    pinging = create_engine(engine_url(URL), pool_pre_ping=True)
    try:
        assert not engine.pool._pre_ping
        _backend_pid(engine)
        seen = _statements(engine)
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        assert seen == ["SELECT 1"]
        assert not _server_saw_the_checkout(engine)
        assert _server_saw_the_checkout(pinging)  # the control: a ping is a statement
    finally:
        engine.dispose()
        pinging.dispose()


def test_the_audit_logs_own_pool_is_checked_too() -> None:
    engine = drop_closed_connections(create_engine(engine_url(URL)))
    try:
        first = _backend_pid(engine)
        _terminate(first)
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_without_the_check_the_first_statement_after_the_end_fails() -> None:
    """The control: the same pool without `drop_closed_connections` hands out the dead
    session (this is what the check saves an answer from)."""
    engine = create_engine(engine_url(URL))
    try:
        first = _backend_pid(engine)
        _terminate(first)
        try:
            _backend_pid(engine)
        except Exception as exc:  # OperationalError: the session was ended
            assert "terminat" in str(exc)
        else:
            raise AssertionError("a dead pooled session was used without error")
    finally:
        engine.dispose()


def test_the_server_identity_names_the_cluster_not_the_database() -> None:
    """Two databases of one server share its write-ahead log: one identity."""
    from audit.pg_store import server_identity

    test, postgres = (
        create_engine(engine_url(URL)),
        create_engine(engine_url(URL.rsplit("/", 1)[0] + "/postgres")),
    )
    try:
        here = server_identity(test)
        assert here is not None and here == server_identity(postgres)
    finally:
        test.dispose()
        postgres.dispose()


def test_an_identity_that_cannot_be_read_is_none(tmp_path: Path) -> None:
    from audit.pg_store import server_identity

    sqlite = create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")  # no pg_control_system()
    try:
        assert server_identity(sqlite) is None
    finally:
        sqlite.dispose()
