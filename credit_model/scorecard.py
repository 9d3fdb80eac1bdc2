"""The 五维图 scorecard: a pure function from features to a score (no I/O, no clock).

For a scored person (`score`):

1. each feature's value is capped and moves its dimension by ``points`` per unit;
   a dimension's score is ``base + Σ`` clamped to 0–100 and rounded to 4 decimals;
2. the composite is Σ weight × dimension score; the morality points are the composite on
   the spec's scale (110), rounded to 1 decimal; the band of those points is the morality
   code;
3. a veto (一票否决) means no credit whatever the points; otherwise credit is granted from
   the qualifying points (80) at the band's line;
4. reasons: the vetoes, then the factors costing the most points (what the points would
   gain were that factor at its best, everything else unchanged), at most four in all,
   ties in spec order; a factor that costs nothing is never a reason. After them, notes
   (`NOTES`) say that records no longer count: repaired (信用修复) or whose publication
   window ended, one per kind and dimension.

A person is not scored (``no_score``) when not a registered resident (NS01), under the
minimum age (NS02), or without a record in at least ``min_sources`` source tables (NS03).
A household is scored from its scored members (`score_household`), or not at all (NS04).
`credit_model.compiled` is the same scorecard in SQL for whole populations; the tests hold
the two equal.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TypedDict

from credit_model.features import FeatureRow
from credit_model.results import (
    DimensionScore,
    Explanation,
    HouseholdScore,
    MoralityCode,
    ReasonCode,
    ReleaseRef,
    ScoreResult,
)
from credit_model.spec import Feature, ModelSpec

MAX_REASONS = 4
NOT_REGISTERED = Explanation(
    code="NS01",
    zh="未在户籍人口中登记，无法评分",
    en="Not a registered resident: no score",
)
UNDER_AGE = Explanation(code="NS02", zh="未成年人不予评分", en="Under the minimum age: not scored")
NO_RECORDS = Explanation(
    code="NS03",
    zh="除户籍外无任何来源数据，无法评分",
    en="No records in any source table besides residence: no score",
)
NO_ADULT_MEMBER = Explanation(
    code="NS04",
    zh="户内无可评分的成员，无法评分",
    en="No member of the household can be scored: no score",
)


REPAIRED = Explanation(
    code="RP01",
    zh="有不良记录已完成信用修复，自修复之日起不再计入评分",
    en="A negative record was repaired (信用修复): it no longer counts from the repair's date",
)
LAPSED = Explanation(
    code="RP02",
    zh="有不良记录公示期已届满，不再计入评分",
    en="A negative record's publication period has ended: it no longer counts",
)
NOTES = {"repaired": REPAIRED, "lapsed": LAPSED}


def round_half_up(value: float, digits: int) -> float:
    """Round half away from zero for non-negative values, exactly as `compiled` does in SQL
    (``floor(x * 10^k + 0.5) / 10^k``); Python's `round` rounds half to even."""
    scale = 10.0**digits
    return math.floor(value * scale + 0.5) / scale


def clamp(value: float) -> float:
    return min(max(value, 0.0), 100.0)


def feature_points(feature: Feature, value: float) -> float:
    """Points the feature adds to its dimension (≤ 0 for a negative feature)."""
    earned = feature.points * min(value, feature.cap)
    return earned if feature.direction == "positive" else -earned


def dimension_raw(spec: ModelSpec, values: Mapping[str, float]) -> dict[str, float]:
    """Each dimension's base plus its features' points, before clamping (spec order)."""
    raw = {d.id: d.base for d in spec.dimensions}
    for f in spec.features:
        raw[f.dimension] = raw[f.dimension] + feature_points(f, values[f.id])
    return raw


def feature_losses(spec: ModelSpec, values: Mapping[str, float]) -> dict[str, float]:
    """Morality points each feature costs: the gain were it at its best (a positive feature
    at its cap, a negative one at zero), the others unchanged; rounded to 2 decimals."""
    raw = dimension_raw(spec, values)
    losses = {}
    for f in spec.features:
        pts = feature_points(f, values[f.id])
        delta = f.max_points - pts if f.direction == "positive" else -pts
        d = raw[f.dimension]
        gain = clamp(d + delta) - clamp(d)
        weight = spec.dimension(f.dimension).weight
        losses[f.id] = round_half_up(gain * weight * spec.points.scale / 100.0, 2)
    return losses


