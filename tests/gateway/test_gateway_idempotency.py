"""Idempotent retries (issue 17): ``POST /v1/scores`` and ``POST /v1/aggregates`` with an
``Idempotency-Key`` answer a retry with the same signed bytes and spend nothing twice.

Before issue 17 a bank whose connection dropped after the answer left had to ask again:
a second quota unit, a second ε, a second access in the subject's "who accessed me".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway_support import Actors, TestClient, World, auth, score_body
from query_gateway.app import create_app

from audit import decode_entry
from audit.log import AuditLog
from audit.note import NoteSigner
from governance import Conflict, IdempotentAnswers
from governance.audit_trail import AuditTrail
from governance.credentials import Role
from governance.signing import verify_detached


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _entries(http: TestClient, request_ids: set[str]) -> list[Any]:
    trail = http.app.state.gateway.audit  # type: ignore[attr-defined]
    found = [decode_entry(raw)[1] for raw in trail.entries()]
    return [e for e in found if e.request_id in request_ids]


def _scored(actors: Actors, person: int) -> tuple[str, str, str, dict[str, str]]:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, quota=5)
    id_number = actors.world.ids[person]
    consent = actors.consent(actors.subject(id_number), bank_id)
    return bank, rid, id_number, score_body(id_number, rid, consent)


def test_a_retried_score_is_the_same_signed_answer_and_spends_nothing(actors: Actors) -> None:
    bank, rid, id_number, body = _scored(actors, 101)
    key = _key()
    first = actors.http.post("/v1/scores", json=body, headers=auth(bank) | key)
    assert first.status_code == 200, first.text
    again = actors.http.post("/v1/scores", json=body, headers=auth(bank) | key)
    assert again.status_code == 200, again.text
    assert again.content == first.content
    assert again.headers["Dexin-Signature"] == first.headers["Dexin-Signature"]
    assert again.headers["Idempotent-Replayed"] == "true"
    request = actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()
    assert request["used"] == 1
    ids = {first.headers["dexin-request-id"], again.headers["dexin-request-id"]}
    original, replay = _entries(actors.http, ids)
    assert (original.decision, original.subject is not None, original.reason) == (
        "allow",
        True,
        None,
    )
    assert (replay.decision, replay.subject, replay.reason) == ("allow", None, "idempotent_replay")
    assert replay.access_request == rid and replay.action == "POST /v1/scores"
    accesses = actors.http.get("/v1/me/accesses", headers=auth(actors.subject(id_number))).json()
    assert sum(a["access_request_id"] == rid for a in accesses) == 1  # one access, not two


def test_a_key_reused_for_another_request_is_refused(actors: Actors) -> None:
    bank, _, _, body = _scored(actors, 102)
    key = _key()
    assert actors.http.post("/v1/scores", json=body, headers=auth(bank) | key).status_code == 200
    other = body | {"purpose": "post_loan_monitoring"}
    r = actors.http.post("/v1/scores", json=other, headers=auth(bank) | key)
    assert (r.status_code, r.json()["reason"]) == (422, "idempotency_key_reused")
    r = actors.http.post("/v1/scores", json=body, headers=auth(bank) | {"Idempotency-Key": "x"})
    assert (r.status_code, r.json()["reason"]) == (422, "idempotency_key_invalid")


def test_a_refused_request_keeps_nothing_and_its_retry_is_answered(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, quota=5)
    id_number = actors.world.ids[103]
    body = score_body(id_number, rid, "cs_" + "0a" * 10)
    key = _key()
    r = actors.http.post("/v1/scores", json=body, headers=auth(bank) | key)
    assert (r.status_code, r.json()["reason"]) == (403, "consent_missing")
    consent = actors.consent(actors.subject(id_number), bank_id)
    r = actors.http.post(
        "/v1/scores", json=body | {"consent_id": consent}, headers=auth(bank) | key
    )
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers


def test_a_retry_after_the_approval_was_revoked_is_refused(actors: Actors) -> None:
    bank, rid, _, body = _scored(actors, 104)
    key = _key()
    assert actors.http.post("/v1/scores", json=body, headers=auth(bank) | key).status_code == 200
    r = actors.decide(actors.enrolled(2)[0], rid, "revoke")
    assert r.status_code == 200, r.text
    r = actors.http.post("/v1/scores", json=body, headers=auth(bank) | key)
    assert r.status_code == 403 and "Dexin-Signature" not in r.headers


def test_keys_belong_to_their_bank(actors: Actors) -> None:
    """Another bank sending the same key gets nothing of the first bank's answer."""
    bank, _, _, body = _scored(actors, 105)
    key = _key()
    assert actors.http.post("/v1/scores", json=body, headers=auth(bank) | key).status_code == 200
    _, other = actors.token(Role.BANK)
    r = actors.http.post("/v1/scores", json=body, headers=auth(other) | key)
    assert r.status_code == 403 and "Idempotent-Replayed" not in r.headers


def test_a_retried_aggregate_spends_its_epsilon_once(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_town", epsilon=1.0)
    body = {"computation": "grade_distribution_by_town", "access_request_id": rid, "epsilon": 0.4}
    key = _key()
    first = actors.http.post("/v1/aggregates", json=body, headers=auth(bank) | key)
    again = actors.http.post("/v1/aggregates", json=body, headers=auth(bank) | key)
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    jwks = actors.http.get("/v1/keys").json()
    verify_detached(again.headers["Dexin-Signature"], again.content, jwks)
    request = actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()
    assert (request["used"], request["epsilon_spent"]) == (1, pytest.approx(0.4))
    fresh = actors.http.post("/v1/aggregates", json=body, headers=auth(bank) | _key())
    assert fresh.json()["epsilon_remaining"] == pytest.approx(0.2)  # a new key: a new release


def test_a_key_is_answered_once_even_while_in_flight(actors: Actors) -> None:
    store = IdempotentAnswers(actors.control.sessions)
    assert store.claim("bank_00000000000000aa", "in-flight-key", "f" * 64) is None
    with pytest.raises(Conflict) as caught:
        store.claim("bank_00000000000000aa", "in-flight-key", "f" * 64)
    assert caught.value.reason == "idempotency_key_in_flight"


@pytest.fixture
def second_process(world: World, tmp_path: Path) -> Iterator[TestClient]:
    """Another gateway process on the same control plane (its own audit log)."""
    trail = AuditTrail(AuditLog.open(tmp_path / "audit", NoteSigner.generate("test.local/log")))
    with TestClient(create_app(world.settings, world.components(audit=trail)),
                    raise_server_exceptions=False) as client:  # fmt: skip
        yield client


def test_another_gateway_process_replays_the_kept_answer(
    actors: Actors, second_process: TestClient
) -> None:
    bank, _, _, body = _scored(actors, 106)
    key = _key()
    first = actors.http.post("/v1/scores", json=body, headers=auth(bank) | key)
    again = second_process.post("/v1/scores", json=body, headers=auth(bank) | key)
    assert again.status_code == 200, again.text
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
