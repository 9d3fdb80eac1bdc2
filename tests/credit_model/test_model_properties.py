"""Property tests (hypothesis): the scorecard is monotone in good deeds and bad records,
vetoes never help, and a score is a deterministic function of its features."""

from __future__ import annotations

import datetime as dt
from typing import Any

from conftest import COMPUTED_AT
from hypothesis import given, settings
from hypothesis import strategies as st
from model_profiles import AS_OF, profile
from model_reference import reference_features

from credit_model.features import FeatureRow
from credit_model.results import ScoreResult
from credit_model.scorecard import score
from credit_model.spec import DEFAULT_SPEC, load_spec
from vault.registry import load_registry

SPEC = load_spec(DEFAULT_SPEC)
REGISTRY = load_registry()
POSITIVE = [f.id for f in SPEC.features if f.direction == "positive"]
NEGATIVE = [f.id for f in SPEC.features if f.direction == "negative"]

values = st.fixed_dictionaries(
    {f.id: st.floats(0, f.cap * 1.5, allow_nan=False) for f in SPEC.features}
)
vetoes = st.lists(st.sampled_from([v.id for v in SPEC.vetoes]), unique=True, max_size=3)


def _rank(r: ScoreResult) -> tuple[float, int, bool]:
    assert r.morality_points is not None
    return (r.morality_points, r.credit_line, r.eligible)


def _no_worse(better: ScoreResult, worse: ScoreResult) -> bool:
    b, w = _rank(better), _rank(worse)
    return b[0] >= w[0] and b[1] >= w[1] and b[2] >= w[2]


def _score(features: dict[str, float], vetoed: list[str] | tuple[str, ...] = ()) -> ScoreResult:
    return score(SPEC, profile(SPEC, features, vetoed), computed_at=COMPUTED_AT)


@given(values, vetoes, st.sampled_from(POSITIVE), st.floats(0, 500, allow_nan=False))
def test_more_of_a_good_deed_never_lowers_a_score(base: dict[str, float], vetoed: list[str],
                                                   feature: str, more: float) -> None:  # fmt: skip
    better = {**base, feature: base[feature] + more}
    assert _no_worse(_score(better, vetoed), _score(base, vetoed))


@given(values, vetoes, st.sampled_from(NEGATIVE), st.floats(0, 500, allow_nan=False))
def test_an_added_penalty_never_raises_a_score(base: dict[str, float], vetoed: list[str],
                                                feature: str, more: float) -> None:  # fmt: skip
    worse = {**base, feature: base[feature] + more}
    assert _no_worse(_score(base, vetoed), _score(worse, vetoed))


@given(values, vetoes, st.sampled_from([v.id for v in SPEC.vetoes]))
def test_a_veto_never_helps_and_always_ends_in_no_credit(base: dict[str, float], vetoed: list[str],
                                                         extra: str) -> None:  # fmt: skip
    vetoed_more = _score(base, sorted({*vetoed, extra}))
    assert _no_worse(_score(base, vetoed), vetoed_more)
    assert vetoed_more.credit_line == 0 and not vetoed_more.eligible
    assert vetoed_more.reasons[0].kind == "veto"


@given(values, vetoes)
def test_reasons_are_specific_few_and_ordered(base: dict[str, float], vetoed: list[str]) -> None:
    result = _score(base, vetoed)
    assert len(result.reasons) <= 4
    dims = {d.id for d in SPEC.dimensions}
    assert all(r.dimension in dims and r.zh and r.en for r in result.reasons)
    factors = [r.points_lost for r in result.reasons if r.kind == "factor"]
    assert all(x is not None and x > 0 for x in factors)
    assert factors == sorted(factors, reverse=True)  # type: ignore[type-var]
    assert [r.kind for r in result.reasons] == sorted(
        (r.kind for r in result.reasons), key=lambda k: k != "veto"
    )


@given(values, vetoes)
def test_a_score_is_a_function_of_its_features(base: dict[str, float], vetoed: list[str]) -> None:
    assert _score(dict(base), list(vetoed)) == _score(dict(base), list(vetoed))


# -- records, through the naive reference features ----------------------------------------

days = st.integers(0, 12 * 365)
penalty = st.builds(
    lambda age, lasted, severity: {
        "decision_date": AS_OF - dt.timedelta(days=age),
        "conduct_end_date": AS_OF - dt.timedelta(days=max(age - lasted, 0)),
        "severity": severity,
    },
    days, st.integers(0, 200), st.sampled_from(["minor", "general", "serious"]),
)  # fmt: skip
service = st.builds(
    lambda age, tenths: {"service_date": AS_OF - dt.timedelta(days=age), "hours": tenths / 10},
    days, st.integers(5, 240),
)  # fmt: skip


def _from_records(rows: dict[str, list[dict[str, Any]]]) -> ScoreResult:
    ref = reference_features(SPEC, REGISTRY, rows, AS_OF)
    row = FeatureRow(
        subject="s" * 32, household="h" * 32, birth_year=1980, sex="M", town_code="T01",
        village_code="T01V001", as_of=AS_OF, spec_digest=SPEC.digest.hex(),
        values={f.id: ref[f.id] for f in SPEC.features},
        vetoes={v.id: ref[f"veto_{v.id}"] for v in SPEC.vetoes},
        coverage={t: ref[f"n_{t}"] for t in SPEC.tables()} | {"moral_reviews": 1},
    )  # fmt: skip
    return score(SPEC, row, computed_at=COMPUTED_AT)


@settings(max_examples=60)
@given(st.lists(service, max_size=8), st.lists(penalty, max_size=5), service)
def test_an_added_volunteer_record_never_lowers_a_score(hours: list[dict[str, Any]],
                                                         penalties: list[dict[str, Any]],
                                                         extra: dict[str, Any]) -> None:  # fmt: skip
    base = {"volunteer_service": hours, "administrative_penalties": penalties}
    more = {**base, "volunteer_service": [*hours, extra]}
    assert _no_worse(_from_records(more), _from_records(base))


@settings(max_examples=60)
@given(st.lists(service, max_size=5), st.lists(penalty, min_size=1, max_size=6), st.data())
def test_a_removed_negative_record_never_lowers_a_score(hours: list[dict[str, Any]],
                                                         penalties: list[dict[str, Any]],
                                                         data: st.DataObject) -> None:  # fmt: skip
    drop = data.draw(st.integers(0, len(penalties) - 1))
    fewer = [p for i, p in enumerate(penalties) if i != drop]
    base = {"volunteer_service": hours, "administrative_penalties": penalties}
    assert _no_worse(
        _from_records({**base, "administrative_penalties": fewer}), _from_records(base)
    )
