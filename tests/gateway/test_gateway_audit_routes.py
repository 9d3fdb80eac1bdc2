"""Issue 6 §4: a bank proves its query was logged with the checkpoint, proofs and entries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import Actors, TestClient, World, auth, score_body
from query_gateway.app import create_app

from audit import merkle
from audit.checkpoint import SignedCheckpoint
from audit.log import AuditLog, LogOptions
from audit.note import NoteSigner
from governance.audit_trail import AuditTrail
from governance.credentials import Role


@pytest.fixture
def merkle_client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    """The gateway over a real Merkle audit log (the shared test app uses the JSON-lines sink)."""
    signer = NoteSigner.generate("dexin.test/audit")
    log = AuditLog.open(tmp_path / "audit", signer, LogOptions(checkpoint_every=1))
    parts = world.components(audit=AuditTrail(log))
    with TestClient(create_app(world.settings, parts)) as client:
        yield client


def _score(actors: Actors, client: TestClient) -> tuple[str, int]:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number = actors.world.ids[3]
    consent = actors.consent(actors.subject(id_number), bank_id)
    r = client.post("/v1/scores", headers=auth(bank), json=score_body(id_number, rid, consent))
    assert r.status_code == 200, r.text
    return bank, r.json()["audit"]["index"]


def test_a_bank_proves_its_query_was_logged(actors: Actors, merkle_client: TestClient) -> None:
    bank, index = _score(actors, merkle_client)
    merkle_client.get("/v1/health")  # one more entry, so a checkpoint covers the score's
    note = merkle_client.get("/v1/audit/checkpoints/latest")
    assert note.status_code == 200 and note.headers["content-type"].startswith("text/plain")
    checkpoint = SignedCheckpoint.parse(note.text).checkpoint
    assert checkpoint.size > index
    entry = merkle_client.get(f"/v1/audit/entries/{index}", headers=auth(bank))
    assert entry.status_code == 200 and b'"action":' in entry.content
    assert actors.world.ids[3] not in entry.text
    proof = merkle_client.get(
        "/v1/audit/proofs/inclusion",
        params={"index": index, "size": checkpoint.size}, headers=auth(bank),
    ).json()["proof"]  # fmt: skip
    merkle.verify_inclusion(merkle.leaf_hash(entry.content), index, checkpoint.size,
                            [bytes.fromhex(h) for h in proof], checkpoint.root)  # fmt: skip


def test_consistency_between_two_sizes(actors: Actors, merkle_client: TestClient) -> None:
    _, auditor = actors.token(Role.AUDITOR)
    for _ in range(3):
        merkle_client.get("/v1/health")
    old = SignedCheckpoint.parse(merkle_client.get("/v1/audit/checkpoints/latest").text).checkpoint
    for _ in range(3):
        merkle_client.get("/v1/health")
    new = SignedCheckpoint.parse(merkle_client.get("/v1/audit/checkpoints/latest").text).checkpoint
    r = merkle_client.get("/v1/audit/proofs/consistency", headers=auth(auditor),
                          params={"old": old.size, "new": new.size})  # fmt: skip
    proof = [bytes.fromhex(h) for h in r.json()["proof"]]
    merkle.verify_consistency(old.size, new.size, proof, old.root, new.root)


def test_entries_are_shown_to_auditors_and_their_requester_only(
    actors: Actors, merkle_client: TestClient
) -> None:
    _, index = _score(actors, merkle_client)
    _, other_bank = actors.token(Role.BANK)
    _, auditor = actors.token(Role.AUDITOR)
    assert (
        merkle_client.get(f"/v1/audit/entries/{index}", headers=auth(other_bank)).status_code == 404
    )
    seen = merkle_client.get(f"/v1/audit/entries/{index}", headers=auth(auditor))
    assert seen.status_code == 200
    assert merkle_client.get(f"/v1/audit/entries/{index}").status_code == 401
    assert hashlib.sha256(b"\x00" + seen.content).digest() == merkle.leaf_hash(seen.content)


def test_out_of_range_requests_are_refused(actors: Actors, merkle_client: TestClient) -> None:
    _, auditor = actors.token(Role.AUDITOR)
    r = merkle_client.get("/v1/audit/proofs/inclusion", headers=auth(auditor),
                          params={"index": 10**9, "size": 10**9 + 1})  # fmt: skip
    assert r.status_code == 422 and r.json()["reason"] == "index_or_size_out_of_range"
    assert (
        merkle_client.get("/v1/audit/entries/999999999", headers=auth(auditor)).status_code == 404
    )