def dimension_scores(spec: ModelSpec, values: Mapping[str, float]) -> dict[str, float]:
    return {k: round_half_up(clamp(v), 4) for k, v in dimension_raw(spec, values).items()}


def morality_points(spec: ModelSpec, dims: Mapping[str, float]) -> float:
    composite = 0.0
    for d in spec.dimensions:
        composite = composite + d.weight * dims[d.id]
    return round_half_up(composite * spec.points.scale / 100.0, 1)


def no_score_reason(spec: ModelSpec, row: FeatureRow) -> Explanation | None:
    """Why ``row``'s subject cannot be scored, or None."""
    if row.age is None or row.age < spec.eligibility.min_age:
        return UNDER_AGE
    if sum(1 for n in row.coverage.values() if n > 0) < spec.eligibility.min_sources:
        return NO_RECORDS
    return None


def reasons(
    spec: ModelSpec, vetoed: Sequence[str], losses: Mapping[str, float]
) -> tuple[ReasonCode, ...]:
    """The vetoes (spec order), then the costliest factors; at most `MAX_REASONS`."""
    out = [
        ReasonCode(**v.reason.model_dump(), kind="veto", dimension=v.dimension, points_lost=None)
        for v in spec.vetoes
        if v.id in vetoed
    ]
    order = {f.id: i for i, f in enumerate(spec.features)}
    ranked = sorted((f for f in spec.features if losses[f.id] > 0),
                    key=lambda f: (-losses[f.id], order[f.id]))  # fmt: skip
    for f in ranked[: max(0, MAX_REASONS - len(out))]:
        out.append(
            ReasonCode(
                **f.reason.model_dump(),
                kind="factor",
                dimension=f.dimension,
                points_lost=losses[f.id],
            )
        )
    return tuple(out[:MAX_REASONS])


def notes(spec: ModelSpec, rows: Sequence[FeatureRow]) -> tuple[ReasonCode, ...]:
    """One note per kind (`NOTES`) and dimension for the records of ``rows`` (a person, or a
    household's scored members) that stopped counting, in spec order of their tables."""
    dimension = {f.table: f.dimension for f in reversed(spec.features)}
    found: list[ReasonCode] = []
    for kind, text in NOTES.items():
        for table in spec.tables():
            if sum(getattr(r, kind).get(table, 0) for r in rows) == 0:
                continue
            note = ReasonCode(**text.model_dump(), kind="note", dimension=dimension[table],
                              points_lost=None)  # fmt: skip
            if note not in found:
                found.append(note)
    return tuple(found)


def _vetoed(spec: ModelSpec, scored: Sequence[FeatureRow]) -> list[str]:
    """The vetoes any of ``scored`` (a person, or a household's scored members) carries."""
    return [v.id for v in spec.vetoes if any(m.vetoes[v.id] for m in scored)]


def _household_reasons(
    spec: ModelSpec, scored: Sequence[FeatureRow], vetoed: Sequence[str]
) -> tuple[ReasonCode, ...]:
    """A household's reasons: its vetoes, then its scored members' mean factor costs, then
    the notes of its scored members' records."""
    losses = _mean([feature_losses(spec, m.values) for m in scored], 2)
    return reasons(spec, vetoed, losses) + notes(spec, scored)


def _coverage(spec: ModelSpec, members: Sequence[FeatureRow]) -> dict[str, int]:
    return {t: sum(m.coverage.get(t, 0) for m in members) for t in spec.tables()}


def person_explanation(
    spec: ModelSpec, row: FeatureRow
) -> tuple[tuple[ReasonCode, ...], dict[str, int]]:
    """A person's reasons (none if not scored) and data coverage, from their feature row."""
    if no_score_reason(spec, row) is not None:
        return (), dict(row.coverage)
    found = reasons(spec, _vetoed(spec, [row]), feature_losses(spec, row.values))
    return found + notes(spec, [row]), dict(row.coverage)


def household_explanation(
    spec: ModelSpec, members: Sequence[FeatureRow]
) -> tuple[tuple[ReasonCode, ...], dict[str, int]]:
    """A household's reasons (from its scored members' mean factor costs and any member's
    veto; none if no member is scored) and its coverage (the members' counts summed)."""
    scored = [m for m in members if no_score_reason(spec, m) is None]
    found = _household_reasons(spec, scored, _vetoed(spec, scored)) if scored else ()
    return found, _coverage(spec, members)


