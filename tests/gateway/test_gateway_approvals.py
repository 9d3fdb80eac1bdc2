"""Access requests: m of n officers on the ledger, deny by default with reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway_support import Actors, auth, computation_hash, later, request_body
from sqlalchemy import update

from governance.accesses import AccessIndex
from governance.credentials import Role
from governance.models import AccessRequest


def _score(actors: Actors, bank: str, rid: str, consent: str, id_number: str, **over: Any) -> Any:
    body = {
        "id_number": id_number,
        "purpose": "credit_assessment",
        "access_request_id": rid,
        "consent_id": consent,
    } | over
    return actors.http.post("/v1/scores", json=body, headers=auth(bank))


def _setup(actors: Actors, idx: int = 2, **extra: Any) -> tuple[str, str, str, str]:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, **extra)
    id_number = actors.world.ids[idx]
    consent = actors.consent(actors.subject(id_number), bank_id)
    return bank, rid, consent, id_number


def test_m_of_n_distinct_officers_approve_on_the_ledger(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.file(bank)
    id_number = actors.world.ids[3]
    consent = actors.consent(actors.subject(id_number), bank_id)
    first, second = actors.enrolled(2)
    r = actors.decide(first, rid, "approve")
    assert (r.json()["status"], r.json()["approvals"], r.json()["threshold"]) == ("pending", 1, 2)
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "approval_pending")
    again = actors.decide(first, rid, "approve")
    assert (again.status_code, again.json()["reason"]) == (409, "already_voted")
    r = actors.decide(second, rid, "approve")
    assert r.json()["status"] == "approved"
    gateway = actors.http.app.state.gateway  # type: ignore[attr-defined]
    ledger_id = bytes.fromhex(gateway.control.request(rid).ledger_id)
    assert gateway.ledger.require_valid_approval(ledger_id).votes == 2
    assert _score(actors, bank, rid, consent, id_number).status_code == 200


def test_a_rejected_request_is_refused(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.file(bank)
    r = actors.decide(actors.enrolled(1)[0], rid, "reject")
    assert r.json()["status"] == "rejected"
    assert (
        actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()["status"]
        == "rejected"
    )
    id_number = actors.world.ids[4]
    consent = actors.consent(actors.subject(id_number), bank_id)
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "approval_rejected")


def test_revocation_takes_effect_on_the_next_call(actors: Actors) -> None:
    bank, rid, consent, id_number = _setup(actors, 5)
    assert _score(actors, bank, rid, consent, id_number).status_code == 200
    r = actors.decide(actors.enrolled(3)[2], rid, "revoke")
    assert r.json()["status"] == "revoked"
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "approval_revoked")
    gateway = actors.http.app.state.gateway  # type: ignore[attr-defined]
    status = gateway.ledger.get_approval(
        bytes.fromhex(gateway.control.request(rid).ledger_id)
    ).status
    assert status.name == "REVOKED"


def test_expiry(actors: Actors) -> None:
    """Expiry is applied at read time (the embedded chain's clock may run ahead of wall
    time under load, so the window is moved instead of waiting for it)."""
    bank, rid, consent, id_number = _setup(actors, 6, valid_until=later(days=1))
    assert _score(actors, bank, rid, consent, id_number).status_code == 200
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with actors.control.sessions.begin() as s:
        s.execute(update(AccessRequest).where(AccessRequest.id == rid).values(valid_until=past))
    actors.written_behind(request_id=rid)
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "approval_expired")
    assert (
        actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()["status"]
        == "expired"
    )


def test_quota(actors: Actors) -> None:
    bank, rid, consent, id_number = _setup(actors, 7, quota=2)
    assert _score(actors, bank, rid, consent, id_number).status_code == 200
    assert _score(actors, bank, rid, consent, id_number).status_code == 200
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (429, "quota_exhausted")
    assert int(r.headers["Retry-After"]) >= 1


def test_wrong_hash_when_filing_and_when_the_definition_changed(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    body = request_body(actors.http, "morality_credit_score", computation_hash="0" * 64)
    r = actors.http.post("/v1/access-requests", json=body, headers=auth(bank))
    assert (r.status_code, r.json()["reason"]) == (422, "computation_hash_mismatch")
    bank, rid, consent, id_number = _setup(actors, 8)
    with actors.control.sessions.begin() as s:  # as if the catalogue entry had changed since
        s.execute(
            update(AccessRequest).where(AccessRequest.id == rid).values(computation_hash="1" * 64)
        )
    actors.written_behind(request_id=rid)
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "computation_hash_mismatch")


def test_wrong_purpose_and_wrong_bank(actors: Actors) -> None:
    bank, rid, consent, id_number = _setup(actors, 9)
    r = _score(actors, bank, rid, consent, id_number, purpose="post_loan_monitoring")
    assert (r.status_code, r.json()["reason"]) == (403, "wrong_purpose")
    _, other = actors.token(Role.BANK)
    r = _score(actors, other, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "approval_missing")
    r = _score(actors, bank, "ar_" + "0a" * 12, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "approval_missing")
    assert actors.http.get(f"/v1/access-requests/{rid}", headers=auth(other)).status_code == 404


def test_purpose_must_suit_the_computation(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    body = request_body(actors.http, "morality_credit_score", purpose="statistics")
    r = actors.http.post("/v1/access-requests", json=body, headers=auth(bank))
    assert (r.status_code, r.json()["reason"]) == (422, "purpose_not_allowed")
    body = request_body(actors.http, "grade_distribution_by_town")
    del body["epsilon"]
    r = actors.http.post("/v1/access-requests", json=body, headers=auth(bank))
    assert (r.status_code, r.json()["reason"]) == (422, "epsilon_only_for_aggregates")
    assert computation_hash(actors.http, "dimension_profile")


def test_an_aggregate_approval_does_not_answer_scores(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, "grade_distribution_by_town")
    id_number = actors.world.ids[10]
    consent = actors.consent(actors.subject(id_number), bank_id)
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "wrong_computation")


def test_quota_counts_are_written_behind_and_recovered_from_the_log(actors: Actors) -> None:
    bank, rid, consent, id_number = _setup(actors, 9, quota=3)
    assert _score(actors, bank, rid, consent, id_number).status_code == 200
    assert _score(actors, bank, rid, consent, id_number).status_code == 200
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    gw.control.flush_quotas()
    assert actors.control.request(rid).used == 2  # what another process reads
    # a crash before the next flush: the database lags behind the answers in the log
    with actors.control.sessions.begin() as s:
        s.execute(update(AccessRequest).where(AccessRequest.id == rid).values(used=0))
    rebuilt = AccessIndex(gw.audit.entry)
    rebuilt.scan(gw.audit.entries())
    assert rebuilt.answered[rid] == 2
    actors.control.reconcile_quotas(rebuilt.answered)
    assert actors.control.request(rid).used == 2
    assert _score(actors, bank, rid, consent, id_number).status_code == 200
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (429, "quota_exhausted")
    shown = actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()
    assert shown["used"] == 3
