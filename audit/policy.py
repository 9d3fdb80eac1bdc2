"""The access-policy hook of the verifier: was every allowed access approved and consented?

The verifier calls ``AccessPolicy.check(index, entry)`` for every entry, in order; a policy
raises ``PolicyViolation`` to reject. ``RecordedPolicy`` checks entries against approval
and consent records the *caller* supplies (``governance.audit_sources`` builds them from the
ledger and the anchored consent log): for every ``allow`` entry by a governed role (and, if
``actions`` is given, of a governed action) it requires

- ``access_request`` naming a known approval, for this actor, computation and purpose (each
  if the approval names one), with ``valid_from <= time < valid_until``; and, when the
  approval record knows its computation's inputs (``inputs``), parameters inside its scope:
  every parameter the entry records is an input, free or with a value the approval's
  anchored scope allows, and every scoped input is recorded (`_check_scope`);
- when the entry has a ``subject``: ``consent`` naming a known consent for that same
  subject (compared as ``SHA-256(subject_digest_prefix || subject)`` in hex when the records
  hold keyed digests), given to this actor for this purpose (if recorded), covering the
  entry's computation (if the record names what it covers), with ``given_at <= time``, not
  withdrawn and not expired at ``time``.

A household answer leaves one entry per member it used, each naming that member and their
own consent (issue 13, finding 1), so the rule above, applied to every entry, requires a
covering consent from every member the answer used; a member entry without one is named.

An approval whose record names officers' votes without a valid signature
(``unsigned_votes``) justifies nothing.

It cannot know whether the supplied records are complete or authentic: that is the job of
whoever supplies them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from audit.entry import AuditEntry
from audit.errors import PolicyViolation

__all__ = ["AccessPolicy", "ApprovalRecord", "ConsentRecord", "RecordedPolicy"]


class AccessPolicy(Protocol):
    def check(self, index: int, entry: AuditEntry) -> None:
        """Return if entry ``index`` is justified; raise ``PolicyViolation`` otherwise."""
        ...


@dataclass(frozen=True)
class ApprovalRecord:
    approval_id: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    requester: str | None = None
    computations: frozenset[str] | None = None
    purpose: str | None = None
    # each input of the approved computation -> the values its anchored scope allows (None: a
    # free input); None: the records do not say, parameters are not checked
    inputs: Mapping[str, frozenset[str] | None] | None = None
    # what the auditor found wrong with the officers' signatures on this approval (empty: every
    # vote verified against the keys registered on the ledger; governance.officer_votes)
    unsigned_votes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsentRecord:
    consent_id: str
    subject: str
    given_at: dt.datetime
    withdrawn_at: dt.datetime | None = None
    grantee: str | None = None
    purpose: str | None = None
    expires_at: dt.datetime | None = None
    computations: frozenset[str] | None = None  # what it covers; None: not recorded


@dataclass(frozen=True)
class RecordedPolicy:
    """Checks ``allow`` entries of ``roles`` against supplied approvals and consents."""

    approvals: Mapping[str, ApprovalRecord]
    consents: Mapping[str, ConsentRecord]
    roles: frozenset[str] = frozenset({"requester"})
    actions: frozenset[str] | None = None
    subject_digest_prefix: bytes | None = None

    def check(self, index: int, entry: AuditEntry) -> None:
        if entry.decision != "allow" or entry.role not in self.roles:
            return
        if self.actions is not None and entry.action not in self.actions:
            return
        at = entry.time_value
        self._check_approval(index, entry, at)
        if entry.subject is not None:
            self._check_consent(index, entry, at)

    def _check_approval(self, index: int, entry: AuditEntry, at: dt.datetime) -> None:
        approval = self.approvals.get(entry.access_request or "")
        if approval is None:
            raise PolicyViolation(index, "allowed without a known approval")
        if approval.unsigned_votes:
            found = approval.unsigned_votes[0]
            raise PolicyViolation(index, f"approval {approval.approval_id}: {found}")
        if approval.requester is not None and approval.requester != entry.actor:
            raise PolicyViolation(
                index, f"approval {approval.approval_id} is for another requester"
            )
        if approval.computations is not None and entry.computation not in approval.computations:
            raise PolicyViolation(
                index, f"approval {approval.approval_id} does not cover the computation"
            )
        if approval.purpose is not None and entry.purpose != approval.purpose:
            raise PolicyViolation(index, f"approval {approval.approval_id} is for another purpose")
        if not approval.valid_from <= at < approval.valid_until:
            raise PolicyViolation(
                index, f"approval {approval.approval_id} not valid at {entry.time}"
            )
        _check_scope(index, entry, approval)

    def _check_consent(self, index: int, entry: AuditEntry, at: dt.datetime) -> None:
        consent = self.consents.get(entry.consent or "")
        if consent is None:
            raise PolicyViolation(index, "allowed without a known consent")
        if consent.subject != self._subject(entry.subject or ""):
            raise PolicyViolation(index, f"consent {consent.consent_id} is another subject's")
        if consent.grantee is not None and consent.grantee != entry.actor:
            raise PolicyViolation(
                index, f"consent {consent.consent_id} was given to another requester"
            )
        if consent.purpose is not None and consent.purpose != entry.purpose:
            raise PolicyViolation(index, f"consent {consent.consent_id} is for another purpose")
        if consent.computations is not None and entry.computation not in consent.computations:
            raise PolicyViolation(
                index, f"consent {consent.consent_id} does not cover the computation"
            )
        withdrawn = consent.withdrawn_at is not None and consent.withdrawn_at <= at
        expired = consent.expires_at is not None and consent.expires_at <= at
        if at < consent.given_at or withdrawn or expired:
            state = "withdrawn" if withdrawn else "expired" if expired else "not yet given"
            raise PolicyViolation(index, f"consent {consent.consent_id} {state} at {entry.time}")

    def _subject(self, subject: str) -> str:
        if self.subject_digest_prefix is None:
            return subject
        return hashlib.sha256(self.subject_digest_prefix + subject.encode()).hexdigest()

    @classmethod
    def from_files(cls, approvals: Path, consents: Path) -> RecordedPolicy:
        """Load JSON lists of approval and consent records (ISO 8601 times)."""
        return cls(
            {a.approval_id: a for a in map(_approval, _load_list(approvals))},
            {c.consent_id: c for c in map(_consent, _load_list(consents))},
        )


def _check_scope(index: int, entry: AuditEntry, approval: ApprovalRecord) -> None:
    """The entry's parameters lie inside the approval's scope (see the module docstring).
    Names parameters, never their values."""
    if approval.inputs is None:
        return
    recorded = entry.parameters_value or {}
    for name, value in sorted(recorded.items()):
        if name not in approval.inputs:
            raise PolicyViolation(
                index, f"parameter {name} is not an input of approval {approval.approval_id}"
            )
        allowed = approval.inputs[name]
        if allowed is not None and value not in allowed:
            raise PolicyViolation(
                index, f"parameter {name} outside the scope of approval {approval.approval_id}"
            )
    scoped = sorted(n for n, allowed in approval.inputs.items() if allowed is not None)
    for name in scoped:
        if name not in recorded:
            raise PolicyViolation(
                index, f"parameter {name} of approval {approval.approval_id} not recorded"
            )


def _load_list(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of records")
    return data


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _approval(doc: dict[str, Any]) -> ApprovalRecord:
    computations = doc.get("computations")
    return ApprovalRecord(
        approval_id=doc["approval_id"],
        valid_from=_time(doc["valid_from"]) or dt.datetime.min.replace(tzinfo=dt.UTC),
        valid_until=_time(doc["valid_until"]) or dt.datetime.max.replace(tzinfo=dt.UTC),
        requester=doc.get("requester"),
        computations=None if computations is None else frozenset(computations),
    )


def _consent(doc: dict[str, Any]) -> ConsentRecord:
    computations = doc.get("computations")
    return ConsentRecord(
        consent_id=doc["consent_id"],
        subject=doc["subject"],
        given_at=_time(doc["given_at"]) or dt.datetime.min.replace(tzinfo=dt.UTC),
        withdrawn_at=_time(doc.get("withdrawn_at")),
        computations=None if computations is None else frozenset(computations),
    )
