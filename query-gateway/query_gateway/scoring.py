"""`ScoreService`: the gateway's narrow interface to the credit model's scores.

The gateway asks for the score of one subject pseudonym or of one household and gets a
`ScoreResult` holding only what the catalogue declares; nothing else of the model's output
can reach a response. `model_scores.ModelScoreService` implements it over the credit model.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

DIMENSIONS = ("moral_review", "law_abiding", "honesty", "volunteering", "virtue")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReasonCode(_Frozen):
    """What holds the score down (never a vague "other"): a veto or a factor."""

    code: str = Field(pattern=r"^[A-Z]{2}\d{2}$")
    dimension: str
    kind: Literal["veto", "factor"] = "factor"
    en: str | None = None
    zh: str | None = None


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

    def refresh(self) -> int:
        """Recompute the per-person features after the vault changed (an ingest); returns
        how many people have features."""
        ...
