"""Scoring a consenting subject: the use case every edge shares, and the score service.

`ScoreService` is the narrow interface to the credit model; `ModelScoreService` implements
it with the features held in memory (`credit_model.FeatureStore`, read at start-up and after
every refresh), so a score touches neither DuckDB nor disk. `score_subject` is the use case
behind ``POST /v1/scores``: approval and purpose, then (only then) the subject's pseudonym and
consent, the household members who consented too (`governance.households`), quota, the
declared outputs, then the durable audit entries; only then does an answer exist
(`ScoreAnswer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from credit_model import (
    FeaturesMissingError,
    FeatureStore,
    HouseholdScore,
    ModelSpec,
    ReleaseRef,
    ScoreResult,
    no_score_reason,
    score,
    score_household,
)
from governance.approvals import usable_approval
from governance.audit_trail import AuditAppendError, AuditReceipt, append_durably, make_entry
from governance.catalogue import Computation
from governance.control import versions_read_once
from governance.credentials import Principal
from governance.disputes import marked
from governance.errors import AuditUnavailable, PolicyDenied
from governance.households import MEMBER_ACTION, HouseholdMember, MembersUsed, members_used
from governance.ids import loggable, loggable_name
from governance.model_runs import score_all
from governance.statements import answer_notes
from governance.subject_binding import subject_binding
from vault import Vault

if TYPE_CHECKING:
    from governance.services import Services

__all__ = [
    "DIMENSIONS",
    "SCORE_ACTION",
    "ModelScoreService",
    "ScoreAnswer",
    "ScoreQuery",
    "ScoreService",
    "declared_outputs",
    "own_score",
    "score_subject",
]

DIMENSIONS = ("moral_review", "law_abiding", "honesty", "volunteering", "virtue")
MAX_REASONS = 4
SCORE_ACTION = "POST /v1/scores"
Result = ScoreResult | HouseholdScore


class ScoreService(Protocol):
    def score_subject(self, subject: str) -> ScoreResult | None:
        """The score of the subject with this pseudonym; None if the model has none."""
        ...

    def household_of(self, subject: str) -> str | None:
        """The household pseudonym of a subject; None if unknown."""
        ...

    def household_members(self, household: str) -> list[HouseholdMember]:
        """Every member of the household the model knows, in subject order."""
        ...

    def score_household(self, household: str, members: Collection[str]) -> HouseholdScore | None:
        """The household's score from the rows of ``members`` (pseudonyms) alone; None if
        none of them is a member."""
        ...

    def refresh(self) -> int:
        """Recompute the features and scores after the vault changed (an ingest); returns
        how many people have features."""
        ...


@dataclass(frozen=True)
class ScoreQuery:
    """What a bank asks: whose score (the raw ID number, pseudonymised at once), under
    which approval and consent, for which purpose."""

    id_number: str
    purpose: str
    access_request_id: str
    consent_id: str


@dataclass(frozen=True)
class ScoreAnswer:
    """The declared outputs of the approved computation, what binds them to the bank, the
    access request and the subject (`envelope`: ``bank``, ``access_request_id``,
    ``subject_binding``), and where the access was logged."""

    outputs: dict[str, Any]
    envelope: dict[str, str]
    receipt: AuditReceipt
    # the residents' rights (issue 18): statements on records used, review_pending
    notes: dict[str, Any] = field(default_factory=dict)


async def score_subject(
    services: Services, who: Principal, query: ScoreQuery, context: dict[str, Any], request_id: str
) -> ScoreAnswer:
    """`_score_subject` with the control plane's versions read once for the whole answer
    (`versions_read_once`: workers on PostgreSQL)."""
    with versions_read_once(services.control.sessions):
        return await _score_subject(services, who, query, context, request_id)


async def _score_subject(
    services: Services, who: Principal, query: ScoreQuery, context: dict[str, Any], request_id: str
) -> ScoreAnswer:
    """Answer one bank's score request, failing closed at every step.

    Nothing about the subject is computed before the approval and purpose hold, and the
    subject's pseudonym enters ``context`` (what the audit entry records; a denial raised
    from here is logged by the edge with what was reached) only in the allow entries, so a
    denied entry carries nothing derived from the ID number (issue 13, finding 7). Raises
    `PolicyDenied`, `QuotaExhausted`, `InvalidIdNumber`, `AuditUnavailable` (then nothing
    was answered and the quota unit is given back)."""
    context.update(purpose=loggable_name(query.purpose),
                   access_request=loggable(query.access_request_id),
                   consent=loggable(query.consent_id))  # fmt: skip
    found, computation = usable_approval(services, who, query.access_request_id, "subject")
    context["computation"] = computation.id
    if query.purpose != found.purpose:
        raise PolicyDenied("wrong_purpose")
    bank = who.client_id
    assert bank is not None
    subject = _pseudonym(services, query.id_number)
    services.control.valid_consent(query.consent_id, subject, bank, query.purpose, computation.id)
    used = await _members(services, computation, bank, query, subject)
    # On the loop, not in a thread, even on PostgreSQL: from the approval's check to the audit
    # entry nothing here yields to the loop, so a revocation or withdrawal answered by this
    # process is never followed by an answer that checked before it (test_gateway_cache_race).
    services.control.spend_quota(found)
    outputs = declared_outputs(computation, _compute(services, computation, used), used)
    notes = await answer_notes(services, used.subjects)
    notes["disputed"] = marked(services, used.subjects)  # an open dispute (Art. 25): memory only
    envelope = _envelope(bank, query)
    answer = {**outputs, **notes, **envelope}
    try:
        receipt = await _audit_allow(services, context, used, answer, request_id)
    except AuditUnavailable:
        services.control.refund_quota(found)  # nothing was answered
        raise
    return ScoreAnswer(outputs, envelope, receipt, notes)


def _pseudonym(services: Services, id_number: str) -> str:
    return services.vault.subject_pseudonym(id_number)  # InvalidIdNumber: mapped at the edge


async def _members(
    services: Services, computation: Computation, bank: str, query: ScoreQuery, subject: str
) -> MembersUsed:
    """`members_used`; a household's reads the other members' consents from the database,
    in a worker thread so the event loop is not held."""
    args = (services, computation, bank, query.purpose, subject, query.consent_id)
    if computation.unit != "household":
        return members_used(*args)
    return await anyio.to_thread.run_sync(members_used, *args)


def _envelope(bank: str, query: ScoreQuery) -> dict[str, str]:
    binding = subject_binding(consent_id=query.consent_id, bank=bank,
                              access_request_id=query.access_request_id,
                              id_number=query.id_number)  # fmt: skip
    return {"bank": bank, "access_request_id": query.access_request_id, "subject_binding": binding}


def _compute(services: Services, computation: Computation, used: MembersUsed) -> Result | None:
    if computation.unit != "household":
        return services.scores.score_subject(used.subjects[0])
    if used.household is None:
        return None
    return services.scores.score_household(used.household, used.subjects)


async def _audit_allow(
    services: Services,
    context: dict[str, Any],
    used: MembersUsed,
    answer: dict[str, Any],
    request_id: str,
) -> AuditReceipt:
    """Append one allow entry per member the answer used, each naming that member and their
    consent, before the answer exists outside this process; the applicant's entry is the
    answer's receipt. If any append fails the answer is not given (an entry that did become
    durable then records an access that never left: the log errs on showing too much)."""
    digest = hashlib.sha256(json.dumps(answer, sort_keys=True).encode()).hexdigest()
    try:
        entries = [
            make_entry(
                {**context, "subject": subject, "consent": consent},
                action=SCORE_ACTION if n == 0 else MEMBER_ACTION,
                decision="allow",
                request_id=request_id,
                result_digest=digest,
            )
            for n, (subject, consent) in enumerate(used.consents.items())
        ]
    except AuditAppendError:
        raise AuditUnavailable("audit_unavailable") from None
    appended = await asyncio.gather(
        *(append_durably(services.audit, e) for e in entries), return_exceptions=True
    )
    receipts = [r for r in appended if isinstance(r, AuditReceipt)]
    if len(receipts) != len(entries):
        raise AuditUnavailable("audit_unavailable")
    for receipt, entry in zip(receipts, entries, strict=True):
        services.accesses.note(receipt.index, entry)  # each member's view of who accessed them
    return receipts[0]


def own_score(services: Services, subject: str) -> dict[str, Any]:
    """A resident's own score, with every output a bank's score would carry (for the
    resident's page: their own data, so no approval or consent is involved)."""
    return {**_public(services.scores.score_subject(subject)),
            "disputed": marked(services, [subject])}  # fmt: skip


def declared_outputs(
    computation: Computation, result: Result | None, used: MembersUsed | None = None
) -> dict[str, Any]:
    """Only the catalogue's declared outputs of ``computation``, as JSON-ready values;
    pseudonyms, features and everything else of the model's result are dropped. A household
    computation declares how many members it used and left out (``used``), never who."""
    full = _public(result)
    if used is not None:
        full.update(members_used=len(used.consents), members_left_out=used.left_out)
    out: dict[str, Any] = {
        "computation": computation.id,
        "computation_version": computation.version,
        "unit": computation.unit,
    }
    out.update({k: full[k] for k in computation.outputs})
    return out


def _public(result: Result | None) -> dict[str, Any]:
    if result is None:
        return {
            "dimensions": None, "morality_points": None, "morality_code": None,
            "credit_line": None, "reason_codes": [], "model": None, "computed_at": None,
            "coverage": None, "no_score_reason": "not_scored",
        }  # fmt: skip
    by_id = {d.id: round(d.score, 2) for d in result.dimensions}
    return {
        "dimensions": {d: by_id.get(d) for d in DIMENSIONS},
        "morality_points": result.morality_points,
        "morality_code": result.morality_code.code if result.morality_code else None,
        "credit_line": result.credit_line if result.status == "scored" else None,
        "reason_codes": [
            {"code": r.code, "dimension": r.dimension, "kind": r.kind, "en": r.en, "zh": r.zh}
            for r in _reasons(result)
        ],
        "model": result.model,
        "computed_at": result.computed_at.isoformat().replace("+00:00", "Z"),
        "coverage": {
            "tables_with_data": sum(1 for n in result.coverage.values() if n > 0),
            "tables_total": len(result.coverage),
        },
        "no_score_reason": result.no_score_reason.code if result.no_score_reason else None,
    }


def _reasons(result: Result) -> list[Any]:
    """At most `MAX_REASONS` vetoes and factors, then the notes (records that no longer
    count: repaired, or whose publication window ended)."""
    held = [r for r in result.reasons if r.kind != "note"][:MAX_REASONS]
    return held + [r for r in result.reasons if r.kind == "note"]


class ModelScoreService:
    """`ScoreService` over the credit model, naming the release found on the ledger."""

    def __init__(self, vault: Vault, spec: ModelSpec, release: ReleaseRef | None) -> None:
        self._vault = vault
        self._spec = spec
        self._release = release
        self._store = FeatureStore(spec, vault.registry)
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Read the feature table into memory if it exists (a fresh vault has none yet)."""
        with contextlib.suppress(FeaturesMissingError):
            self._features()

    def _features(self) -> FeatureStore:
        if not self._store.loaded:
            with self._lock:
                if not self._store.loaded:
                    self._store.load(self._vault)
        return self._store

    def score_subject(self, subject: str) -> ScoreResult | None:
        row = self._features().row(subject)
        if row is None:
            return None
        now = dt.datetime.now(dt.UTC)
        return score(self._spec, row, computed_at=now, release=self._release)

    def refresh(self) -> int:
        """Score the population again (`governance.model_runs.score_all`), so scores and
        aggregates reflect what was just ingested, and reload the features held in memory."""
        with self._lock:
            now = dt.datetime.now(dt.UTC)
            summary = score_all(self._vault, self._spec, computed_at=now, release=self._release)
            self._store.load(self._vault)
        return summary.subjects

    def household_of(self, subject: str) -> str | None:
        row = self._features().row(subject)
        return None if row is None else row.household

    def household_members(self, household: str) -> list[HouseholdMember]:
        return [
            HouseholdMember(row.subject, no_score_reason(self._spec, row) is None)
            for row in self._features().household(household)
        ]

    def score_household(self, household: str, members: Collection[str]) -> HouseholdScore | None:
        wanted = set(members)
        rows = [row for row in self._features().household(household) if row.subject in wanted]
        if not rows:
            return None
        return score_household(
            self._spec,
            household,
            rows,
            as_of=rows[0].as_of,
            computed_at=dt.datetime.now(dt.UTC),
            release=self._release,
        )
