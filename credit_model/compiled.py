"""The scorecard compiled to SQL, for whole populations: same arithmetic, in the vault.

`score_sql(spec, features, extra)` turns a feature table (as made by
`credit_model.features.feature_sql`) into one score row per subject; `household_sql(spec,
scores, extra)` turns those rows into one row per household. Every operation mirrors
`credit_model.scorecard` in the same order (sums left to right, ``floor(x·10^k + 0.5)/10^k``
rounding), so the SQL and the pure scorecard agree to the bit on the same features; the
tests check it on every subject of a generated population. `result_from_record` turns a
score row back into a `ScoreResult`. ``extra`` maps constant columns (computed-at, release)
to their already-quoted SQL literals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from credit_model.features import BASE_COLUMNS
from credit_model.results import (
    DimensionScore,
    Explanation,
    HouseholdScore,
    MoralityCode,
    ReasonCode,
    ReleaseRef,
    ScoreResult,
)
from credit_model.scorecard import NO_ADULT_MEMBER, NO_RECORDS, UNDER_AGE, reasons
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


def _loss(spec: ModelSpec, f: Feature) -> str:
    raw = f"raw_{f.dimension}"
    delta = (
        f"({_num(f.max_points)} - {_points(f)})"
        if f.direction == "positive"
        else f"(-{_points(f)})"
    )
    gain = f"({_clamp(f'{raw} + {delta}')} - {_clamp(raw)})"
    weight = _num(spec.dimension(f.dimension).weight)
    return _round(f"{gain} * {weight} * {_num(spec.points.scale)} / 100.0", 2)


def _no_score(spec: ModelSpec) -> str:
    covered = " + ".join(f"CAST(n_{t} > 0 AS INTEGER)" for t in spec.tables())
    return (
        f"CASE WHEN birth_year IS NULL OR year(as_of) - birth_year < "
        f"{spec.eligibility.min_age} THEN '{UNDER_AGE.code}' "
        f"WHEN ({covered}) < {spec.eligibility.min_sources} THEN '{NO_RECORDS.code}' END"
    )


def _verdict(spec: ModelSpec, household: bool) -> list[str]:
    """Points, band, eligibility and line from ``dim_*``, ``veto_*``, ``no_score`` columns
    (the part shared by persons and households). The reasons are not a column: the row's
    ``loss_*`` and ``veto_*`` columns determine them (`_reason_codes`)."""
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
        f"CASE WHEN no_score IS NULL THEN {points} END AS morality_points",
        f"CASE WHEN morality_points IS NULL THEN NULL {band} ELSE '{top}' END AS morality_code",
        f"({vetoed}) AS vetoed",
        f"(no_score IS NULL AND NOT ({vetoed}) AND morality_points >= "
        f"{_num(spec.points.qualifying)}) AS eligible",
        f"CASE WHEN eligible THEN CASE morality_code {lines} END ELSE 0 END AS credit_line",
    ]


def _with_verdict(spec: ModelSpec, inner: str, keep: list[str], household: bool) -> str:
    """Stack the verdict's columns over ``inner`` (DuckDB resolves the lateral aliases)."""
    verdict = _verdict(spec, household)
    return f"SELECT {', '.join(keep)}, {', '.join(verdict)} FROM ({inner})"


def _mean(column: str, digits: int, where: str) -> str:
    """Mean of a column rounded to ``digits``, as `scorecard._mean` computes it (exactly)."""
    scale = _num(10.0**digits)
    total = f"CAST(sum(CAST(round({column} * {scale}) AS BIGINT)) {where} AS DOUBLE)"
    return f"(floor({total} / CAST(count(*) {where} AS DOUBLE) + 0.5) / {scale})"


def _constants(extra: Mapping[str, str]) -> list[str]:
    return [f"{value} AS {name}" for name, value in extra.items()]


