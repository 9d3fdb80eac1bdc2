"""The in-memory feature store answers exactly what the look-up in the vault does."""

from __future__ import annotations

import pytest

from credit_model.errors import FeaturesMissingError, FeaturesStaleError
from credit_model.feature_store import FeatureStore
from credit_model.spec import ModelSpec
from governance.model_runs import FEATURES, feature_row
from vault.store import Vault


def _households(vault: Vault) -> list[str]:
    rows = vault.query(
        f"SELECT household FROM derived.{FEATURES} WHERE household IS NOT NULL "
        "GROUP BY household ORDER BY count(*) DESC, household LIMIT 25"
    )
    return [r[0] for r in rows]


def test_every_row_equals_the_indexed_look_up(scored_vault: Vault, spec: ModelSpec) -> None:
    store = FeatureStore(spec)
    count = store.load(scored_vault)
    subjects = [r[0] for r in scored_vault.query(f"SELECT subject FROM derived.{FEATURES}")]
    assert count == len(subjects) == len(store) > 1000
    for subject in subjects[::7]:
        assert store.row(subject) == feature_row(scored_vault, spec, subject)


def test_households_hold_their_members_in_subject_order(
    scored_vault: Vault, spec: ModelSpec
) -> None:
    store = FeatureStore(spec)
    store.load(scored_vault)
    for household in _households(scored_vault):
        members = scored_vault.query(
            f"SELECT subject FROM derived.{FEATURES} WHERE household = ? ORDER BY subject",
            [household],
        )
        rows = store.household(household)
        assert [r.subject for r in rows] == [m[0] for m in members]
        assert rows == [feature_row(scored_vault, spec, m[0]) for m in members]


def test_unknown_subject_and_household(scored_vault: Vault, spec: ModelSpec) -> None:
    store = FeatureStore(spec)
    store.load(scored_vault)
    assert store.row("0" * 32) is None
    assert store.row("f" * 32) is None
    assert store.household("not-a-household") == []


def test_not_loaded_and_stale(scored_vault: Vault, spec: ModelSpec) -> None:
    store = FeatureStore(spec)
    with pytest.raises(FeaturesMissingError):
        store.row("0" * 32)
    other = ModelSpec.model_validate(spec.model_dump() | {"version": spec.version + 1})
    assert other.digest != spec.digest
    stale = FeatureStore(other)
    stale.load(scored_vault)
    with pytest.raises(FeaturesStaleError):
        stale.row("0" * 32)
