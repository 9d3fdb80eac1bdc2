"""`ScoreService`: the gateway's narrow interface to the credit model's scores.

The gateway asks for the score of one subject pseudonym or of one household and gets a
`ScoreResult` holding only what the catalogue declares; nothing else of the model's output
can reach a response. `VaultScoreService` reads the scores the credit model materialises in
the vault's derived tables (``derived.scores`` keyed by ``subject``, ``derived.household_scores``
keyed by ``household``) with indexed point look-ups.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

DIMENSIONS = ("moral_review", "law_abiding", "honesty", "volunteering", "virtue")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReasonCode(_Frozen):
    code: str = Field(pattern=r"^[A-Z]{2}\d{2}$")
    dimension: str


class Coverage(_Frozen):
    """How much of the data the score rests on, without saying which records exist."""

    tables_with_data: int = Field(ge=0)
    tables_total: int = Field(ge=0)


class Dimensions(_Frozen):
    moral_review: float | None
    law_abiding: float | None
    honesty: float | None
    volunteering: float | None
    virtue: float | None


class ScoreResult(_Frozen):
    """The declared outputs of a score (person or household)."""

    dimensions: Dimensions
    morality_points: float | None
    morality_code: str | None
    credit_line: int | None
    reason_codes: tuple[ReasonCode, ...] = Field(max_length=4)
    model: str
    computed_at: dt.datetime
    coverage: Coverage
    no_score_reason: str | None


class ScoreService(Protocol):
    def score_subject(self, subject: str) -> ScoreResult | None:
        """The score of the subject with this pseudonym; None if the model has none."""
        ...

    def household_of(self, subject: str) -> str | None:
        """The household pseudonym of a subject; None if unknown."""
        ...

    def score_household(self, household: str) -> ScoreResult | None: ...


class Lookup(Protocol):
    """What the adapter needs of the vault (`vault.store.Vault.lookup`)."""

    def lookup(self, name: str, key: str, value: object) -> dict[str, Any] | None: ...


class VaultScoreService:
    """Scores from the vault's derived tables (written by the credit model's batch scoring)."""

    def __init__(self, vault: Lookup, tables_total: int = 17) -> None:
        self._vault = vault
        self._tables_total = tables_total

    def score_subject(self, subject: str) -> ScoreResult | None:
        row = self._vault.lookup("scores", "subject", subject)
        return None if row is None else result_from_row(row, self._tables_total)

    def household_of(self, subject: str) -> str | None:
        row = self._vault.lookup("scores", "subject", subject)
        household = None if row is None else row.get("household")
        return household if isinstance(household, str) else None

    def score_household(self, household: str) -> ScoreResult | None:
        row = self._vault.lookup("household_scores", "household", household)
        return None if row is None else result_from_row(row, self._tables_total)


def result_from_row(row: Mapping[str, Any], tables_total: int) -> ScoreResult:
    """Build the declared outputs from a derived-table row; any other column is dropped."""
    reasons = row.get("reason_codes") or []
    if isinstance(reasons, str):
        reasons = json.loads(reasons)
    computed = row["computed_at"]
    if isinstance(computed, dt.datetime) and computed.tzinfo is None:
        computed = computed.replace(tzinfo=dt.UTC)
    return ScoreResult(
        dimensions=Dimensions(**{d: _float(row.get(d)) for d in DIMENSIONS}),
        morality_points=_float(row.get("morality_points")),
        morality_code=row.get("morality_code"),
        credit_line=None if row.get("credit_line") is None else int(row["credit_line"]),
        reason_codes=tuple(ReasonCode.model_validate(r) for r in list(reasons)[:4]),
        model=str(row["model"]),
        computed_at=computed,
        coverage=Coverage(
            tables_with_data=int(row.get("tables_with_data") or 0), tables_total=tables_total
        ),
        no_score_reason=row.get("no_score_reason"),
    )


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)
