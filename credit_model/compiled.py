"""The scorecard compiled to SQL, for whole populations: same arithmetic, in the vault.

`verdict_sql(spec, features)` adds each person's verdict (``no_score``, ``dim_*``, points,
code, vetoed, eligible, line) to the feature rows made by
`credit_model.features.feature_sql`: `governance.model_runs.score_all` materialises that as the
feature table, so features and verdicts are written in one pass. `score_sql(spec, features,
extra)` is the score rows alone, computed afresh (the report scores past dates with it);
`scores_view_sql` shows the stored ones; `household_sql(spec, rows, extra)` turns them into
one row per household. Every operation mirrors `credit_model.scorecard` in the same order
(sums left to right, ``floor(x·10^k + 0.5)/10^k`` rounding), so the SQL and the pure
scorecard agree to the bit on the same features; the tests check it on every subject of a
generated population. ``extra`` maps constant columns (computed-at, release) to their
already-quoted SQL literals.

A score row holds the verdict only, which is what whole-population readers (aggregates, the
report) use. The reasons and the data coverage are not columns: they follow from the
subject's feature row by the pure scorecard (`result_from_record` and
`household_from_record` take the feature rows). Writing 26 factor costs and 17 coverage
counts per row into the encrypted vault cost more than computing the whole scorecard, for
columns only a single look-up reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from credit_model.features import BASE_COLUMNS, FeatureRow
from credit_model.results import (
    DimensionScore,
    Explanation,
    HouseholdScore,
    MoralityCode,
    ReasonCode,
    ReleaseRef,
    ScoreResult,
)
from credit_model.scorecard import (
    NO_ADULT_MEMBER,
    NO_RECORDS,
    UNDER_AGE,
    household_explanation,
    person_explanation,
)
from credit_model.spec import Feature, ModelSpec


def _num(value: float) -> str:
    return repr(float(value))


def _round(expr: str, digits: int) -> str:
    scale = _num(10.0**digits)
    return f"(floor(({expr}) * {scale} + 0.5) / {scale})"


def _clamp(expr: str) -> str:
    return f"least(greatest({expr}, 0.0), 100.0)"


def _points(f: Feature) -> str:
    earned = f"({_num(f.points)} * least({f.id}, {_num(f.cap)}))"
    return earned if f.direction == "positive" else f"(-{earned})"


def _raw(spec: ModelSpec, dimension: str) -> str:
    terms = [_num(spec.dimension(dimension).base)]
    terms += [_points(f) for f in spec.features if f.dimension == dimension]
    return " + ".join(terms)


def _no_score(spec: ModelSpec) -> str:
    covered = " + ".join(f"CAST(n_{t} > 0 AS INTEGER)" for t in spec.tables())
    return (
        f"CASE WHEN birth_year IS NULL OR year(as_of) - birth_year < "
        f"{spec.eligibility.min_age} THEN '{UNDER_AGE.code}' "
        f"WHEN ({covered}) < {spec.eligibility.min_sources} THEN '{NO_RECORDS.code}' END"
    )


VERDICT_COLUMNS = ("morality_points", "morality_code", "vetoed", "eligible", "credit_line")


def _verdict(spec: ModelSpec, household: bool) -> list[list[str]]:
    """Points, band, eligibility and line from ``dim_*``, ``veto_*``, ``no_score`` columns
    (the part shared by persons and households), in stages: each stage reads only columns of
    the ones before it (a lateral alias would be expanded into every expression using it)."""
    composite = " + ".join(["0.0", *(f"{_num(d.weight)} * dim_{d.id}" for d in spec.dimensions)])
    points = _round(f"({composite}) * {_num(spec.points.scale)} / 100.0", 1)
    band = " ".join(f"WHEN morality_points >= {_num(b.min)} AND morality_points < {_num(b.max)} "
                    f"THEN '{b.code}'" for b in spec.bands)  # fmt: skip
    top = max(spec.bands, key=lambda b: b.max).code
    vetoed = " OR ".join(["FALSE", *(f"veto_{v.id}" for v in spec.vetoes)])
    lines = " ".join(
        f"WHEN '{b.code}' THEN {b.household_line if household else b.credit_line}"
        for b in spec.bands
    )
    return [
        [f"CASE WHEN no_score IS NULL THEN {points} END AS morality_points",
         f"({vetoed}) AS vetoed"],
        [f"CASE WHEN morality_points IS NULL THEN NULL {band} ELSE '{top}' END AS morality_code",
         f"(no_score IS NULL AND NOT vetoed AND morality_points >= "
         f"{_num(spec.points.qualifying)}) AS eligible"],
        [f"CASE WHEN eligible THEN CASE morality_code {lines} END ELSE 0 END AS credit_line"],
    ]  # fmt: skip


def _with_verdict(spec: ModelSpec, inner: str, keep: list[str], household: bool) -> str:
    """``keep`` and the verdict's columns (`VERDICT_COLUMNS`) over the rows ``inner``."""
    query = inner
    for stage in _verdict(spec, household):
        query = f"SELECT *, {', '.join(stage)} FROM ({query})"
    return f"SELECT {', '.join(keep)}, {', '.join(VERDICT_COLUMNS)} FROM ({query})"


