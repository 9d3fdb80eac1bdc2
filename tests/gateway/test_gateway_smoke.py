"""The happy path end to end: token, request, two approvals, consent, a signed score."""

from __future__ import annotations

from gateway_support import Actors, auth, score_body

from governance.credentials import Role
from governance.signing import verify_detached


def test_a_bank_gets_a_signed_score_for_a_consenting_subject(actors: Actors) -> None:
    http = actors.http
    bank_id, bank = actors.token(Role.BANK, "yuyao-rural-bank")
    rid = actors.approved(bank)
    id_number = actors.world.ids[0]
    subject = actors.subject(id_number)
    consent = actors.consent(subject, bank_id)
    r = http.post(
        "/v1/scores",
        headers=auth(bank),
        json=score_body(id_number, rid, consent),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["computation"] == "morality_credit_score"
    assert body["model"].startswith("wuweitu")
    assert body["audit"]["index"] >= 0
    assert id_number not in r.text
    verify_detached(r.headers["Dexin-Signature"], r.content, http.get("/v1/keys").json())
