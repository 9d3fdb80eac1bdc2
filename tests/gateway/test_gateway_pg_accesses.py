""" "Who accessed me" over a log several workers append to: every worker lists every access.

Two gateway apps (workers A and B), each with its own `audit.pg_log.PgAuditLog` on one fresh
schema of the test database (``DEXIN_TEST_DATABASE_URL``, else the machine's
``postgresql://postgres@127.0.0.1:5432/test``), dropped afterwards: a score answered through
A is in the resident's ``GET /v1/me/accesses`` through B on its next call, and the other way
round, each access once. The index catches up incrementally: it reads only the entries it has
not considered, and with one writer (the file log) it reads none back at all.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway_support import Actors, TestClient, World, auth, score_body
from query_gateway.app import create_app
from sqlalchemy import create_engine, text

from audit.entry import AuditEntry
from audit.log import AuditLog
from audit.note import NoteSigner
from audit.pg_log import PgAuditLog
from audit.pg_store import engine_url
from governance.accesses import AccessIndex
from governance.audit_trail import AuditTrail
from governance.control import ControlPlane
from governance.credentials import Role

URL = os.environ.get("DEXIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
RESIDENT = 236  # actors.world.ids[236]: no other test uses it


def gw(client: TestClient) -> Any:
    return client.app.state.gateway  # type: ignore[attr-defined]


@pytest.fixture
def workers(world: World, tmp_path: Path) -> Iterator[tuple[Actors, TestClient, TestClient]]:
    schema = f"gwacc_{secrets.token_hex(6)}"
    admin = create_engine(engine_url(URL))
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    signer = NoteSigner.generate("dexin.test/pg-accesses")  # one key, as workers share log.key
    logs = [PgAuditLog.open(URL, signer, directory=tmp_path / "audit", schema=schema)
            for _ in range(2)]  # fmt: skip
    try:
        a_app, b_app = (create_app(world.settings, world.components(audit=AuditTrail(log)))
                        for log in logs)  # fmt: skip
        with (
            TestClient(a_app, raise_server_exceptions=False) as a,
            TestClient(b_app, raise_server_exceptions=False) as b,
        ):
            yield Actors(a, ControlPlane(gw(a).control.sessions), world), a, b
    finally:
        for log in logs:
            log.close()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _listed(client: TestClient, resident: str) -> list[tuple[int, str]]:
    r = client.get("/v1/me/accesses", headers=auth(resident))
    assert r.status_code == 200, r.text
    return [(a["audit_index"], a["bank_id"]) for a in r.json()]


def test_an_access_through_one_worker_is_listed_by_every_worker(
    workers: tuple[Actors, TestClient, TestClient],
) -> None:
    actors, a, b = workers
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number = actors.world.ids[RESIDENT]
    resident = actors.subject(id_number)
    body = score_body(id_number, rid, actors.consent(resident, bank_id))
    assert _listed(b, resident) == []  # B has caught up with everything so far

    r = a.post("/v1/scores", headers=auth(bank), json=body)
    assert r.status_code == 200, r.text
    first = r.json()["audit"]["index"]
    assert _listed(b, resident) == [(first, bank_id)]  # answered by A, listed by B

    r = b.post("/v1/scores", headers=auth(bank), json=body)  # B's own append is fed in
    assert r.status_code == 200, r.text
    second = r.json()["audit"]["index"]
    assert second > first
    both = [(first, bank_id), (second, bank_id)]
    assert _listed(b, resident) == both and _listed(a, resident) == both  # each once

    # A appended last: its own entries were fed in, so it has considered the whole log; B
    # reads A's last entries back, once
    index: AccessIndex = gw(a).accesses
    assert index.considered == gw(a).audit.size() and index.catch_up() == 0
    index = gw(b).accesses
    assert index.catch_up() >= 1 and index.catch_up() == 0
    assert index.considered == gw(b).audit.size()


def test_a_worker_reads_back_only_the_entries_it_did_not_consider(
    workers: tuple[Actors, TestClient, TestClient],
) -> None:
    actors, a, b = workers
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number = actors.world.ids[RESIDENT + 1]
    resident = actors.subject(id_number)
    body = score_body(id_number, rid, actors.consent(resident, bank_id))
    index: AccessIndex = gw(b).accesses
    index.catch_up()
    before = index.considered
    for _ in range(3):
        assert a.post("/v1/scores", headers=auth(bank), json=body).status_code == 200
    gained = gw(b).audit.size() - before
    assert gained >= 3  # A's entries (its scores and the requests around them)
    assert index.catch_up() == gained  # read once, each of them
    assert index.catch_up() == 0
    assert len(_listed(b, resident)) == 3


def _entry(i: int, subject: str | None) -> AuditEntry:
    return AuditEntry.create(actor="bank_1", role="bank", action="POST /v1/scores",
                             decision="allow", request_id=f"r{i}",
                             computation="morality_credit_score", purpose="credit_assessment",
                             access_request="ar_1", consent="cs_1", subject=subject)  # fmt: skip


def test_with_one_writer_the_index_never_reads_its_own_appends_back(tmp_path: Path) -> None:
    """The file log (the default): what this process appends is fed in as it becomes
    durable, so a query reads nothing back, however many entries came since the last one."""
    trail = AuditTrail(AuditLog.open(tmp_path / "audit", NoteSigner.generate("test.local/log")))
    s1, s2 = "ab" * 16, "cd" * 16
    try:
        trail.append(_entry(0, s1))
        index = AccessIndex(trail.entry, trail.size)
        index.scan(trail.entries())
        trail.on_durable(index.note)
        for i in range(1, 200):
            trail.append(_entry(i, s2 if i % 50 else s1))
        assert index.considered == 200
        assert index.catch_up() == 0
        assert [a.index for a in index.of(s1)] == [0, 50, 100, 150]
        # an entry another writer appended (not fed in) is read, once
        trail.log.append(_entry(200, s1))
        assert index.catch_up() == 1 and index.considered == 201
        assert [a.index for a in index.of(s1)] == [0, 50, 100, 150, 200]
        index.note(200, _entry(200, s1))  # noted late: not indexed twice
        assert [a.index for a in index.of(s1)] == [0, 50, 100, 150, 200]
    finally:
        trail.close()
