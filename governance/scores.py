"""Scoring a consenting subject: the use case every edge shares, and the score service.

`ScoreService` is the narrow interface to the credit model; `ModelScoreService` implements
it with the features held in memory (`credit_model.FeatureStore`, read at start-up and after
every refresh), so a score touches neither DuckDB nor disk. `score_subject` is the use case
behind ``POST /v1/scores``: approval, purpose, consent, quota, then the declared outputs,
then the durable audit entry; only then does an answer exist (`ScoreAnswer`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from credit_model import (
    FeaturesMissingError,
    FeatureStore,
    HouseholdScore,
    ModelSpec,
    ReleaseRef,
    ScoreResult,
    score,
    score_household,
)
from governance.approvals import usable_approval
from governance.audit_trail import AuditAppendError, AuditReceipt, append_durably, make_entry
from governance.catalogue import Computation
from governance.credentials import Principal
from governance.errors import AuditUnavailable, InvalidIdNumber, PolicyDenied
from governance.model_runs import score_all
from vault import InvalidIdNumber as VaultInvalidIdNumber
from vault import Vault

if TYPE_CHECKING:
    from governance.services import Services

__all__ = [
    "DIMENSIONS",
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
Result = ScoreResult | HouseholdScore


class ScoreService(Protocol):
    def score_subject(self, subject: str) -> ScoreResult | None:
        """The score of the subject with this pseudonym; None if the model has none."""
        ...

    def household_of(self, subject: str) -> str | None:
        """The household pseudonym of a subject; None if unknown."""
        ...

    def score_household(self, household: str) -> HouseholdScore | None: ...

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
    """The declared outputs of the approved computation, and where the access was logged."""

    outputs: dict[str, Any]
    receipt: AuditReceipt


async def score_subject(
    services: Services, who: Principal, query: ScoreQuery, context: dict[str, Any], request_id: str
) -> ScoreAnswer:
    """Answer one bank's score request, failing closed at every step.

    ``context`` collects what the audit entry records (a denial raised from here is logged
    by the edge with what was reached). Raises `PolicyDenied`, `QuotaExhausted`,
    `InvalidIdNumber`, `AuditUnavailable` (then nothing was answered and the quota unit is
    given back)."""
    context.update(
        purpose=query.purpose, access_request=query.access_request_id, consent=query.consent_id
    )
    try:
        subject = services.vault.subject_pseudonym(query.id_number)
    except VaultInvalidIdNumber:
        raise InvalidIdNumber() from None
    context["subject"] = subject
    found, computation = usable_approval(services, who, query.access_request_id, "subject")
    context["computation"] = computation.id
    if query.purpose != found.purpose:
        raise PolicyDenied("wrong_purpose")
    assert who.client_id is not None
    services.control.valid_consent(query.consent_id, subject, who.client_id, query.purpose)
    services.control.spend_quota(found)
    outputs = declared_outputs(computation, _compute(services, computation, subject))
    try:
        receipt = await _audit_allow(services, context, outputs, request_id)
    except AuditUnavailable:
        services.control.refund_quota(found)  # nothing was answered
        raise
    return ScoreAnswer(outputs, receipt)


def _compute(services: Services, computation: Computation, subject: str) -> Result | None:
    if computation.unit == "household":
        household = services.scores.household_of(subject)
        return None if household is None else services.scores.score_household(household)
    return services.scores.score_subject(subject)


async def _audit_allow(
    services: Services, context: dict[str, Any], outputs: dict[str, Any], request_id: str
) -> AuditReceipt:
    """Append the allow entry before the answer exists outside this process."""
    digest = hashlib.sha256(json.dumps(outputs, sort_keys=True).encode()).hexdigest()
    try:
        entry = make_entry(
            context,
            action="POST /v1/scores",
            decision="allow",
            request_id=request_id,
            result_digest=digest,
        )
        receipt = await append_durably(services.audit, entry)
    except (AuditAppendError, OSError):
        raise AuditUnavailable("audit_unavailable") from None
    services.accesses.note(receipt.index, entry)  # the subject's view of who accessed them
    return receipt


def own_score(services: Services, subject: str) -> dict[str, Any]:
    """A resident's own score, with every output a bank's score would carry (for the
    resident's page: their own data, so no approval or consent is involved)."""
    return _public(services.scores.score_subject(subject))


def declared_outputs(computation: Computation, result: Result | None) -> dict[str, Any]:
    """Only the catalogue's declared outputs of ``computation``, as JSON-ready values;
    pseudonyms, features and everything else of the model's result are dropped."""
    full = _public(result)
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
            for r in result.reasons[:MAX_REASONS]
        ],
        "model": result.model,
        "computed_at": result.computed_at.isoformat().replace("+00:00", "Z"),
        "coverage": {
            "tables_with_data": sum(1 for n in result.coverage.values() if n > 0),
            "tables_total": len(result.coverage),
        },
        "no_score_reason": result.no_score_reason.code if result.no_score_reason else None,
    }


class ModelScoreService:
    """`ScoreService` over the credit model, naming the release found on the ledger."""

    def __init__(self, vault: Vault, spec: ModelSpec, release: ReleaseRef | None) -> None:
        self._vault = vault
        self._spec = spec
        self._release = release
        self._store = FeatureStore(spec)
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

    def score_household(self, household: str) -> HouseholdScore | None:
        rows = self._features().household(household)
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
