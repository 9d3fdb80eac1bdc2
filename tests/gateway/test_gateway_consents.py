"""Consent: withdrawal takes effect on the next call; expiry; the anchored consent log."""

from __future__ import annotations

import datetime as dt

from gateway_support import Actors, auth, later
from sqlalchemy import update

from governance.accesses import AccessIndex
from governance.credentials import Role
from governance.models import Consent
from ledger import AnchorKind


def _score(
    actors: Actors,
    bank: str,
    rid: str,
    consent: str,
    id_number: str,
    purpose: str = "credit_assessment",
):  # type: ignore[no-untyped-def]
    return actors.http.post(
        "/v1/scores",
        headers=auth(bank),
        json={
            "id_number": id_number,
            "purpose": purpose,
            "access_request_id": rid,
            "consent_id": consent,
        },
    )


def test_withdrawal_takes_effect_on_the_next_call(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK, "Yuyao Rural Bank")
    rid = actors.approved(bank)
    id_number = actors.world.ids[211]  # a resident no other test uses
    subject = actors.subject(id_number)
    consent = actors.consent(subject, bank_id)
    assert _score(actors, bank, rid, consent, id_number).status_code == 200
    assert actors.http.delete(f"/v1/consents/{consent}", headers=auth(subject)).status_code == 204
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "consent_withdrawn")
    again = actors.http.delete(f"/v1/consents/{consent}", headers=auth(subject))
    assert (again.status_code, again.json()["reason"]) == (409, "consent_already_withdrawn")
    mine = actors.http.get("/v1/consents", headers=auth(subject)).json()
    assert [c["status"] for c in mine if c["bank"] == bank_id] == [
        "withdrawn"
    ]  # others' tests use the resident too
    accesses = actors.http.get("/v1/me/accesses", headers=auth(subject)).json()
    assert [(a["bank"], a["computation"], a["purpose"]) for a in accesses] == [
        ("Yuyao Rural Bank", "morality_credit_score", "credit_assessment")
    ]


def test_a_consent_covers_one_subject_one_bank_one_purpose(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number, other_id = actors.world.ids[12], actors.world.ids[13]
    consent = actors.consent(actors.subject(id_number), bank_id)
    r = _score(actors, bank, rid, consent, other_id)
    assert (r.status_code, r.json()["reason"]) == (403, "consent_missing")
    other_bank_id, _ = actors.token(Role.BANK)
    foreign = actors.consent(actors.subject(id_number), other_bank_id)
    r = _score(actors, bank, rid, foreign, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "consent_missing")
    monitoring = actors.consent(actors.subject(id_number), bank_id, "post_loan_monitoring")
    r = _score(actors, bank, rid, monitoring, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "consent_wrong_purpose")
    with actors.control.sessions.begin() as s:
        s.execute(
            update(Consent)
            .where(Consent.id == consent)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    actors.written_behind(consent_id=consent)
    r = _score(actors, bank, rid, consent, id_number)
    assert (r.status_code, r.json()["reason"]) == (403, "consent_expired")


def test_only_the_subject_withdraws_and_only_for_a_real_bank(actors: Actors) -> None:
    bank_id, _ = actors.token(Role.BANK)
    consent = actors.consent(actors.subject(actors.world.ids[14]), bank_id)
    stranger = actors.subject(actors.world.ids[15])
    assert actors.http.delete(f"/v1/consents/{consent}", headers=auth(stranger)).status_code == 404
    officer_id, _ = actors.token(Role.OFFICER)
    r = actors.http.post(
        "/v1/consents",
        headers=auth(stranger),
        json={"bank": officer_id, "purpose": "credit_assessment", "expires_at": later(days=1)},
    )
    assert (r.status_code, r.json()["reason"]) == (422, "unknown_bank")


def test_consent_events_are_anchored(actors: Actors) -> None:
    bank_id, _ = actors.token(Role.BANK)
    subject = actors.subject(actors.world.ids[16])
    consent = actors.consent(subject, bank_id)
    actors.http.delete(f"/v1/consents/{consent}", headers=auth(subject))
    _, auditor = actors.token(Role.AUDITOR)
    log = actors.http.get("/v1/consent-log", headers=auth(auditor)).json()
    assert log["size"] >= 2 and log["last_anchor"]
    ledger = actors.http.app.state.gateway.ledger  # type: ignore[attr-defined]
    anchor = ledger.get_anchor(bytes.fromhex(log["root"]))
    assert (anchor.kind, anchor.size) == (AnchorKind.CONSENT_LOG, log["size"])


def test_who_accessed_me_is_read_from_the_audit_log(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK, "Cixi Credit Union")
    rid = actors.approved(bank)
    id_number = actors.world.ids[14]
    subject = actors.subject(id_number)
    consent = actors.consent(subject, bank_id)
    answers = [_score(actors, bank, rid, consent, id_number) for _ in range(2)]
    indices = [r.json()["audit"]["index"] for r in answers]
    seen = actors.http.get("/v1/me/accesses", headers=auth(subject)).json()
    assert [a["audit_index"] for a in seen] == indices
    assert {(a["bank"], a["bank_id"], a["access_request_id"]) for a in seen} == {
        ("Cixi Credit Union", bank_id, rid)
    }
    # a gateway starting afresh rebuilds the same view from nothing but the log's entries
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    rebuilt = AccessIndex(gw.audit.entry)
    rebuilt.scan(gw.audit.entries())
    pseudonym = gw.vault.subject_pseudonym(id_number)
    assert [a.index for a in rebuilt.of(pseudonym)] == indices
    assert rebuilt.of(pseudonym) == gw.accesses.of(pseudonym)
    # a refused call is no access
    assert _score(actors, bank, rid, consent, id_number, purpose="statistics").status_code == 403
    assert len(actors.http.get("/v1/me/accesses", headers=auth(subject)).json()) == 2
