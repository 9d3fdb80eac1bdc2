"""The score flow over the PostgreSQL audit log: no answer leaves without its committed entry.

The gateway here appends to `audit.pg_log.PgAuditLog` in a fresh schema of the test database
(``DEXIN_TEST_DATABASE_URL``, else the machine's ``postgresql://postgres@127.0.0.1:5432/test``),
dropped afterwards. Entries are read back over another connection, as another worker would.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import Actors, TestClient, World, auth, score_body
from query_gateway.app import create_app
from sqlalchemy import create_engine, text

from audit.checkpoint import SignedCheckpoint
from audit.entry import decode_entry
from audit.merkle import leaf_hash, verify_inclusion
from audit.note import NoteSigner
from audit.pg_log import PgAuditLog
from audit.pg_store import engine_url
from governance.audit_trail import AuditTrail
from governance.control import ControlPlane
from governance.credentials import Role

URL = os.environ.get("DEXIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


class Schema:
    """A fresh schema of the test database, and SQL in it over a connection of its own."""

    def __init__(self) -> None:
        self.name = f"gwaudit_{secrets.token_hex(6)}"
        self.engine = create_engine(engine_url(URL))
        self.sql(f"CREATE SCHEMA {self.name}")

    def sql(self, statement: str) -> list[tuple[object, ...]]:
        with self.engine.begin() as c:
            c.execute(text(f"SET LOCAL search_path TO {self.name}"))
            result = c.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []

    def drop(self) -> None:
        self.sql(f"DROP SCHEMA {self.name} CASCADE")
        self.engine.dispose()


@pytest.fixture
def pg(world: World, tmp_path: Path) -> Iterator[tuple[Actors, Schema, PgAuditLog]]:
    schema = Schema()
    signer = NoteSigner.generate("dexin.test/pg-gateway")
    log = PgAuditLog.open(URL, signer, directory=tmp_path / "audit", schema=schema.name)
    app = create_app(world.settings, world.components(audit=AuditTrail(log)))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            control = ControlPlane(client.app.state.gateway.control.sessions)  # type: ignore[attr-defined]
            yield Actors(client, control, world), schema, log
    finally:
        log.close()
        schema.drop()


def test_no_score_leaves_without_its_committed_entry(
    pg: tuple[Actors, Schema, PgAuditLog],
) -> None:
    actors, schema, log = pg
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number = actors.world.ids[212]
    consent = actors.consent(actors.subject(id_number), bank_id)
    body = score_body(id_number, rid, consent)

    r = actors.http.post("/v1/scores", headers=auth(bank), json=body)
    assert r.status_code == 200, r.text
    index = r.json()["audit"]["index"]
    [(payload,)] = schema.sql(f"SELECT payload FROM audit_entries WHERE idx = {index}")
    assert isinstance(payload, bytes)  # committed: another connection reads it
    assert leaf_hash(payload).hex() == r.json()["audit"]["leaf_hash"]
    position, entry = decode_entry(payload)
    assert (position, entry.decision, entry.access_request) == (index, "allow", rid)

    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    gw.control.flush_quotas()
    used = gw.control.request(rid).used
    [(before,)] = schema.sql("SELECT count(*) FROM audit_entries")
    schema.sql(f"ALTER TABLE audit_entries ADD CONSTRAINT refuse CHECK (idx < {before}) NOT VALID")
    r = actors.http.post("/v1/scores", headers=auth(bank), json=body)
    assert r.status_code == 503
    assert r.json()["type"] == "urn:dexin:problem:audit-unavailable"
    assert "Dexin-Signature" not in r.headers and "score" not in r.json()
    gw.control.flush_quotas()
    assert gw.control.request(rid).used == used  # no answer left, so no quota was spent
    assert schema.sql("SELECT count(*) FROM audit_entries") == [(before,)]

    schema.sql("ALTER TABLE audit_entries DROP CONSTRAINT refuse")
    r = actors.http.post("/v1/scores", headers=auth(bank), json=body)
    assert r.status_code == 200, r.text
    assert r.json()["audit"]["index"] == before  # the refused entries used no index
    [(count, top)] = schema.sql("SELECT count(*), max(idx) FROM audit_entries")
    assert top == int(str(count)) - 1  # indexes contiguous: 0 .. count-1

    signed = log.checkpoint_now()
    assert isinstance(signed, SignedCheckpoint)
    note = actors.http.get("/v1/audit/checkpoints/latest")
    assert note.status_code == 200 and SignedCheckpoint.parse(note.text) == signed
    index, size = r.json()["audit"]["index"], signed.checkpoint.size
    proof = actors.http.get(
        "/v1/audit/proofs/inclusion", params={"index": index, "size": size}, headers=auth(bank)
    )
    assert proof.status_code == 200, proof.text
    path = [bytes.fromhex(h) for h in proof.json()["proof"]]
    leaf = bytes.fromhex(r.json()["audit"]["leaf_hash"])
    verify_inclusion(leaf, index, size, path, signed.checkpoint.root)
    key = actors.http.get("/v1/audit/log-key").json()  # the key the head row records
    assert key["vkey"] == log.reader().log_key().vkey()


def test_a_quota_unit_waits_for_its_flush_unless_the_log_shares_the_wal(
    pg: tuple[Actors, Schema, PgAuditLog],
) -> None:
    """The control plane on PostgreSQL (the Makefile's second pass) beside this log on the
    same server: the unit's commit need not wait (the answer's entry, committed after it,
    flushes the WAL through it); on SQLite the quota is counted in memory and nothing
    changes. The score is answered and the unit spent either way."""
    actors, _schema, _log = pg
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    assert gw.control.quota_commit_waits is (not gw.control.shared)
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number = actors.world.ids[213]
    consent = actors.consent(actors.subject(id_number), bank_id)
    before = gw.control.request(rid).used
    r = actors.http.post("/v1/scores", headers=auth(bank), json=score_body(id_number, rid, consent))
    assert r.status_code == 200, r.text
    gw.control.flush_quotas()
    assert gw.control.request(rid).used == before + 1
