"""Approvals: m of n distinct officers, rejection, revocation, expiry."""

from __future__ import annotations

import os
import time

import pytest

from ledger import (
    ApprovalNotValidError,
    ApprovalStatus,
    ApprovalTerms,
    ContractRevertError,
    MissingRoleError,
)
from ledger.client import Web3Ledger


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


def test_terms_round_trip(ledger: Web3Ledger) -> None:
    terms = _terms()
    approval_id = _request(ledger, terms)
    approval = ledger.get_approval(approval_id)
    assert approval.terms == terms
    assert (approval.status, approval.votes, approval.threshold) == (ApprovalStatus.PENDING, 0, 1)


def test_m_distinct_officers_approve(ledger: Web3Ledger) -> None:
    ledger.set_approval_threshold(2)
    approval_id = _request(ledger)
    ledger.vote(approval_id, officer="alice")
    assert ledger.get_approval(approval_id).status == ApprovalStatus.PENDING
    with pytest.raises(ApprovalNotValidError):
        ledger.require_valid_approval(approval_id)
    with pytest.raises(ContractRevertError) as caught:
        ledger.vote(approval_id, officer="alice")
    assert caught.value.error == "AlreadyVoted"
    ledger.vote(approval_id, officer="bob")
    approval = ledger.require_valid_approval(approval_id)
    assert (approval.status, approval.votes) == (ApprovalStatus.APPROVED, 2)
    assert ledger._call("isValid", approval_id) is True


def test_threshold_is_fixed_when_requested(ledger: Web3Ledger) -> None:
    approval_id = _request(ledger)
    ledger.set_approval_threshold(3)
    ledger.vote(approval_id, officer="carol")
    assert ledger.get_approval(approval_id).status == ApprovalStatus.APPROVED


def test_threshold_must_be_between_one_and_the_officer_count(ledger: Web3Ledger) -> None:
    for bad in (0, 4):
        with pytest.raises(ContractRevertError) as caught:
            ledger.set_approval_threshold(bad)
        assert caught.value.error == "InvalidThreshold"


def test_one_rejection_ends_a_request(ledger: Web3Ledger) -> None:
    approval_id = _request(ledger)
    ledger.reject(approval_id, 17, officer="bob")
    approval = ledger.get_approval(approval_id)
    assert (approval.status, approval.reason) == (ApprovalStatus.REJECTED, 17)
    with pytest.raises(ContractRevertError) as caught:
        ledger.vote(approval_id, officer="alice")
    assert caught.value.error == "NotPending"


def test_revoked_approval_is_no_longer_valid(ledger: Web3Ledger) -> None:
    approval_id = _request(ledger)
    ledger.vote(approval_id, officer="alice")
    ledger.revoke_approval(approval_id, 9, officer="carol")
    with pytest.raises(ApprovalNotValidError) as caught:
        ledger.require_valid_approval(approval_id)
    assert caught.value.status == "REVOKED"
    with pytest.raises(ContractRevertError) as again:
        ledger.revoke_approval(approval_id, 9, officer="carol")
    assert again.value.error == "NotRevocable"


def test_a_past_window_reads_expired_and_refuses_votes(ledger: Web3Ledger) -> None:
    now = int(time.time())
    approval_id = _request(ledger, _terms(now - 7200, now - 3600))
    assert ledger.get_approval(approval_id).status == ApprovalStatus.EXPIRED
    with pytest.raises(ContractRevertError) as caught:
        ledger.vote(approval_id, officer="alice")
    assert caught.value.error == "ApprovalExpired"


def test_wall_clock_window_is_enforced_off_chain(ledger: Web3Ledger) -> None:
    terms = _terms()
    approval_id = _request(ledger, terms)
    ledger.vote(approval_id, officer="alice")
    ledger.require_valid_approval(approval_id, now=terms.valid_from)
    for outside in (terms.valid_from - 1, terms.valid_until + 1):
        with pytest.raises(ApprovalNotValidError) as caught:
            ledger.require_valid_approval(approval_id, now=outside)
        assert caught.value.status == "OUTSIDE_WINDOW"


def test_only_gateway_or_officer_requests_and_only_officers_vote(ledger: Web3Ledger) -> None:
    with pytest.raises(MissingRoleError):
        ledger.request_approval(os.urandom(32), _terms(), signer="provider")
    approval_id = _request(ledger)
    ledger.request_approval(os.urandom(32), _terms(), signer="alice")
    for label in ("gateway", "admin", "auditor"):
        with pytest.raises(MissingRoleError) as caught:
            ledger.vote(approval_id, officer=label)
        assert caught.value.required == "OFFICER"
    with pytest.raises(MissingRoleError):
        ledger.revoke_approval(approval_id, 1, officer="gateway")


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