def _mean(column: str, digits: int) -> str:
    """Mean of a column's non-NULL values rounded to ``digits``, as `scorecard._mean`
    computes it (exactly, in integer units)."""
    scale = _num(10.0**digits)
    total = f"CAST(sum(CAST(round({column} * {scale}) AS BIGINT)) AS DOUBLE)"
    return f"(floor({total} / CAST(count({column}) AS DOUBLE) + 0.5) / {scale})"


def _constants(extra: Mapping[str, str]) -> list[str]:
    return [f"{value} AS {name}" for name, value in extra.items()]


def verdict_sql(spec: ModelSpec, features: str) -> str:
    """Every column of the feature rows ``features`` (a table or a parenthesised query) plus
    each person's verdict: ``no_score``, ``dim_*`` and `VERDICT_COLUMNS`. Materialised as
    the feature table itself, so the verdict is computed and stored in the same pass."""
    dims = [d.id for d in spec.dimensions]
    stage = ["*", f"{_no_score(spec)} AS no_score", *(f"{_raw(spec, d)} AS raw_{d}" for d in dims)]
    second = ["*", *(f"{_round(_clamp(f'raw_{d}'), 4)} AS dim_{d}" for d in dims)]
    inner = f"SELECT {', '.join(second)} FROM (SELECT {', '.join(stage)} FROM {features})"
    dropped = ", ".join([*(f"raw_{d}" for d in dims), *VERDICT_COLUMNS])
    return _with_verdict(spec, inner, [f"* EXCLUDE ({dropped})"], household=False)


RUN_COLUMNS = ("model", "computed_at", "release_block", "release_tx")


def run_sql(spec: ModelSpec, extra: Mapping[str, str]) -> str:
    """The one row of `RUN_COLUMNS` that `scores_view_sql` joins: the model and ``extra``."""
    columns = [f"'{spec.ref}' AS model", *_constants(extra)]
    return "SELECT " + ", ".join(columns)


def score_columns(spec: ModelSpec) -> list[str]:
    """A person's score row, but for the run's `RUN_COLUMNS`."""
    return [*BASE_COLUMNS, "as_of", "spec_digest", "no_score", *(f"dim_{d.id}" for d in spec.dimensions),
            *(f"veto_{v.id}" for v in spec.vetoes), *VERDICT_COLUMNS]  # fmt: skip


def score_sql(spec: ModelSpec, features: str, extra: Mapping[str, str]) -> str:
    """One score row per subject of the feature rows ``features``, computed afresh."""
    columns = [*score_columns(spec), f"'{spec.ref}' AS model", *_constants(extra)]
    return f"SELECT {', '.join(columns)} FROM ({verdict_sql(spec, features)})"


def scores_view_sql(spec: ModelSpec, scored: str, run: str) -> str:
    """The score rows of a table made by `verdict_sql`, with the one row of ``run`` (the
    `RUN_COLUMNS` of the score-all that made it)."""
    columns = [*(f"s.{c}" for c in score_columns(spec)), *(f"r.{c}" for c in RUN_COLUMNS)]
    return f"SELECT {', '.join(columns)} FROM {scored} s CROSS JOIN {run} r"


