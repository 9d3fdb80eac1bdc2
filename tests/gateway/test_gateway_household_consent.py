"""Issue 13, finding 1: a household score exposes members who never consented.

The attack, through the HTTP API: a bank approved for the household score and the person
score gets the applicant A's consent, asks for both, and derives the other adult B's five
dimensions as 2·H − A; B's veto, if B has one, rides along in the household's reasons. Now a
consent names what it covers (by default the person-level computations only), a household
answer uses only the members whose own consent covers it and says how many it left out, and
every member used sees the access in "who accessed me".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
import pytest
from gateway_support import Actors, auth, later, score_body

from governance.credentials import Role

HOUSEHOLD = "household_credit_score"
PERSON = "morality_credit_score"
BOTH = [HOUSEHOLD, PERSON]
MEMBER_ACTION = "POST /v1/scores (household member)"


@dataclass(frozen=True)
class Pair:
    """Two ID numbers of the only two scored adults of one household whose dimensions differ
    (by more than 1 point in some dimension); where the world has one, B has a veto and A
    none (the synthetic world is random: such a household is rare)."""

    a: str
    b: str


@pytest.fixture(scope="module")
def pair(app_client: Any, world: Any) -> Pair:
    """Found with test-side knowledge: the generator's residents file (who lives where) and
    each resident's own score."""
    from governance import own_score

    gw = app_client.app.state.gateway
    residents = pq.read_table(world.settings.home.parent / "data/public_security/residents.parquet")
    households: dict[str, list[str]] = defaultdict(list)
    for id_number, household in zip(*residents.select(["id_number", "household_id"]).to_pydict().values(), strict=True):  # fmt: skip
        households[household].append(id_number)
    found: list[tuple[bool, Pair]] = []
    for members in households.values():
        scores = {i: own_score(gw, world.vault.subject_pseudonym(i)) for i in members}
        scored = [i for i in members if scores[i]["no_score_reason"] is None]
        if len(scored) != 2:
            continue
        a, b = (scores[i] for i in scored)
        if max(abs(a["dimensions"][d] - b["dimensions"][d]) for d in a["dimensions"]) > 1.0:
            veto = bool(_vetoes(b["reason_codes"]) - _vetoes(a["reason_codes"]))
            found.append((veto, Pair(*scored)))
    assert found, "the synthetic world has no two-adult household"
    return max(found, key=lambda f: f[0])[1]


def _vetoes(reasons: list[dict[str, Any]]) -> set[str]:
    return {r["code"] for r in reasons if r["kind"] == "veto"}


def _consent(actors: Actors, id_number: str, bank_id: str, computations: list[str] | None) -> str:
    body: dict[str, Any] = {"bank": bank_id, "purpose": "credit_assessment",
                            "expires_at": later(days=30)}  # fmt: skip
    if computations is not None:
        body["computations"] = computations
    r = actors.http.post("/v1/consents", headers=auth(actors.subject(id_number)), json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@dataclass
class Bank:
    id: str
    token: str
    household: str  # access request approved for the household score
    person: str  # and for the person score


def _bank(actors: Actors) -> Bank:
    bank_id, token = actors.token(Role.BANK)
    return Bank(bank_id, token, actors.approved(token, HOUSEHOLD), actors.approved(token, PERSON))


def _score(actors: Actors, bank: Bank, id_number: str, request: str, consent: str) -> Any:
    return actors.http.post(
        "/v1/scores", headers=auth(bank.token), json=score_body(id_number, request, consent)
    )


def _accesses(actors: Actors, id_number: str, bank: Bank) -> list[dict[str, Any]]:
    r = actors.http.get("/v1/me/accesses", headers=auth(actors.subject(id_number)))
    assert r.status_code == 200, r.text
    return [a for a in r.json() if a["bank_id"] == bank.id]


def test_a_consent_given_without_naming_the_household_does_not_unlock_it(
    actors: Actors, pair: Pair
) -> None:
    bank = _bank(actors)
    consent = _consent(actors, pair.a, bank.id, None)  # the default: person-level only
    r = _score(actors, bank, pair.a, bank.household, consent)
    assert r.status_code == 403, "A's consent unlocked a score computed over B's data too"
    assert r.json()["reason"] == "consent_does_not_cover"
    assert _score(actors, bank, pair.a, bank.person, consent).status_code == 200


def test_the_other_members_dimensions_and_veto_cannot_be_derived(
    actors: Actors, pair: Pair
) -> None:
    bank = _bank(actors)
    consent = _consent(actors, pair.a, bank.id, BOTH)  # A agrees to both; B never consented
    household = _score(actors, bank, pair.a, bank.household, consent)
    person = _score(actors, bank, pair.a, bank.person, consent)
    assert household.status_code == person.status_code == 200, household.text
    h, a = household.json(), person.json()
    assert (h["members_used"], h["members_left_out"]) == (1, 1)
    derived = {d: 2 * h["dimensions"][d] - a["dimensions"][d] for d in a["dimensions"]}
    assert all(abs(derived[d] - a["dimensions"][d]) <= 0.03 for d in derived)  # A's own, no B
    own_b = _own_dimensions(actors, pair.b)
    assert max(abs(derived[d] - own_b[d]) for d in derived) > 1.0
    assert _vetoes(h["reason_codes"]) <= _vetoes(a["reason_codes"]), "B's veto reached the bank"
    assert _accesses(actors, pair.b, bank) == []  # nothing of B was used


def _own(actors: Actors, id_number: str) -> dict[str, Any]:
    """The subject's own score as the model has it (test-side knowledge)."""
    from governance import own_score

    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    return own_score(gw, actors.world.vault.subject_pseudonym(id_number))


def _own_dimensions(actors: Actors, id_number: str) -> dict[str, float]:
    found = _own(actors, id_number)["dimensions"]
    assert isinstance(found, dict)
    return found


def test_a_consenting_member_is_used_and_sees_the_access(actors: Actors, pair: Pair) -> None:
    bank = _bank(actors)
    consent_a = _consent(actors, pair.a, bank.id, BOTH)
    _consent(actors, pair.b, bank.id, None)  # B's own score only: still left out
    r = _score(actors, bank, pair.a, bank.household, consent_a)
    assert (r.json()["members_used"], r.json()["members_left_out"]) == (1, 1)
    consent_b = _consent(actors, pair.b, bank.id, [HOUSEHOLD])
    r = _score(actors, bank, pair.a, bank.household, consent_a)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["members_used"], body["members_left_out"]) == (2, 0)
    own_b = _own(actors, pair.b)["reason_codes"]
    assert _vetoes(own_b) <= _vetoes(body["reason_codes"])  # B agreed: B's vetoes count
    receipt = body["audit"]["index"]
    seen_by_a = [x["audit_index"] for x in _accesses(actors, pair.a, bank)]
    seen_by_b = [x for x in _accesses(actors, pair.b, bank)]
    assert receipt in seen_by_a
    assert [(x["computation"], x["access_request_id"]) for x in seen_by_b] == [
        (HOUSEHOLD, bank.household)
    ]
    _check_member_entry(actors, bank, seen_by_b[0]["audit_index"], receipt, consent_b, pair.b)


