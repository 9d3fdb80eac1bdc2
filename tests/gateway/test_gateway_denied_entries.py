"""Issue 13, finding 7: what a bank learns without approval or consent.

The attack, through the HTTP API: a bank with no approval (or no consent) posts
``/v1/scores`` for an ID number of its choice and reads back its own audit entry, denied as
it is: the entry used to carry the subject's pseudonym, HMAC(ID number), so the bank could
pseudonymise any ID number it liked. Now no denied entry carries anything derived from the ID
number, whatever step refused it; every field left is the bank's own input, the time, or
the refusal's reason (which the response already said).
"""

from __future__ import annotations

import json
from typing import Any

from gateway_support import Actors, auth, score_body

from governance.credentials import Role

UNKNOWN_REQUEST = "ar_" + "0a" * 12
UNKNOWN_CONSENT = "cs_" + "0a" * 12
# what a denied entry may show its requester: who, what, when, its own inputs, the reason
ALLOWED_VALUES = {"v", "index", "time", "actor", "role", "action", "decision", "reason",
                  "request_id", "computation", "purpose", "access_request", "consent"}  # fmt: skip


def _own_entry(actors: Actors, token: str, request_id: str) -> tuple[dict[str, Any], bytes]:
    """The entry the bank's request left, read back by the bank through the API (the test
    knows only where to look: the log's size)."""
    size = actors.http.app.state.gateway.audit.log.size  # type: ignore[attr-defined]
    for index in range(size - 1, max(size - 40, 0) - 1, -1):
        r = actors.http.get(f"/v1/audit/entries/{index}", headers=auth(token))
        if r.status_code == 200 and r.json()["request_id"] == request_id:
            return r.json(), r.content
    raise AssertionError("the bank cannot read its own entry back")


def _denied(actors: Actors, token: str, body: dict[str, str], reason: str) -> None:
    """Post ``body``, expect the refusal ``reason``, and check the entry the bank reads back
    carries nothing derived from the ID number."""
    r = actors.http.post("/v1/scores", headers=auth(token), json=body)
    assert r.status_code in (403, 422, 429), r.text
    assert r.json()["reason"] == reason
    entry, raw = _own_entry(actors, token, r.json()["request_id"])
    assert entry["decision"] == "deny" and entry["reason"] == reason
    assert entry["subject"] is None, "a denied entry names the subject's pseudonym"
    assert entry["result_digest"] is None
    if _well_formed(body["id_number"]):
        assert actors.world.vault.subject_pseudonym(body["id_number"]).encode() not in raw
    assert body["id_number"].encode() not in raw
    assert {k for k, v in entry.items() if v is not None} <= ALLOWED_VALUES
    assert entry["consent"] in (None, body["consent_id"])  # its own input, never another's
    assert json.loads(raw) == entry


def _well_formed(id_number: str) -> bool:
    from vault.idnumber import problem

    return problem(id_number) is None


def test_without_an_approval_a_bank_learns_nothing_of_the_subject(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    id_number = actors.world.ids[70]
    _denied(actors, bank, score_body(id_number, UNKNOWN_REQUEST, UNKNOWN_CONSENT),
            "approval_missing")  # fmt: skip
    pending = actors.file(bank)
    _denied(actors, bank, score_body(id_number, pending, UNKNOWN_CONSENT), "approval_pending")


def test_without_an_approval_even_a_malformed_id_number_is_only_policy_denied(
    actors: Actors,
) -> None:
    """The check digit is public arithmetic, but a bank without an approval is not even told
    whether its input was well formed: approval comes first."""
    _, bank = actors.token(Role.BANK)
    good = actors.world.ids[71]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    _denied(actors, bank, score_body(bad, UNKNOWN_REQUEST, UNKNOWN_CONSENT), "approval_missing")


def test_with_an_approval_but_no_consent_a_bank_learns_nothing_of_the_subject(
    actors: Actors,
) -> None:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    stranger, applicant = actors.world.ids[72], actors.world.ids[73]
    _denied(actors, bank, score_body(stranger, rid, UNKNOWN_CONSENT), "consent_missing")
    consent = actors.consent(actors.subject(applicant), bank_id)
    # the applicant's consent, presented for someone else
    _denied(actors, bank, score_body(stranger, rid, consent), "consent_missing")
    r = actors.http.delete(f"/v1/consents/{consent}", headers=auth(actors.subject(applicant)))
    assert r.status_code == 204
    _denied(actors, bank, score_body(applicant, rid, consent), "consent_withdrawn")


def test_a_refusal_after_the_consent_holds_names_no_subject_either(actors: Actors) -> None:
    """The quota is spent only when approval and consent hold; its refusal is a denied entry
    like any other, so it names no subject either."""
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, quota=1)
    id_number = actors.world.ids[74]
    consent = actors.consent(actors.subject(id_number), bank_id)
    first = actors.http.post(
        "/v1/scores", headers=auth(bank), json=score_body(id_number, rid, consent)
    )
    assert first.status_code == 200, first.text
    _denied(actors, bank, score_body(id_number, rid, consent), "quota_exhausted")
