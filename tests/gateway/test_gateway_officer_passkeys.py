"""Issue 14, officers: the operator (or anyone holding an officer's client secret) cannot
forge a vote. Every attack goes through the HTTP API against the real gateway and ledger;
on the code before this change each of them was accepted (a vote was ``{"decision":
"approve"}`` with an officer's bearer token, signed on the ledger by a gateway-held key)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from gateway_support import Actors, Officer, auth
from sqlalchemy import update

from dexin.officer_key import SoftwareKey, b64url, sign_decision
from governance.credentials import Role
from governance.models import OfficerInvite
from governance.passkeys import create_invite


def _votes_on_ledger(actors: Actors, rid: str) -> int:
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    return int(gw.ledger.get_approval(bytes.fromhex(gw.control.request(rid).ledger_id)).votes)


def _post_vote(actors: Actors, officer: Officer, rid: str, assertion: Any) -> Any:
    body = {"decision": "approve", "assertion": assertion}
    return actors.http.post(f"/v1/access-requests/{rid}/votes", json=body,
                            headers=auth(officer.token))  # fmt: skip


def _refused(r: Any, status: int, reason: str) -> None:
    assert (r.status_code, r.json().get("reason")) == (status, reason), r.text


def test_a_vote_without_an_assertion_is_refused(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.file(bank)
    officer = actors.enrolled(1)[0]
    r = actors.http.post(f"/v1/access-requests/{rid}/votes", json={"decision": "approve"},
                         headers=auth(officer.token))  # fmt: skip
    assert r.status_code == 422, r.text
    r = actors.http.post(f"/v1/access-requests/{rid}/revoke", headers=auth(officer.token))
    assert r.status_code == 422, r.text
    assert _votes_on_ledger(actors, rid) == 0


def test_an_officer_without_a_key_decides_nothing(actors: Actors) -> None:
    """The client secret alone (the bearer token it yields) is not enough."""
    _, bank = actors.token(Role.BANK)
    rid = actors.file(bank)
    token = actors.officers(1)[0]
    r = actors.http.post(f"/v1/access-requests/{rid}/decision-options",
                         json={"decision": "approve"}, headers=auth(token))  # fmt: skip
    _refused(r, 403, "no_officer_key")


def test_a_wrong_assertion_is_refused(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.file(bank)
    officer = actors.enrolled(1)[0]
    key, assertion, _ = sign_decision(actors.http, officer.key, officer.token, rid, "approve")
    officer.key = key
    # a key nobody registered, claiming this officer's credential id
    forger = dataclasses.replace(SoftwareKey.generate(key.rp_id, key.origin, officer.client_id),
                                 credential_id=key.credential_id, sign_count=key.sign_count + 5)  # fmt: skip
    challenge = _challenge(assertion)
    _, forged = forger.assertion(challenge)
    _refused(_post_vote(actors, officer, rid, forged), 403, "officer_signature_invalid")
    # the officer's own assertion, one byte of the signed client data changed
    tampered = _with(assertion, "clientDataJSON", _flip(assertion, "clientDataJSON"))
    _refused(_post_vote(actors, officer, rid, tampered), 403, "officer_signature_invalid")
    # a valid assertion over another decision (a rejection) offered as an approval
    officer.key, rejection, _ = sign_decision(actors.http, officer.key, officer.token, rid,
                                              "reject")  # fmt: skip
    _refused(_post_vote(actors, officer, rid, rejection), 403, "officer_signature_invalid")
    assert _votes_on_ledger(actors, rid) == 0
    assert _post_vote(actors, officer, rid, assertion).status_code == 200  # the genuine one
    assert _votes_on_ledger(actors, rid) == 1


def test_another_officers_assertion_is_refused(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.file(bank)
    first, second = actors.enrolled(2)
    first.key, assertion, _ = sign_decision(actors.http, first.key, first.token, rid, "approve")
    _refused(_post_vote(actors, second, rid, assertion), 403, "officer_signature_invalid")
    assert _votes_on_ledger(actors, rid) == 0


def test_a_replayed_assertion_is_refused(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid, other = actors.file(bank), actors.file(bank)
    officer = actors.enrolled(1)[0]
    officer.key, assertion, _ = sign_decision(actors.http, officer.key, officer.token, rid,
                                              "approve")  # fmt: skip
    assert _post_vote(actors, officer, rid, assertion).status_code == 200
    # the same bytes again: its sign counter was spent (the ledger would refuse it too:
    # one vote per officer, tests/contracts)
    _refused(_post_vote(actors, officer, rid, assertion), 403, "officer_signature_invalid")
    # the same assertion on another request: its challenge names the first one
    _refused(_post_vote(actors, officer, other, assertion), 403, "officer_signature_invalid")
    assert (_votes_on_ledger(actors, rid), _votes_on_ledger(actors, other)) == (1, 0)


def test_m_of_n_needs_distinct_officers(actors: Actors) -> None:
    """An officer with two keys is still one officer: the second vote is refused, and the
    request stays pending until another officer signs."""
    _, bank = actors.token(Role.BANK)
    rid = actors.file(bank)
    officer = actors.officer("officer-two-keys")
    invite = create_invite(actors.control.sessions, officer.client_id, "admin-test")
    from dexin.officer_key import enrol

    second_key = Officer(officer.client_id, officer.token, enrol(actors.http, invite))
    assert actors.decide(officer, rid, "approve").json()["status"] == "pending"
    _refused(actors.decide(second_key, rid, "approve"), 409, "already_voted")
    assert _votes_on_ledger(actors, rid) == 1
    other = actors.enrolled(1)[0]
    assert actors.decide(other, rid, "approve").json()["status"] == "approved"


def test_an_invite_enrols_once_and_expires(actors: Actors) -> None:
    from dexin.officer_key import OfficerClientError, enrol

    client_id, _ = actors.token(Role.OFFICER, "officer-invite")
    invite = create_invite(actors.control.sessions, client_id, "admin-test")
    enrol(actors.http, invite)
    for token in (invite, _expired(actors, client_id)):
        try:
            enrol(actors.http, token)
        except OfficerClientError as exc:
            assert exc.reason == "invite_invalid"
        else:
            raise AssertionError("an invite enrolled twice")


def test_the_gateway_holds_no_officer_key(actors: Actors) -> None:
    actors.approved(actors.token(Role.BANK)[1])
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    labels = gw.ledger._keys.labels()
    assert not [label for label in labels if label.startswith("officer")], labels


def test_an_officer_signs_in_to_the_console_with_a_passkey(actors: Actors) -> None:
    officer = actors.enrolled(1)[0]
    http = actors.http
    page = http.get("/console/enrol", headers={"accept": "text/html"})
    assert page.status_code == 200
    csrf = page.cookies.get("dexin_csrf") or http.cookies.get("dexin_csrf")
    headers = {"x-csrf-token": csrf or ""}
    started = http.post("/console/passkey/sign-in/options", json={}, headers=headers).json()
    from dexin.officer_key import unb64url

    officer.key, assertion = officer.key.assertion(unb64url(started["options"]["challenge"]))
    body = {"ceremony": started["ceremony"], "credential": assertion}
    r = http.post("/console/passkey/sign-in", json=body, headers=headers)
    assert r.status_code == 200 and r.json()["next"] == "/console/officer", r.text
    inbox = http.get("/console/officer", headers={"accept": "text/html"})
    assert inbox.status_code == 200 and 'id="my-keys"' in inbox.text
    again = http.post("/console/passkey/sign-in", json=body, headers=headers)  # used once
    assert again.status_code == 403 and again.json()["reason"] == "ceremony_invalid"
    http.cookies.clear()


def _challenge(assertion: dict[str, Any]) -> bytes:
    import json

    from dexin.officer_key import unb64url

    client_data = json.loads(unb64url(assertion["response"]["clientDataJSON"]))
    return unb64url(client_data["challenge"])


def _flip(assertion: dict[str, Any], field: str) -> str:
    from dexin.officer_key import unb64url

    raw = bytearray(unb64url(assertion["response"][field]))
    raw[-3] ^= 1
    return b64url(bytes(raw))


def _with(assertion: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    return assertion | {"response": assertion["response"] | {field: value}}


def _expired(actors: Actors, client_id: str) -> str:
    invite = create_invite(actors.control.sessions, client_id, "admin-test")
    from governance.passkeys import invite_hash

    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with actors.control.sessions.begin() as s:
        s.execute(update(OfficerInvite).where(OfficerInvite.token_hash == invite_hash(invite))
                  .values(expires_at=past))  # fmt: skip
    return invite