def _check_member_entry(
    actors: Actors, bank: Bank, index: int, receipt: int, consent: str, id_number: str
) -> None:
    """B's entry names B and B's consent; the bank that caused it cannot read it back (it
    names someone other than the applicant), an auditor can."""
    assert (
        actors.http.get(f"/v1/audit/entries/{index}", headers=auth(bank.token)).status_code == 404
    )
    assert (
        actors.http.get(f"/v1/audit/entries/{receipt}", headers=auth(bank.token)).status_code == 200
    )
    _, auditor = actors.token(Role.AUDITOR)
    member = actors.http.get(f"/v1/audit/entries/{index}", headers=auth(auditor)).json()
    first = actors.http.get(f"/v1/audit/entries/{receipt}", headers=auth(auditor)).json()
    assert member["action"] == MEMBER_ACTION and member["consent"] == consent
    assert member["subject"] == actors.world.vault.subject_pseudonym(id_number)
    assert (member["request_id"], member["result_digest"]) == (
        first["request_id"],
        first["result_digest"],
    )


def test_a_withdrawal_takes_the_member_out_of_the_next_answer(actors: Actors, pair: Pair) -> None:
    bank = _bank(actors)
    consent_a = _consent(actors, pair.a, bank.id, BOTH)
    consent_b = _consent(actors, pair.b, bank.id, [HOUSEHOLD])
    assert _score(actors, bank, pair.a, bank.household, consent_a).json()["members_used"] == 2
    r = actors.http.delete(f"/v1/consents/{consent_b}", headers=auth(actors.subject(pair.b)))
    assert r.status_code == 204
    after = _score(actors, bank, pair.a, bank.household, consent_a).json()
    assert (after["members_used"], after["members_left_out"]) == (1, 1)


def test_a_consent_names_only_subject_computations_offered_for_its_purpose(
    actors: Actors, pair: Pair
) -> None:
    bank_id, _ = actors.token(Role.BANK)
    token = actors.subject(pair.a)
    for computations, status, reason in (
        (["grade_distribution_by_town"], 422, "consent_computation_unknown"),
        (["no_such_computation"], 422, "consent_computation_unknown"),
    ):
        r = actors.http.post("/v1/consents", headers=auth(token), json={
            "bank": bank_id, "purpose": "credit_assessment", "expires_at": later(days=30),
            "computations": computations})  # fmt: skip
        assert (r.status_code, r.json().get("reason")) == (status, reason), r.text
    r = actors.http.post("/v1/consents", headers=auth(token), json={
        "bank": bank_id, "purpose": "credit_assessment", "expires_at": later(days=30),
        "computations": []})  # fmt: skip
    assert r.status_code == 422
    listed = actors.http.get("/v1/consents", headers=auth(token)).json()
    assert all(c["computations"] for c in listed)