def _dimension_list(spec: ModelSpec, dims: Mapping[str, float]) -> tuple[DimensionScore, ...]:
    return tuple(
        DimensionScore(id=d.id, zh=d.zh, en=d.en, score=dims[d.id]) for d in spec.dimensions
    )


class _Verdict(TypedDict):
    dimensions: tuple[DimensionScore, ...]
    morality_points: float
    morality_code: MoralityCode
    eligible: bool
    credit_line: int


class _Common(TypedDict):
    model: str
    spec_digest: str
    release: ReleaseRef | None
    as_of: dt.date
    computed_at: dt.datetime


def _verdict(
    spec: ModelSpec, dims: Mapping[str, float], vetoed: Sequence[str], household: bool
) -> _Verdict:
    points = morality_points(spec, dims)
    band = spec.band_for(points)
    eligible = not vetoed and points >= spec.points.qualifying
    line = band.household_line if household else band.credit_line
    return _Verdict(
        dimensions=_dimension_list(spec, dims),
        morality_points=points,
        morality_code=MoralityCode(code=band.code, zh=band.zh, en=band.en),
        eligible=eligible,
        credit_line=line if eligible else 0,
    )


def _common(
    spec: ModelSpec, as_of: dt.date, computed_at: dt.datetime, release: ReleaseRef | None
) -> _Common:
    return _Common(model=spec.ref, spec_digest=spec.digest.hex(), release=release,
                   as_of=as_of, computed_at=computed_at)  # fmt: skip


def not_scored(
    spec: ModelSpec,
    subject: str,
    why: Explanation,
    *,
    as_of: dt.date,
    computed_at: dt.datetime,
    release: ReleaseRef | None = None,
    coverage: Mapping[str, int] | None = None,
) -> ScoreResult:
    """The result for a subject that cannot be scored, saying why."""
    return ScoreResult(
        subject=subject, status="no_score", no_score_reason=why, coverage=coverage or {},
        **_common(spec, as_of, computed_at, release),
    )  # fmt: skip


def score(
    spec: ModelSpec,
    row: FeatureRow,
    *,
    computed_at: dt.datetime,
    release: ReleaseRef | None = None,
) -> ScoreResult:
    """Score one person from their feature row; deterministic given its arguments."""
    why = no_score_reason(spec, row)
    if why is not None:
        return not_scored(spec, row.subject, why, as_of=row.as_of, computed_at=computed_at,
                          release=release, coverage=row.coverage)  # fmt: skip
    vetoed = _vetoed(spec, [row])
    dims = dimension_scores(spec, row.values)
    return ScoreResult(
        subject=row.subject,
        status="scored",
        reasons=reasons(spec, vetoed, feature_losses(spec, row.values)) + notes(spec, [row]),
        coverage=row.coverage,
        **_verdict(spec, dims, vetoed, household=False),
        **_common(spec, row.as_of, computed_at, release),
    )


def score_household(
    spec: ModelSpec,
    household: str,
    members: Sequence[FeatureRow],
    *,
    as_of: dt.date,
    computed_at: dt.datetime,
    release: ReleaseRef | None = None,
) -> HouseholdScore:
    """Score a household from its members' feature rows: the mean of the scored members'
    dimension scores and factor costs; any member's veto is the household's (Yuyao signs
    households, and one member's active listing bars the household's loan)."""
    scored = [m for m in members if no_score_reason(spec, m) is None]
    coverage = _coverage(spec, members)
    common = _common(spec, as_of, computed_at, release)
    if not scored:
        return HouseholdScore(household=household, members_scored=0, status="no_score",
                              no_score_reason=NO_ADULT_MEMBER, coverage=coverage,
                              **common)  # fmt: skip
    dims = _mean([dimension_scores(spec, m.values) for m in scored], 4)
    vetoed = _vetoed(spec, scored)
    return HouseholdScore(
        household=household,
        members_scored=len(scored),
        status="scored",
        reasons=_household_reasons(spec, scored, vetoed),
        coverage=coverage,
        **_verdict(spec, dims, vetoed, household=True),
        **common,
    )


def _mean(rows: Sequence[Mapping[str, float]], digits: int) -> dict[str, float]:
    """Key-wise mean of values already rounded to ``digits``: summed exactly as integers of
    10^-digits, divided, then rounded half up (so the order of addition cannot matter)."""
    scale = 10**digits
    out = {}
    for key in rows[0]:
        total = sum(round(r[key] * scale) for r in rows)
        out[key] = math.floor(total / len(rows) + 0.5) / scale
    return out
