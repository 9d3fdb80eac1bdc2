"""Issue 15 §3: the log's note verifier key is published, with the advice to pin it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import TestClient, World
from query_gateway.app import create_app

from audit.checkpoint import SignedCheckpoint
from audit.log import AuditLog, LogOptions
from audit.note import NoteSigner, NoteVerifier, parse_note
from governance.audit_trail import AuditTrail

SIGNER = NoteSigner.generate("dexin.test/audit")


@pytest.fixture
def merkle_client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    log = AuditLog.open(tmp_path / "audit", SIGNER, LogOptions(checkpoint_every=1))
    parts = world.components(audit=AuditTrail(log))
    with TestClient(create_app(world.settings, parts)) as client:
        yield client


def test_anyone_gets_the_vkey_that_verifies_the_checkpoints(merkle_client: TestClient) -> None:
    for _ in range(2):
        merkle_client.get("/v1/health")
    r = merkle_client.get("/v1/audit/log-key")  # no credentials: a public route
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["vkey"] == SIGNER.verifier().vkey()
    name, key_id, _ = doc["vkey"].split("+", 2)
    assert (doc["origin"], doc["key_id"]) == (name, key_id) == ("dexin.test/audit", key_id)
    assert "out of band" in doc["advice"] and "从独立渠道" in doc["advice"]
    note = merkle_client.get("/v1/audit/checkpoints/latest").text
    NoteVerifier.from_vkey(doc["vkey"]).verify(parse_note(note))
    assert SignedCheckpoint.parse(note).checkpoint.size >= 2


def test_a_damaged_key_file_is_not_served(merkle_client: TestClient, tmp_path: Path) -> None:
    """Fail closed: a vkey file that does not parse is a 404, never served as the key."""
    vkey = tmp_path / "audit" / "log.vkey"
    good = vkey.read_text()
    vkey.write_text(good.replace("+", "-", 1))
    r = merkle_client.get("/v1/audit/log-key")
    assert r.status_code == 404 and r.json()["reason"] == "no_log_key"
    assert good.strip() not in r.text
