"""`dexin_client`: a bank's whole journey on its own key (private_key_jwt, DPoP), with the
signature checked by the client."""

from __future__ import annotations

import pytest
from gateway_support import Actors

from dexin_client import ClientKey, DexinClient, GatewayProblem, SignatureError
from governance import parse_jwks
from governance.credentials import Role


def test_a_bank_uses_the_python_client(actors: Actors) -> None:
    key = ClientKey.generate()
    made = actors.control.create_client(Role.BANK, "client-bank", parse_jwks(key.public_jwks()))
    client = DexinClient("http://testserver", made.client_id, key=key, http=actors.http)
    actors.enrolled(2)  # m = 2: a request is filed only when two officers could decide it
    filed = client.request_access(
        "morality_credit_score",
        purpose="credit_assessment",
        valid_until="2030-01-01T00:00:00Z",
        quota=10,
    )
    assert filed["status"] == "pending"
    for officer in actors.enrolled(2):
        actors.decide(officer, filed["id"], "approve")
    assert client.access_request(filed["id"])["status"] == "approved"
    id_number = actors.world.ids[60]
    consent = actors.consent(actors.subject(id_number), made.client_id)
    answer = client.score(
        id_number, purpose="credit_assessment", access_request_id=filed["id"], consent_id=consent
    )
    assert answer.body["audit"]["index"] >= 0
    client.verify(answer.signature, answer.raw)
    with pytest.raises(SignatureError):
        client.verify(answer.signature, answer.raw + b" ")
    with pytest.raises(GatewayProblem) as caught:
        client.score(
            id_number,
            purpose="post_loan_monitoring",
            access_request_id=filed["id"],
            consent_id=consent,
        )
    assert (caught.value.status, caught.value.reason) == (403, "wrong_purpose")
