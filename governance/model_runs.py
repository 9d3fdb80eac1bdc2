"""Scoring wiring: the credit model over the vault's derived tables and the ledger's releases.

- `score_all`: materialise ``derived.features`` (one row per resident: the generated
  feature SQL and, in the same statement, the compiled scorecard's verdict), the one-row
  ``derived.score_run`` (model, computed-at, release), the view ``derived.scores`` over the
  two, and ``derived.household_scores``; all inside the vault, nothing leaves it. Call it
  after each ingest so that a single score needs no scan.
- `score_person` / `score_household`: a look-up of the features (a filtered scan, ~11 ms at
  scale 1.0: one-shot commands only; a long-running process holds them in memory,
  `credit_model.feature_store`), then the pure scorecard (`credit_model.scorecard`), naming the
  release the score came from. No index is built: it would cost 2 s of every refresh.
- `release_spec` / `find_release`: a model release anchors the spec's digest on the ledger;
  a spec whose released digest differs is refused (`ReleaseMismatchError`).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credit_model import (
    NOT_REGISTERED,
    FeatureRow,
    FeaturesMissingError,
    FeaturesStaleError,
    HouseholdScore,
    ModelSpec,
    ReleaseMismatchError,
    ReleaseRef,
    ScoreResult,
    feature_sql,
    household_sql,
    not_scored,
    run_sql,
    score,
    score_household,
    scores_view_sql,
    verdict_sql,
)
from ledger import Ledger, LedgerError, Role
from vault import Vault

FEATURES = "features"
SCORES = "scores"
RUN = "score_run"
HOUSEHOLDS = "household_scores"
OFFICER = "officer"
TX_HASH = re.compile(r"^0x[0-9a-fA-F]{1,128}$")


@dataclass(frozen=True)
class ScoreAllSummary:
    """What `score_all` did: counts and the seconds each stage took."""

    model: str
    as_of: dt.date
    subjects: int
    scored: int
    eligible: int
    households: int
    person_seconds: float  # features and verdicts, one statement
    household_seconds: float


def _constants(release: ReleaseRef | None, computed_at: dt.datetime) -> dict[str, str]:
    block = "NULL::BIGINT" if release is None else str(int(release.block_number))
    tx = "NULL::VARCHAR"
    if release is not None:
        if not TX_HASH.match(release.tx_hash):
            raise ValueError("a transaction hash is 0x and hex digits")
        tx = f"'{release.tx_hash}'"
    return {
        "computed_at": f"'{computed_at.isoformat()}'",  # text: TIMESTAMPTZ needs pytz to fetch
        "release_block": block,
        "release_tx": tx,
    }


def score_all(
    vault: Vault,
    spec: ModelSpec,
    *,
    computed_at: dt.datetime,
    release: ReleaseRef | None,
    as_of: dt.date | None = None,
) -> ScoreAllSummary:
    """Features and verdicts of every resident as known on ``as_of`` (default: the vault's
    as-of date), then household scores. The verdict columns are computed in the feature
    statement: writing them as a second table of 850,000 rows cost more than the scorecard."""
    start = time.perf_counter()
    features = f"({feature_sql(spec, vault.registry, as_of or vault.as_of)})"
    subjects = vault.materialise(FEATURES, verdict_sql(spec, features))
    middle = time.perf_counter()
    extra = _constants(release, computed_at)
    vault.materialise(RUN, run_sql(spec, extra))
    vault.define_view(SCORES, scores_view_sql(spec, f"derived.{FEATURES}", f"derived.{RUN}"))
    households = vault.materialise(HOUSEHOLDS, household_sql(spec, f"derived.{FEATURES}", extra))
    end = time.perf_counter()
    ((scored, eligible),) = vault.query(
        f"SELECT count(*) FILTER (WHERE no_score IS NULL), count(*) FILTER (WHERE eligible) "
        f"FROM derived.{FEATURES}"
    )
    return ScoreAllSummary(spec.ref, as_of or vault.as_of, subjects, int(scored), int(eligible),
                           households, middle - start, end - middle)  # fmt: skip


def _checked(spec: ModelSpec, record: Mapping[str, Any]) -> FeatureRow:
    if record["spec_digest"] != spec.digest.hex():
        raise FeaturesStaleError(spec.digest.hex(), record["spec_digest"])
    return FeatureRow.from_record(spec, record)


def feature_row(vault: Vault, spec: ModelSpec, subject: str) -> FeatureRow | None:
    """The materialised features of pseudonym ``subject`` (a filtered scan), or None."""
    try:
        record = vault.lookup(FEATURES, "subject", subject)
    except Exception:  # the engine's catalog error: look only on failure (a hot path)
        if not vault.has_derived(FEATURES):
            raise FeaturesMissingError() from None
        raise
    return None if record is None else _checked(spec, record)


def score_person(
    vault: Vault,
    spec: ModelSpec,
    id_number: str,
    *,
    computed_at: dt.datetime,
    release: ReleaseRef | None,
) -> ScoreResult:
    """Score one person by ID number (validated; `InvalidIdNumber` never repeats it)."""
    subject = vault.subject_pseudonym(id_number)
    row = feature_row(vault, spec, subject)
    if row is None:
        return not_scored(spec, subject, NOT_REGISTERED, as_of=vault.as_of,
                          computed_at=computed_at, release=release)  # fmt: skip
    return score(spec, row, computed_at=computed_at, release=release)


def score_household_of(
    vault: Vault,
    spec: ModelSpec,
    id_number: str,
    *,
    computed_at: dt.datetime,
    release: ReleaseRef | None,
) -> HouseholdScore | None:
    """Score the household of the person with ``id_number``; None if not registered."""
    row = feature_row(vault, spec, vault.subject_pseudonym(id_number))
    if row is None or row.household is None:
        return None
    records = vault.derived_rows(FEATURES, "household", row.household, order_by="subject")
    members = [_checked(spec, record) for record in records]
    return score_household(spec, row.household, members, as_of=row.as_of,
                           computed_at=computed_at, release=release)  # fmt: skip


# -- the ledger -----------------------------------------------------------------------------


def find_release(ledger: Ledger, spec: ModelSpec) -> ReleaseRef | None:
    """The ledger's release of this spec's model version, or None if not released. Raises
    `ReleaseMismatchError` if that version was released with another spec digest."""
    if ledger.latest_model_version(spec.model_id) < spec.version:
        return None
    try:
        release = ledger.get_model_release(spec.model_id, spec.version)
    except LedgerError:  # the version was skipped: nothing released under it
        return None
    if release.spec_hash != spec.digest:
        raise ReleaseMismatchError(spec.ref, release.spec_hash.hex(), spec.digest.hex())
    anchor = ledger.get_anchor(spec.digest)
    return ReleaseRef(model_id=spec.model_id, version=spec.version, spec_digest=spec.digest.hex(),
                      block_number=anchor.block_number, tx_hash=anchor.tx_hash)  # fmt: skip


def release_spec(ledger: Ledger, spec: ModelSpec, officer: str = OFFICER) -> ReleaseRef:
    """Release this spec (idempotent): anchors its digest under ``model_id``/``version``,
    signed by the officer account ``officer`` (created with the officer role if needed)."""
    existing = find_release(ledger, spec)
    if existing is not None:
        return existing
    ledger.ensure_account(officer, Role.OFFICER)
    receipt = ledger.release_model(spec.model_id, spec.version, spec.digest, officer=officer)
    return ReleaseRef(model_id=spec.model_id, version=spec.version, spec_digest=spec.digest.hex(),
                      block_number=receipt.block_number, tx_hash=receipt.tx_hash)  # fmt: skip