def household_sql(spec: ModelSpec, scores: str, extra: Mapping[str, str]) -> str:
    """One row per household of the rows ``scores`` (made by `verdict_sql` or `score_sql`):
    the mean of the scored members. An unscored member's values are NULL going in, which
    the aggregates skip (cheaper than a FILTER clause on each)."""
    dims, vetoes = [f"dim_{d.id}" for d in spec.dimensions], [f"veto_{v.id}" for v in spec.vetoes]
    members = [
        "household",
        "as_of",
        "spec_digest",
        "no_score IS NULL AS scored",
        *(f"CASE WHEN no_score IS NULL THEN {c} END AS {c}" for c in [*dims, *vetoes]),
    ]
    aggregates = [
        "household", "any_value(as_of) AS as_of", "any_value(spec_digest) AS spec_digest",
        "count(*) FILTER (WHERE scored) AS members_scored",
        *(f"{_mean(c, 4)} AS {c}" for c in dims),
        *(f"coalesce(bool_or({c}), FALSE) AS {c}" for c in vetoes),
    ]  # fmt: skip
    counted = f"SELECT {', '.join(aggregates)} FROM (SELECT {', '.join(members)} FROM {scores}) GROUP BY household"
    inner = f"SELECT *, CASE WHEN members_scored = 0 THEN '{NO_ADULT_MEMBER.code}' END AS no_score FROM ({counted})"
    keep = [
        "household", "as_of", "spec_digest", f"'{spec.ref}' AS model", "members_scored",
        "no_score", *(f"dim_{d.id}" for d in spec.dimensions),
        *(f"veto_{v.id}" for v in spec.vetoes), *_constants(extra),
    ]  # fmt: skip
    return _with_verdict(spec, inner, keep, household=True)


_NO_SCORE = {e.code: e for e in (UNDER_AGE, NO_RECORDS, NO_ADULT_MEMBER)}


def _fields(spec: ModelSpec, record: Mapping[str, Any], release: ReleaseRef | None,
            computed_at: dt.datetime, explain: tuple[tuple[ReasonCode, ...], dict[str, int]],
            ) -> dict[str, Any]:  # fmt: skip
    found_reasons, coverage = explain
    common: dict[str, Any] = {
        "model": spec.ref, "spec_digest": record["spec_digest"], "release": release,
        "as_of": record["as_of"], "computed_at": computed_at, "coverage": coverage,
    }  # fmt: skip
    why = record["no_score"]
    if why is not None:
        reason: Explanation = _NO_SCORE[why]
        return {**common, "status": "no_score", "no_score_reason": reason}
    band = next(b for b in spec.bands if b.code == record["morality_code"])
    return {
        **common,
        "status": "scored",
        "dimensions": tuple(
            DimensionScore(id=d.id, zh=d.zh, en=d.en, score=float(record[f"dim_{d.id}"]))
            for d in spec.dimensions
        ),
        "morality_points": float(record["morality_points"]),
        "morality_code": MoralityCode(code=band.code, zh=band.zh, en=band.en),
        "eligible": bool(record["eligible"]),
        "credit_line": int(record["credit_line"]),
        "reasons": found_reasons,
    }


def result_from_record(
    spec: ModelSpec, record: Mapping[str, Any], features: FeatureRow,
    release: ReleaseRef | None, computed_at: dt.datetime,
) -> ScoreResult:  # fmt: skip
    """A `ScoreResult` from a row of the table made by `score_sql` and the subject's feature
    row (its reasons and coverage)."""
    if features.subject != record["subject"]:
        raise ValueError("the feature row is another subject's")
    explain = person_explanation(spec, features)
    return ScoreResult(subject=record["subject"],
                       **_fields(spec, record, release, computed_at, explain))  # fmt: skip


def household_from_record(
    spec: ModelSpec, record: Mapping[str, Any], members: Sequence[FeatureRow],
    release: ReleaseRef | None, computed_at: dt.datetime,
) -> HouseholdScore:  # fmt: skip
    """A `HouseholdScore` from a row of the table made by `household_sql` and its members'
    feature rows (the household's reasons and coverage)."""
    if any(m.household != record["household"] for m in members):
        raise ValueError("a feature row is another household's")
    explain = household_explanation(spec, members)
    return HouseholdScore(household=record["household"],
                          members_scored=int(record["members_scored"]),
                          **_fields(spec, record, release, computed_at, explain))  # fmt: skip
