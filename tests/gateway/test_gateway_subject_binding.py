"""Issue 13, finding 8: a signed score did not say whom it was about.

The attack, through the HTTP API: a bank scores two applicants and presents A's signed score
as B's (to a court, an auditor, a partner bank). The signature verified either way, since the
signed body named no subject, bank or access request. Now the body names the bank and the
access request and carries ``subject_binding`` = HMAC-SHA256(key = consent id, message =
"dexin-subject-binding/v1" LF bank LF access request LF ID number), which a third party
shown the ID number and the consent (named by the audit entry at ``audit.index``) checks with
nothing of ours; the bank's client checks it on receipt.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from gateway_support import Actors, auth, score_body

from governance import parse_jwks
from governance.credentials import Role
from governance.signing import verify_detached


@dataclass
class Scored:
    bank: str
    token: str
    request: str
    consents: dict[str, str]  # ID number -> consent id
    answers: dict[str, httpx.Response]  # ID number -> the signed response


def _scored(actors: Actors, *people: str) -> Scored:
    bank_id, token = actors.token(Role.BANK)
    rid = actors.approved(token)
    consents = {p: actors.consent(actors.subject(p), bank_id) for p in people}
    answers = {
        p: actors.http.post("/v1/scores", headers=auth(token), json=score_body(p, rid, consents[p]))
        for p in people
    }
    assert all(r.status_code == 200 for r in answers.values())
    return Scored(bank_id, token, rid, consents, answers)


def _documented(consent: str, bank: str, request: str, id_number: str) -> str:
    """The binding as docs/api.md tells a third party to compute it (no code of ours)."""
    message = f"dexin-subject-binding/v1\n{bank}\n{request}\n{id_number}".encode()
    return hmac.new(consent.encode(), message, hashlib.sha256).hexdigest()


def test_a_signed_score_cannot_be_shown_as_another_persons(actors: Actors) -> None:
    """A court is shown A's signed score as B's, with B's ID number and consent (or A's
    consent): the signature verifies, and the binding says it is not B's."""
    a, b = actors.world.ids[80], actors.world.ids[81]
    s = _scored(actors, a, b)
    answer = s.answers[a]
    keys = actors.http.get("/v1/keys").json()
    verify_detached(answer.headers["Dexin-Signature"], answer.content, keys)
    body = answer.json()
    assert "subject_binding" in body, "the signed body does not say whom it is about"
    assert (body["bank"], body["access_request_id"]) == (s.bank, s.request)
    assert body["subject_binding"] == _documented(s.consents[a], s.bank, s.request, a)
    for consent in (s.consents[b], s.consents[a]):
        assert body["subject_binding"] != _documented(consent, s.bank, s.request, b)
    other_bank, _ = actors.token(Role.BANK)
    assert body["subject_binding"] != _documented(s.consents[a], other_bank, s.request, a)


def test_the_clients_check_is_the_documented_one(actors: Actors) -> None:
    from dexin_client import BindingError, check_binding

    a, b = actors.world.ids[86], actors.world.ids[87]
    s = _scored(actors, a)
    body = s.answers[a].json()
    check_binding(body, bank=s.bank, access_request_id=s.request, consent_id=s.consents[a],
                  id_number=a)  # fmt: skip
    for bank, request, id_number in ((s.bank, s.request, b), ("bank_other", s.request, a),
                                     (s.bank, "ar_" + "1b" * 12, a)):  # fmt: skip
        with pytest.raises(BindingError):
            check_binding(body, bank=bank, access_request_id=request,
                          consent_id=s.consents[a], id_number=id_number)  # fmt: skip


def test_the_consent_a_third_party_needs_is_named_by_the_audit_entry(actors: Actors) -> None:
    a = actors.world.ids[82]
    s = _scored(actors, a)
    body = s.answers[a].json()
    _, auditor = actors.token(Role.AUDITOR)
    for reader in (auditor, s.token):  # the bank's own receipt, or an auditor
        r = actors.http.get(f"/v1/audit/entries/{body['audit']['index']}", headers=auth(reader))
        assert r.status_code == 200 and r.json()["consent"] == s.consents[a]
        assert r.json()["request_id"] == body["request_id"]


def test_the_binding_reveals_neither_the_id_number_nor_the_consent(actors: Actors) -> None:
    """Whoever holds only the signed body cannot test guesses of the ID number: the key (the
    consent id, 96 random bits) is not in it."""
    a = actors.world.ids[83]
    s = _scored(actors, a)
    raw = s.answers[a].content.decode()
    assert a not in raw and s.consents[a] not in raw
    assert actors.world.vault.subject_pseudonym(a) not in raw


def _replaying(actors: Actors, swap: dict[str, httpx.Response]) -> httpx.Client:
    """A transport to the real gateway that answers ``POST /v1/scores`` for the ID number
    in ``swap`` with another genuinely signed response (a gateway, or a proxy, that mixes
    up answers)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/scores":
            asked = httpx.Response(200, content=request.content).json()["id_number"]
            if asked in swap:
                kept = swap[asked]
                return httpx.Response(200, headers=dict(kept.headers), content=kept.content)
        r = actors.http.request(request.method, request.url.path, params=request.url.params,
                                headers=dict(request.headers), content=request.content)  # fmt: skip
        return httpx.Response(r.status_code, headers=dict(r.headers), content=r.content)

    return httpx.Client(base_url="http://testserver", transport=httpx.MockTransport(handle))


def test_the_banks_client_refuses_a_genuinely_signed_score_about_someone_else(
    actors: Actors,
) -> None:
    from dexin_client import BindingError, ClientKey, DexinClient

    a, b = actors.world.ids[84], actors.world.ids[85]
    key = ClientKey.generate()
    made = actors.control.create_client(Role.BANK, "binding-bank", parse_jwks(key.public_jwks()))
    # over the session's test client, which must stay open: no `with` here
    honest = DexinClient("http://testserver", made.client_id, key=key, http=actors.http)
    rid = _approved_for(actors, honest)
    consents = {p: actors.consent(actors.subject(p), made.client_id) for p in (a, b)}
    kept = honest.score(b, purpose="credit_assessment", access_request_id=rid,
                        consent_id=consents[b])  # fmt: skip
    swap = {a: httpx.Response(200, headers={"Dexin-Signature": kept.signature}, content=kept.raw)}
    with DexinClient("http://testserver", made.client_id, key=key,
                     http=_replaying(actors, swap)) as client:  # fmt: skip
        client.verify(kept.signature, kept.raw)  # genuinely signed by the gateway
        with pytest.raises(BindingError):
            client.score(a, purpose="credit_assessment", access_request_id=rid,
                         consent_id=consents[a])  # fmt: skip


def _approved_for(actors: Actors, client: Any) -> str:
    filed: dict[str, Any] = client.request_access(
        "morality_credit_score", purpose="credit_assessment",
        valid_until="2030-01-01T00:00:00Z", quota=10,
    )  # fmt: skip
    for officer in actors.enrolled(2):  # officers vote with their own keys (issue 14)
        r = actors.decide(officer, filed["id"], "approve")
        assert r.status_code == 200, r.text
    return str(filed["id"])
