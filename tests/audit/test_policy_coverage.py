"""`RecordedPolicy`: an allowed access needs a consent that covers its computation (issue 13,
finding 1), when the consent record says what it covers; records that do not say are not
judged on it (caller-supplied files from before consents named computations)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from audit.entry import AuditEntry
from audit.errors import PolicyViolation
from audit.policy import ApprovalRecord, ConsentRecord, RecordedPolicy

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SUBJECT = "ab" * 16


def _entry(computation: str, action: str = "POST /v1/scores", role: str = "bank") -> AuditEntry:
    return AuditEntry.create(actor="bank_1", role=role, action=action, decision="allow",
                             request_id="req-1", computation=computation, purpose="credit",
                             access_request="ar-1", consent="cs-1", subject=SUBJECT,
                             time=START + dt.timedelta(days=1))  # fmt: skip


def _policy(covers: frozenset[str] | None) -> RecordedPolicy:
    approval = ApprovalRecord("ar-1", START, START + dt.timedelta(days=30), "bank_1")
    consent = ConsentRecord("cs-1", SUBJECT, START, grantee="bank_1", purpose="credit",
                            computations=covers)  # fmt: skip
    return RecordedPolicy({"ar-1": approval}, {"cs-1": consent}, roles=frozenset({"bank"}))


def test_a_consent_covering_the_computation_allows_it() -> None:
    _policy(frozenset({"household", "person"})).check(3, _entry("household"))
    _policy(None).check(3, _entry("household"))  # the record does not say: not judged


def test_a_consent_not_covering_the_computation_is_named() -> None:
    with pytest.raises(PolicyViolation) as info:
        _policy(frozenset({"person"})).check(3, _entry("household", "member"))
    assert (info.value.index, info.value.reason) == (
        3,
        "consent cs-1 does not cover the computation",
    )


def test_records_from_files_carry_what_a_consent_covers(tmp_path: Path) -> None:
    approvals, consents = tmp_path / "approvals.json", tmp_path / "consents.json"
    approvals.write_text(json.dumps([{"approval_id": "ar-1", "valid_from": None,
                                      "valid_until": None, "requester": "bank_1"}]))  # fmt: skip
    consents.write_text(json.dumps([{"consent_id": "cs-1", "subject": SUBJECT,
                                     "given_at": START.isoformat(),
                                     "computations": ["person"]}]))  # fmt: skip
    policy = RecordedPolicy.from_files(approvals, consents)
    assert policy.consents["cs-1"].computations == frozenset({"person"})
    policy.check(0, _entry("person", role="requester"))  # the files' default governed role
    with pytest.raises(PolicyViolation):
        policy.check(0, _entry("household", role="requester"))
