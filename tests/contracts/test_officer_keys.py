"""Officers' keys on the ledger, and the contract's own check of every signed decision."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from contract_officers import Officer, register

from dexin.officer_key import SoftwareKey
from ledger import (
    ApprovalTerms,
    ContractRevertError,
    Decision,
    MissingRoleError,
    Role,
    assertion_digest,
    credential_hash,
    decision_challenge,
    officer_address,
)
from ledger.client import Web3Ledger

APPROVE, REJECT, REVOKE = Decision.APPROVE, Decision.REJECT, Decision.REVOKE


def _request(ledger: Web3Ledger) -> tuple[bytes, ApprovalTerms]:
    now = int(time.time())
    terms = ApprovalTerms("bank:yuyao-rural", "score.v1", os.urandom(32), os.urandom(32), 3,
                          500, now - 60, now + 3600)  # fmt: skip
    approval_id = os.urandom(32)
    ledger.request_approval(approval_id, terms)
    return approval_id, terms


def _refused(error: str, call: object, *args: object) -> None:
    with pytest.raises(ContractRevertError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.error == error, caught.value.details


@pytest.fixture
def alice(ledger: Web3Ledger) -> Officer:
    return register(ledger, "alice")


def test_a_key_is_registered_once_with_who_and_when(ledger: Web3Ledger, alice: Officer) -> None:
    key = ledger.officer_key(credential_hash(alice.key.credential_id))
    assert (key.officer, key.invited_by, key.revoked) == (
        ledger.identity("alice").address, "admin-test", False)  # fmt: skip
    assert key.registered_by == ledger.identity("admin").address and key.registered_block > 0
    assert (key.x, key.y) == alice.key.public_xy()
    x, y = SoftwareKey.generate("r", "o", "c").public_xy()
    # the same credential cannot be given another key: a swap would need a new credential
    _refused("OfficerKeyExists", ledger.register_officer_key, alice.key.credential_id,
             key.officer, x, y, "admin-test")  # fmt: skip
    _refused("InvalidOfficerKey", ledger.register_officer_key, os.urandom(16), key.officer,
             x, bytes(32), "admin-test")  # fmt: skip
    with pytest.raises(MissingRoleError):  # only officers get keys
        ledger.register_officer_key(os.urandom(16), ledger.identity("provider").address, x, y,
                                    "admin-test")  # fmt: skip
    with pytest.raises(MissingRoleError):  # only an admin registers them
        ledger._transact("gateway", "registerOfficerKey", os.urandom(32), key.officer, x, y,
                         bytes(32))  # fmt: skip


def test_the_challenge_computed_off_chain_is_the_contracts(ledger: Web3Ledger) -> None:
    approval_id, terms = _request(ledger)
    for decision in Decision:
        off_chain = decision_challenge(approval_id, decision, terms, ledger._sender.chain_id,
                                       ledger.contract_address)  # fmt: skip
        assert off_chain == ledger.decision_challenge(approval_id, decision)
    _refused("UnknownApproval", ledger.decision_challenge, os.urandom(32), APPROVE)


def test_a_vote_is_counted_only_with_a_valid_assertion(ledger: Web3Ledger, alice: Officer) -> None:
    ledger.set_approval_threshold(2)
    approval_id, _ = _request(ledger)
    other, _ = _request(ledger)
    good = alice.sign(approval_id, APPROVE)
    # another approval's assertion, or the same approval's rejection, is not a vote here
    _refused("InvalidOfficerSignature", ledger.vote, approval_id, alice.sign(other, APPROVE))
    _refused("InvalidOfficerSignature", ledger.vote, approval_id, alice.sign(approval_id, REJECT))
    # a flipped bit of the signed data, or the user-verified flag cleared
    flipped = bytearray(good.client_data_json)
    flipped[-3] ^= 1
    _refused("InvalidOfficerSignature", ledger.vote, approval_id,
             dataclasses.replace(good, client_data_json=bytes(flipped)))  # fmt: skip
    no_uv = bytearray(good.authenticator_data)
    no_uv[32] &= ~0x04
    _refused("InvalidOfficerSignature", ledger.vote, approval_id,
             dataclasses.replace(good, authenticator_data=bytes(no_uv)))  # fmt: skip
    # someone else's key claiming alice's credential
    mallory = SoftwareKey.generate(alice.key.rp_id, alice.key.origin, "mallory")
    mallory = dataclasses.replace(mallory, credential_id=alice.key.credential_id)
    forged = Officer("mallory", mallory, ledger).sign(approval_id, APPROVE)
    _refused("InvalidOfficerSignature", ledger.vote, approval_id, forged)
    # a key nobody registered
    stranger = Officer("stranger", SoftwareKey.generate("r", "o", "s"), ledger)
    _refused("UnknownOfficerKey", ledger.vote, approval_id, stranger.sign(approval_id, APPROVE))
    assert ledger.get_approval(approval_id).votes == 0
    receipt = ledger.vote(approval_id, good)
    assert ledger.get_approval(approval_id).votes == 1
    print(f"gas of a signed vote: {receipt.gas_used}")
    assert receipt.gas_used < 1_000_000  # P-256 in Solidity fits a vote's gas limit
    _refused("AlreadyVoted", ledger.vote, approval_id, good)  # a replay


def test_the_signed_decision_is_on_the_ledger_for_anyone(
    ledger: Web3Ledger, alice: Officer
) -> None:
    approval_id, _ = _request(ledger)
    signed = alice.sign(approval_id, APPROVE)
    receipt = ledger.vote(approval_id, signed)
    (event,) = [e for e in ledger.events(receipt.block_number) if e.name == "OfficerDecision"]
    assert event.args["id"] == approval_id and event.args["decision"] == APPROVE
    assert event.args["officer"] == ledger.identity("alice").address
    assert event.args["digest"] == assertion_digest(signed)
    kept = event.args["assertion"]
    assert kept["authenticatorData"] == signed.authenticator_data
    assert kept["clientDataJSON"] == signed.client_data_json.decode()


def test_two_keys_of_one_officer_are_one_vote(ledger: Web3Ledger, alice: Officer) -> None:
    ledger.set_approval_threshold(2)
    second = register(ledger, "alice")
    approval_id, _ = _request(ledger)
    ledger.vote(approval_id, alice.sign(approval_id, APPROVE))
    _refused("AlreadyVoted", ledger.vote, approval_id, second.sign(approval_id, APPROVE))


def test_a_revoked_key_or_a_former_officer_decides_nothing(
    ledger: Web3Ledger, alice: Officer
) -> None:
    bob = register(ledger, "bob")
    approval_id, _ = _request(ledger)
    ledger.revoke_officer_key(alice.key.credential_id)
    _refused("OfficerKeyRevoked", ledger.vote, approval_id, alice.sign(approval_id, APPROVE))
    _refused("OfficerKeyRevoked", ledger.revoke_officer_key, alice.key.credential_id)
    ledger.revoke_role("bob")
    with pytest.raises(MissingRoleError):
        ledger.vote(approval_id, bob.sign(approval_id, APPROVE))
    ledger.reject(approval_id, 1, register(ledger, "carol").sign(approval_id, REJECT))


def test_keyless_officer_addresses(ledger: Web3Ledger) -> None:
    address = ledger.register_officer("officer_0123456789abcdef")
    assert address == officer_address("officer_0123456789abcdef")
    assert ledger.role_of(address) == Role.OFFICER
    assert ledger.register_officer("officer_0123456789abcdef") == address  # idempotent
