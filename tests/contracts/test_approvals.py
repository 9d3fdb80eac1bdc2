"""Approvals: m of n distinct officers, each decision signed by a registered key; rejection,
revocation, expiry."""

from __future__ import annotations

import os
import time

import pytest
from contract_officers import Officer, register

from ledger import (
    ApprovalNotValidError,
    ApprovalStatus,
    ApprovalTerms,
    ContractRevertError,
    Decision,
    MissingRoleError,
)
from ledger.client import Web3Ledger

APPROVE, REJECT, REVOKE = Decision.APPROVE, Decision.REJECT, Decision.REVOKE


def _terms(start: int | None = None, end: int | None = None) -> ApprovalTerms:
    now = int(time.time())
    return ApprovalTerms(
        requester="bank:yuyao-rural",
        computation_id="score.v1",
        content_hash=os.urandom(32),
        scope=os.urandom(32),
        purpose=3,
        quota=500,
        valid_from=now - 60 if start is None else start,
        valid_until=now + 3600 if end is None else end,
    )


def _request(ledger: Web3Ledger, terms: ApprovalTerms | None = None) -> bytes:
    approval_id = os.urandom(32)
    ledger.request_approval(approval_id, terms or _terms())
    return approval_id


@pytest.fixture
def officers(ledger: Web3Ledger) -> dict[str, Officer]:
    return {name: register(ledger, name) for name in ("alice", "bob", "carol")}


def _vote(ledger: Web3Ledger, approval_id: bytes, officer: Officer) -> None:
    ledger.vote(approval_id, officer.sign(approval_id, APPROVE))


def test_terms_round_trip(ledger: Web3Ledger) -> None:
    terms = _terms()
    approval_id = _request(ledger, terms)
    approval = ledger.get_approval(approval_id)
    assert approval.terms == terms
    assert (approval.status, approval.votes, approval.threshold) == (ApprovalStatus.PENDING, 0, 1)


def test_m_distinct_officers_approve(ledger: Web3Ledger, officers: dict[str, Officer]) -> None:
    ledger.set_approval_threshold(2)
    approval_id = _request(ledger)
    _vote(ledger, approval_id, officers["alice"])
    assert ledger.get_approval(approval_id).status == ApprovalStatus.PENDING
    with pytest.raises(ApprovalNotValidError):
        ledger.require_valid_approval(approval_id)
    with pytest.raises(ContractRevertError) as caught:
        _vote(ledger, approval_id, officers["alice"])
    assert caught.value.error == "AlreadyVoted"
    _vote(ledger, approval_id, officers["bob"])
    approval = ledger.require_valid_approval(approval_id)
    assert (approval.status, approval.votes) == (ApprovalStatus.APPROVED, 2)
    assert ledger._call("isValid", approval_id) is True


def test_threshold_is_fixed_when_requested(
    ledger: Web3Ledger, officers: dict[str, Officer]
) -> None:
    approval_id = _request(ledger)
    ledger.set_approval_threshold(3)
    _vote(ledger, approval_id, officers["carol"])
    assert ledger.get_approval(approval_id).status == ApprovalStatus.APPROVED


def test_threshold_must_be_between_one_and_the_officer_count(ledger: Web3Ledger) -> None:
    for bad in (0, 4):
        with pytest.raises(ContractRevertError) as caught:
            ledger.set_approval_threshold(bad)
        assert caught.value.error == "InvalidThreshold"


def test_one_rejection_ends_a_request(ledger: Web3Ledger, officers: dict[str, Officer]) -> None:
    approval_id = _request(ledger)
    ledger.reject(approval_id, 17, officers["bob"].sign(approval_id, REJECT))
    approval = ledger.get_approval(approval_id)
    assert (approval.status, approval.reason) == (ApprovalStatus.REJECTED, 17)
    with pytest.raises(ContractRevertError) as caught:
        _vote(ledger, approval_id, officers["alice"])
    assert caught.value.error == "NotPending"


def test_revoked_approval_is_no_longer_valid(
    ledger: Web3Ledger, officers: dict[str, Officer]
) -> None:
    approval_id = _request(ledger)
    _vote(ledger, approval_id, officers["alice"])
    revocation = officers["carol"].sign(approval_id, REVOKE)
    ledger.revoke_approval(approval_id, 9, revocation)
    with pytest.raises(ApprovalNotValidError) as caught:
        ledger.require_valid_approval(approval_id)
    assert caught.value.status == "REVOKED"
    with pytest.raises(ContractRevertError) as again:
        ledger.revoke_approval(approval_id, 9, revocation)
    assert again.value.error == "NotRevocable"


def test_a_past_window_reads_expired_and_refuses_votes(
    ledger: Web3Ledger, officers: dict[str, Officer]
) -> None:
    now = int(time.time())
    approval_id = _request(ledger, _terms(now - 7200, now - 3600))
    assert ledger.get_approval(approval_id).status == ApprovalStatus.EXPIRED
    with pytest.raises(ContractRevertError) as caught:
        _vote(ledger, approval_id, officers["alice"])
    assert caught.value.error == "ApprovalExpired"


def test_wall_clock_window_is_enforced_off_chain(
    ledger: Web3Ledger, officers: dict[str, Officer]
) -> None:
    terms = _terms()
    approval_id = _request(ledger, terms)
    _vote(ledger, approval_id, officers["alice"])
    ledger.require_valid_approval(approval_id, now=terms.valid_from)
    for outside in (terms.valid_from - 1, terms.valid_until + 1):
        with pytest.raises(ApprovalNotValidError) as caught:
            ledger.require_valid_approval(approval_id, now=outside)
        assert caught.value.status == "OUTSIDE_WINDOW"


def test_only_gateway_or_officer_requests_and_sends_signed_decisions(
    ledger: Web3Ledger, officers: dict[str, Officer]
) -> None:
    with pytest.raises(MissingRoleError):
        ledger.request_approval(os.urandom(32), _terms(), signer="provider")
    approval_id = _request(ledger)
    ledger.request_approval(os.urandom(32), _terms(), signer="alice")
    signed = officers["alice"].sign(approval_id, APPROVE)
    for label in ("provider", "admin", "auditor"):
        with pytest.raises(MissingRoleError) as caught:
            ledger.vote(approval_id, signed, signer=label)
        assert caught.value.required == "GATEWAY"
    ledger.vote(approval_id, signed, signer="bob")  # an officer's own account may send it too
    assert ledger.get_approval(approval_id).votes == 1


def test_bad_requests_are_refused(ledger: Web3Ledger) -> None:
    approval_id = _request(ledger)
    with pytest.raises(ContractRevertError) as exists:
        ledger.request_approval(approval_id, _terms())
    assert exists.value.error == "ApprovalExists"
    now = int(time.time())
    with pytest.raises(ContractRevertError) as window:
        ledger.request_approval(os.urandom(32), _terms(now, now))
    assert window.value.error == "InvalidTerms"
    with pytest.raises(ContractRevertError) as unknown:
        ledger.get_approval(os.urandom(32))
    assert unknown.value.error == "UnknownApproval"
