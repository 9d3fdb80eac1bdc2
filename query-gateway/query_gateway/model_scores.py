"""`ModelScoreService`: the credit model (issue 4) behind the gateway's `ScoreService`.

A score is computed live from the subject's materialised feature row by the pure scorecard,
naming the model release found on the ledger at start-up; only the declared outputs are
kept (`scoring.ScoreResult`). The feature table is held in memory (`FeatureStore`, read at
the first score and again after every refresh), so a score touches neither DuckDB nor disk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from typing import Any

from credit_model.errors import FeaturesMissingError
from credit_model.results import HouseholdScore, ReleaseRef
from credit_model.results import ScoreResult as ModelResult
from credit_model.scorecard import score, score_household
from credit_model.spec import ModelSpec
from dexin.feature_store import FeatureStore
from dexin.scoring import score_all
from query_gateway.scoring import DIMENSIONS, Coverage, Dimensions, ReasonCode, ScoreResult


class ModelScoreService:
    def __init__(self, vault: Any, spec: ModelSpec, release: ReleaseRef | None) -> None:
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
        return declared(score(self._spec, row, computed_at=now, release=self._release))

    def refresh(self) -> int:
        """Score the population again (`dexin.scoring.score_all`), so scores and aggregates
        reflect what was just ingested, and reload the features held in memory."""
        with self._lock:
            now = dt.datetime.now(dt.UTC)
            summary = score_all(self._vault, self._spec, computed_at=now, release=self._release)
            self._store.load(self._vault)
        return summary.subjects

    def household_of(self, subject: str) -> str | None:
        row = self._features().row(subject)
        return None if row is None else row.household

    def score_household(self, household: str) -> ScoreResult | None:
        rows = self._features().household(household)
        if not rows:
            return None
        result = score_household(
            self._spec,
            household,
            rows,
            as_of=rows[0].as_of,
            computed_at=dt.datetime.now(dt.UTC),
            release=self._release,
        )
        return declared(result)


def declared(result: ModelResult | HouseholdScore) -> ScoreResult:
    """Keep the declared outputs of a model result; pseudonyms and features are dropped."""
    by_id = {d.id: round(d.score, 2) for d in result.dimensions}
    return ScoreResult(
        dimensions=Dimensions(**{d: by_id.get(d) for d in DIMENSIONS}),
        morality_points=result.morality_points,
        morality_code=result.morality_code.code if result.morality_code else None,
        credit_line=result.credit_line if result.status == "scored" else None,
        reason_codes=tuple(
            ReasonCode(code=r.code, dimension=r.dimension, kind=r.kind, en=r.en, zh=r.zh)
            for r in result.reasons[:4]
        ),
        model=result.model,
        computed_at=result.computed_at,
        coverage=Coverage(
            tables_with_data=sum(1 for n in result.coverage.values() if n > 0),
            tables_total=len(result.coverage),
        ),
        no_score_reason=result.no_score_reason.code if result.no_score_reason else None,
    )
