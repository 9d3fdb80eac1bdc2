"""Officer-held software keys registered on a test deployment, and signed decisions."""

from __future__ import annotations

from dataclasses import dataclass, field

from dexin.officer_key import SoftwareKey, signed_decision
from ledger import Decision, SignedDecision
from ledger.client import Web3Ledger

RP_ID, ORIGIN = "dexin.test", "https://dexin.test"


@dataclass
class Officer:
    """An officer account of the test deployment and the key it holds."""

    label: str
    key: SoftwareKey
    ledger: Web3Ledger = field(repr=False)

    def sign(self, approval_id: bytes, decision: Decision) -> SignedDecision:
        challenge = self.ledger.decision_challenge(approval_id, decision)
        self.key, credential = self.key.assertion(challenge)
        return signed_decision(credential)


def register(ledger: Web3Ledger, label: str) -> Officer:
    """Give the officer account ``label`` a fresh key, registered on the ledger."""
    key = SoftwareKey.generate(RP_ID, ORIGIN, label)
    x, y = key.public_xy()
    address = ledger.identity(label).address
    ledger.register_officer_key(key.credential_id, address, x, y, "admin-test")
    return Officer(label, key, ledger)
