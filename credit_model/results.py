"""What a score says: the public, frozen result schemas (no source column appears here).

A `ScoreResult` (a person) or `HouseholdScore` (a household, the unit Yuyao signs) carries
the five dimension scores, the morality points (道德积分), the morality code (道德码), the
credit line, up to four reason codes (each tied to a dimension), the data coverage per
source table, the model (``id@version``), its spec digest and release, and when it was
computed; or, with ``status = "no_score"``, the reason why there is no score.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Explanation(_Frozen):
    """A coded statement for the subject and the bank: zh-CN first, then English."""

    code: str
    zh: str
    en: str


class ReasonCode(Explanation):
    """What holds a score down: a veto (``kind = "veto"``) or a factor and the morality
    points it costs (``points_lost``: what the score would gain were the factor at its best);
    or (``kind = "note"``, after them) what no longer counts: records repaired (信用修复) or
    whose publication window ended."""

    kind: Literal["veto", "factor", "note"]
    dimension: str
    points_lost: float | None


class DimensionScore(_Frozen):
    id: str
    zh: str
    en: str
    score: float  # 0–100


class MoralityCode(_Frozen):
    code: str
    zh: str
    en: str


class ReleaseRef(_Frozen):
    """The ledger release a score came from: the model version and where its spec hash
    was anchored (block and transaction)."""

    model_id: str
    version: int
    spec_digest: str
    block_number: int
    tx_hash: str


class _Scored(_Frozen):
    model: str
    spec_digest: str
    release: ReleaseRef | None
    as_of: dt.date
    computed_at: dt.datetime
    status: Literal["scored", "no_score"]
    no_score_reason: Explanation | None = None
    dimensions: tuple[DimensionScore, ...] = ()
    morality_points: float | None = None
    morality_code: MoralityCode | None = None
    eligible: bool = False
    credit_line: int = 0
    reasons: tuple[ReasonCode, ...] = ()
    coverage: Mapping[str, int] = {}


class ScoreResult(_Scored):
    """A person's score. ``subject`` is the pseudonym, never the ID number."""

    subject: str


class HouseholdScore(_Scored):
    """A household's score from its scored adult members (see `scorecard.score_household`)."""

    household: str
    members_scored: int
