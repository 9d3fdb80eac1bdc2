"""Audit before answer: every request is recorded first; a failing sink means 503, no answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import Actors, TestClient, World, auth, score_body
from query_gateway.app import create_app

from audit.entry import AuditEntry, decode_entry
from audit.log import AuditLog
from audit.note import NoteSigner
from governance.accesses import AccessIndex
from governance.audit_trail import AuditAppendError, AuditReceipt, AuditTrail
from governance.credentials import Role


class UnsafeFailingSink:
    """Test only: refuses every append after ``fail_after`` successes."""

    def __init__(self, fail_after: int = 0) -> None:
        self.fail_after = fail_after
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> AuditReceipt:
        if len(self.entries) >= self.fail_after:
            raise AuditAppendError("disk full")
        self.entries.append(entry)
        return AuditReceipt(len(self.entries) - 1, "00" * 32)

    def close(self) -> None: ...


@pytest.fixture
def failing(world: World) -> Iterator[tuple[TestClient, UnsafeFailingSink]]:
    sink = UnsafeFailingSink(fail_after=10_000)
    app = create_app(world.settings, world.components(audit=sink))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, sink


def _entry(e: AuditEntry) -> str:
    return json.dumps(e.__dict__)


def test_a_failing_audit_sink_gives_503_and_no_answer(
    failing: tuple[TestClient, UnsafeFailingSink], world: World
) -> None:
    from gateway_support import Actors

    from governance.control import ControlPlane

    client, sink = failing
    actors = Actors(client, ControlPlane(client.app.state.gateway.control.sessions), world)  # type: ignore[attr-defined]
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number = world.ids[30]
    consent = actors.consent(actors.subject(id_number), bank_id)
    sink.fail_after = len(sink.entries)  # from now on, every append fails
    r = client.post(
        "/v1/scores",
        headers=auth(bank),
        json=score_body(id_number, rid, consent),
    )
    assert r.status_code == 503
    gw = client.app.state.gateway  # type: ignore[attr-defined]
    gw.control.flush_quotas()
    assert gw.control.request(rid).used == 0  # no answer left, so no quota was spent
    assert r.json()["type"] == "urn:dexin:problem:audit-unavailable"
    assert "Dexin-Signature" not in r.headers
    assert set(r.json()) == {
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "reason",
        "request_id",
    }
    for path in ("/v1/computations", "/v1/keys"):
        r = client.get(path, headers=auth(bank))
        assert r.status_code == 503 and "keys" not in r.json()


def test_every_request_allowed_or_denied_is_audited_first(
    failing: tuple[TestClient, UnsafeFailingSink],
) -> None:
    client, sink = failing
    before = len(sink.entries)
    client.get("/v1/computations")
    client.get("/v1/no-such-route")
    client.get("/v1/keys")
    new = sink.entries[before:]
    assert [(e.action, e.decision) for e in new] == [
        ("GET /v1/computations", "deny"),
        ("GET (no route)", "deny"),
        ("GET /v1/keys", "allow"),
    ]
    assert new[0].reason == "token_missing" and new[2].result_digest


def test_a_score_entry_names_the_pseudonym_never_the_id_number(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number = actors.world.ids[31]
    consent = actors.consent(actors.subject(id_number), bank_id)
    r = actors.http.post(
        "/v1/scores",
        headers=auth(bank),
        json=score_body(id_number, rid, consent),
    )
    index = r.json()["audit"]["index"]
    log = actors.http.app.state.gateway.audit.log  # type: ignore[attr-defined]
    entry = json.loads(log.entry(index))
    assert log.inclusion_proof(index) is not None
    assert (entry["index"], entry["decision"], entry["access_request"]) == (index, "allow", rid)
    assert entry["subject"] == actors.world.vault.subject_pseudonym(id_number)
    assert all(id_number.encode() not in log.entry(i) for i in range(log.size))


def test_the_trail_reads_entries_back_for_the_access_index(tmp_path: Path) -> None:
    trail = AuditTrail(AuditLog.open(tmp_path / "audit", NoteSigner.generate("test.local/log")))
    s1 = "ab" * 16

    def entry(i: int, subject: str | None) -> AuditEntry:
        return AuditEntry.create(actor="bank_1", role="bank", action="POST /v1/scores",
                                 decision="allow", request_id=f"r{i}",
                                 computation="morality_credit_score", purpose="credit_assessment",
                                 access_request="ar_1", consent="cs_1", subject=subject)  # fmt: skip

    try:
        made = [trail.append(entry(i, s1 if i % 2 else None)) for i in range(5)]
        assert [decode_entry(trail.entry(r.index))[1].request_id for r in made] == [
            f"r{i}" for i in range(5)
        ]
        index = AccessIndex(trail.entry)
        index.scan(trail.entries())
        assert [a.index for a in index.of(s1)] == [1, 3] and index.answered["ar_1"] == 5
        trail.append(entry(5, s1))
        index.note(5, entry(5, s1))
        assert [a.index for a in index.of(s1)] == [1, 3, 5]
    finally:
        trail.close()
