"""A Python client for banks and providers (and other clients) of the Dexin query gateway.

Installable on its own (``pip install ./clients/python``: it needs ``httpx`` and
``cryptography``, nothing of the server). A bank holds its own key::

    key = ClientKey.generate()                      # once, on the bank's machine
    # the admin registers key.public_jwks() (dexin admin create-client --role bank --jwks)
    key.save(Path("bank.key.json"), client_id="bank_…")          # 0600

    client = DexinClient.from_key_file("https://gateway.example", Path("bank.key.json"))
    request = client.request_access("morality_credit_score", purpose="credit_assessment",
                                    valid_until="2027-06-30T00:00:00Z", quota=1000)
    # ... officers approve; the applicant consents and hands over the consent id ...
    score = client.score(id_number, purpose="credit_assessment",
                         access_request_id=request["id"], consent_id=consent_id)

Every call is authenticated FAPI 2.0 style: a client assertion signed with the key
(``private_key_jwt``, RFC 7523) for the token, and a DPoP proof (RFC 9449) on every request,
so the token is bound to the key. `score` verifies the response's detached JWS against the
gateway's published JWKS (`SignatureError` otherwise), then that the signed body is about
what was asked: this bank, this access request and this ID number (`subject_binding`;
`BindingError` otherwise), and returns the body with its signature, so the bank can keep
both and prove later what it was told. Scores and aggregates carry an ``Idempotency-Key``
and are retried safely. A provider submits signed contributions with `DexinClient.contribute`
and gets a receipt the gateway signed (`SignedReceipt`). Errors are `GatewayProblem`
carrying the RFC 9457 fields.
"""

from __future__ import annotations

from dexin_client._jose import SignatureError, verify_detached
from dexin_client.binding import BindingError, check_binding, subject_binding
from dexin_client.client import DexinClient, GatewayProblem, SignedAnswer
from dexin_client.contributions import (
    PreparedContribution,
    ReceiptError,
    SignedReceipt,
    count_rows,
    prepare_contribution,
    verified_receipt,
)
from dexin_client.keys import ClientKey, KeyFileError

__all__ = [
    "BindingError",
    "ClientKey",
    "DexinClient",
    "GatewayProblem",
    "KeyFileError",
    "PreparedContribution",
    "ReceiptError",
    "SignatureError",
    "SignedAnswer",
    "SignedReceipt",
    "check_binding",
    "count_rows",
    "prepare_contribution",
    "subject_binding",
    "verified_receipt",
    "verify_detached",
]