def score_sql(spec: ModelSpec, features: str, extra: Mapping[str, str]) -> str:
    """One score row per subject of the feature table ``features``."""
    dims = [d.id for d in spec.dimensions]
    stage = [
        *BASE_COLUMNS, "as_of", "spec_digest", *(f.id for f in spec.features),
        *(f"n_{t}" for t in spec.tables()), *(f"veto_{v.id}" for v in spec.vetoes),
        f"{_no_score(spec)} AS no_score",
        *(f"{_raw(spec, d)} AS raw_{d}" for d in dims),
    ]  # fmt: skip
    second = [
        "*",
        *(f"{_round(_clamp(f'raw_{d}'), 4)} AS dim_{d}" for d in dims),
        *(f"{_loss(spec, f)} AS loss_{f.id}" for f in spec.features),
    ]
    inner = f"SELECT {', '.join(second)} FROM (SELECT {', '.join(stage)} FROM {features})"
    keep = [
        *BASE_COLUMNS, "as_of", "spec_digest", f"'{spec.ref}' AS model", "no_score",
        *(f"dim_{d}" for d in dims), *(f"loss_{f.id}" for f in spec.features),
        *(f"veto_{v.id}" for v in spec.vetoes), *(f"n_{t}" for t in spec.tables()),
        *_constants(extra),
    ]  # fmt: skip
    return _with_verdict(spec, inner, keep, household=False)


def household_sql(spec: ModelSpec, scores: str, extra: Mapping[str, str]) -> str:
    """One row per household of the score table ``scores`` (mean of scored members)."""
    scored = "FILTER (WHERE no_score IS NULL)"
    aggregates = [
        "household", "any_value(as_of) AS as_of", "any_value(spec_digest) AS spec_digest",
        f"count(*) {scored} AS members_scored",
        f"CASE WHEN count(*) {scored} = 0 THEN '{NO_ADULT_MEMBER.code}' END AS no_score",
        *(f"{_mean(f'dim_{d.id}', 4, scored)} AS dim_{d.id}" for d in spec.dimensions),
        *(f"{_mean(f'loss_{f.id}', 2, scored)} AS loss_{f.id}" for f in spec.features),
        *(f"coalesce(bool_or(veto_{v.id}) {scored}, FALSE) AS veto_{v.id}" for v in spec.vetoes),
        *(f"sum(n_{t}) AS n_{t}" for t in spec.tables()),
    ]  # fmt: skip
    inner = f"SELECT {', '.join(aggregates)} FROM {scores} GROUP BY household"
    keep = [
        "household", "as_of", "spec_digest", f"'{spec.ref}' AS model", "members_scored",
        "no_score", *(f"dim_{d.id}" for d in spec.dimensions),
        *(f"loss_{f.id}" for f in spec.features), *(f"veto_{v.id}" for v in spec.vetoes),
        *(f"n_{t}" for t in spec.tables()), *_constants(extra),
    ]  # fmt: skip
    return _with_verdict(spec, inner, keep, household=True)


_NO_SCORE = {e.code: e for e in (UNDER_AGE, NO_RECORDS, NO_ADULT_MEMBER)}


def _reason_codes(spec: ModelSpec, record: Mapping[str, Any]) -> tuple[ReasonCode, ...]:
    """The reasons of a score row, ranked from its stored ``veto_*`` and ``loss_*`` columns
    by the scorecard's own rule (ranking 26 factors per row in SQL cost more than the rest
    of the scorecard together, for a column only a single look-up reads)."""
    vetoed = [v.id for v in spec.vetoes if record[f"veto_{v.id}"]]
    return reasons(spec, vetoed, {f.id: float(record[f"loss_{f.id}"]) for f in spec.features})


def _fields(spec: ModelSpec, record: Mapping[str, Any], release: ReleaseRef | None,
            computed_at: dt.datetime) -> dict[str, Any]:  # fmt: skip
    common: dict[str, Any] = {
        "model": spec.ref, "spec_digest": record["spec_digest"], "release": release,
        "as_of": record["as_of"], "computed_at": computed_at,
        "coverage": {t: int(record[f"n_{t}"]) for t in spec.tables()},
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
        "reasons": _reason_codes(spec, record),
    }


def result_from_record(
    spec: ModelSpec, record: Mapping[str, Any], release: ReleaseRef | None,
    computed_at: dt.datetime,
) -> ScoreResult:  # fmt: skip
    """A `ScoreResult` from a row of the table made by `score_sql`."""
    return ScoreResult(subject=record["subject"], **_fields(spec, record, release, computed_at))


def household_from_record(
    spec: ModelSpec, record: Mapping[str, Any], release: ReleaseRef | None,
    computed_at: dt.datetime,
) -> HouseholdScore:  # fmt: skip
    """A `HouseholdScore` from a row of the table made by `household_sql`."""
    return HouseholdScore(household=record["household"],
                          members_scored=int(record["members_scored"]),
                          **_fields(spec, record, release, computed_at))  # fmt: skip
