"""Hand-computed profiles (``vectors/*.json``, each explaining its arithmetic) against the
scorecard, for a person and for a household."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import COMPUTED_AT
from model_profiles import AS_OF, VECTORS, load_vector, vector_row

from credit_model.results import HouseholdScore, ScoreResult
from credit_model.scorecard import score, score_household
from credit_model.spec import ModelSpec

PERSONS = sorted(
    p.stem for p in VECTORS.glob("*.json") if "household_of" not in load_vector(p.stem)
)


def _check(result: ScoreResult | HouseholdScore, expected: dict[str, Any]) -> None:
    assert result.status == expected["status"]
    if result.status == "no_score":
        assert result.no_score_reason is not None
        assert result.no_score_reason.code == expected["no_score_reason"]
        assert result.credit_line == 0 and not result.eligible and not result.reasons
        return
    assert {d.id: d.score for d in result.dimensions} == expected["dimensions"]
    assert result.morality_points == expected["morality_points"]
    assert (
        result.morality_code is not None and result.morality_code.code == expected["morality_code"]
    )
    assert (result.eligible, result.credit_line) == (expected["eligible"], expected["credit_line"])
    assert [[r.code, r.points_lost] for r in result.reasons] == expected["reasons"]


@pytest.mark.parametrize("name", PERSONS)
def test_person_vectors(spec: ModelSpec, name: str) -> None:
    result = score(spec, vector_row(spec, name), computed_at=COMPUTED_AT)
    _check(result, load_vector(name)["expected"])
    assert result.model == "wuweitu@1" and result.computed_at == COMPUTED_AT
    assert result.coverage["moral_reviews"] == load_vector(name)["coverage"].get("moral_reviews", 0)


def test_household_vector(spec: ModelSpec) -> None:
    vector = load_vector("household-mixed")
    members = [vector_row(spec, n) for n in vector["household_of"]]
    result = score_household(spec, "h" * 32, members, as_of=AS_OF, computed_at=COMPUTED_AT)
    _check(result, vector["expected"])
    assert result.members_scored == vector["expected"]["members_scored"]
    assert result.coverage["volunteer_service"] == 12 + 5


def test_a_household_without_adults_is_not_scored(spec: ModelSpec) -> None:
    result = score_household(spec, "h" * 32, [vector_row(spec, "minor")], as_of=AS_OF,
                             computed_at=COMPUTED_AT)  # fmt: skip
    assert result.status == "no_score" and result.no_score_reason is not None
    assert result.no_score_reason.code == "NS04"
