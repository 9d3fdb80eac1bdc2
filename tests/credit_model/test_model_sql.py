"""The generated SQL on a real vault (scale 0.01) against the naive references: the feature
SQL against `model_reference`, the compiled scorecard against the pure one."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import pytest
from conftest import AS_OF, COMPUTED_AT
from model_reference import reference_features

from credit_model.compiled import household_from_record, result_from_record, score_sql
from credit_model.features import FeatureRow, feature_sql
from credit_model.scorecard import NOTES, score, score_household
from credit_model.spec import ModelSpec
from governance.model_runs import HOUSEHOLDS, SCORES
from vault.registry import Registry
from vault.store import Vault


def _records(vault: Vault, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = vault.con.cursor()
    try:
        res = cur.execute(sql, params or [])
        names = [d[0] for d in res.description]
        return [dict(zip(names, r, strict=True)) for r in res.fetchall()]
    finally:
        cur.close()


def _sample_subjects(vault: Vault, n: int) -> list[str]:
    """Subjects with the most rows in negative tables first, then a spread of everyone."""
    busy = vault.query(
        "SELECT subject FROM (SELECT subject FROM src.loan_repayments UNION ALL "
        "SELECT subject FROM src.dishonest_debtors UNION ALL SELECT subject FROM src.tax_arrears "
        "UNION ALL SELECT subject FROM src.criminal_judgments UNION ALL "
        "SELECT subject FROM src.honors_awards) GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ?",
        [n // 2],
    )
    spread = vault.query(
        "SELECT subject FROM src.residents ORDER BY hash(subject) LIMIT ?", [n // 2]
    )
    return sorted({s for (s,) in busy + spread})


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2024, 11, 1), dt.date(2024, 2, 29)])
def test_feature_sql_equals_the_naive_reference(
    scored_vault: Vault, spec: ModelSpec, registry: Registry, as_of: dt.date
) -> None:
    subjects = _sample_subjects(scored_vault, 300)
    sql = f"SELECT * FROM ({feature_sql(spec, registry, as_of)}) WHERE subject IN ?"
    got = {r["subject"]: r for r in _records(scored_vault, sql, [subjects])}
    rows: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for table in spec.tables():
        for r in _records(
            scored_vault, f"SELECT * FROM src.{table} WHERE subject IN ?", [subjects]
        ):
            rows[r["subject"]][table].append(r)
    assert set(got) == set(subjects)
    for subject in subjects:
        expected = reference_features(spec, registry, rows[subject], as_of)
        for key, value in expected.items():
            if isinstance(value, float):
                assert math.isclose(got[subject][key], value, abs_tol=2e-6), (subject, key)
            else:
                assert got[subject][key] == value, (subject, key)


def test_compiled_scorecard_equals_the_pure_scorecard(scored_vault: Vault, spec: ModelSpec) -> None:
    features = {r["subject"]: FeatureRow.from_record(spec, r)
                for r in _records(scored_vault, "SELECT * FROM derived.features")}  # fmt: skip
    scores = _records(scored_vault, f"SELECT * FROM derived.{SCORES}")
    assert len(scores) == len(features) > 8000
    for record in scores:
        row = features[record["subject"]]
        compiled = result_from_record(spec, record, row, None, COMPUTED_AT)
        assert compiled == score(spec, row, computed_at=COMPUTED_AT)


def test_compiled_household_scores_equal_the_pure_ones(
    scored_vault: Vault, spec: ModelSpec
) -> None:
    members: dict[str, list[FeatureRow]] = defaultdict(list)
    for r in _records(scored_vault, "SELECT * FROM derived.features ORDER BY subject"):
        members[r["household"]].append(FeatureRow.from_record(spec, r))
    households = _records(scored_vault, f"SELECT * FROM derived.{HOUSEHOLDS}")
    assert len(households) == len(members)
    for record in households:
        rows = members[record["household"]]
        compiled = household_from_record(spec, record, rows, None, COMPUTED_AT)
        pure = score_household(spec, compiled.household, rows, as_of=AS_OF,
                               computed_at=COMPUTED_AT)  # fmt: skip
        assert compiled == pure


def test_scoring_is_deterministic(scored_vault: Vault, spec: ModelSpec, registry: Registry) -> None:
    sql = f"SELECT * FROM ({score_sql(spec, f'({feature_sql(spec, registry, AS_OF)})', {})}) ORDER BY subject"
    first, second = _records(scored_vault, sql), _records(scored_vault, sql)
    assert first == second
    stored = _records(scored_vault, f"SELECT * EXCLUDE (computed_at, release_block, release_tx) "
                                    f"FROM derived.{SCORES} ORDER BY subject")  # fmt: skip
    assert stored == first


def test_scores_spread_over_the_bands_and_reasons_are_specific(
    scored_vault: Vault, spec: ModelSpec
) -> None:
    bands = dict(scored_vault.query(f"SELECT morality_code, count(*) FROM derived.{SCORES} "
                                    f"WHERE no_score IS NULL GROUP BY 1"))  # fmt: skip
    assert {"B", "C", "D", "E"} <= set(bands)
    features = {r["subject"]: FeatureRow.from_record(spec, r)
                for r in _records(scored_vault, "SELECT * FROM derived.features")}  # fmt: skip
    records = _records(scored_vault, f"SELECT * FROM derived.{SCORES} WHERE no_score IS NULL")
    codes = {
        r.code
        for record in records
        for r in result_from_record(
            spec, record, features[record["subject"]], None, COMPUTED_AT
        ).reasons
    }
    known = {f.reason.code for f in spec.features} | {v.reason.code for v in spec.vetoes}
    notes = {n.code for n in NOTES.values()}  # records that no longer count (issue 18)
    assert codes <= known | notes and len(codes - notes) > 15
    assert "RP02" in codes  # removed debtor listings and penalties past their window


def test_a_score_row_is_explained_only_by_its_own_features(
    scored_vault: Vault, spec: ModelSpec
) -> None:
    first, second = _records(
        scored_vault, "SELECT * FROM derived.features ORDER BY subject LIMIT 2"
    )
    (record,) = _records(scored_vault, f"SELECT * FROM derived.{SCORES} WHERE subject = ?",
                         [first["subject"]])  # fmt: skip
    with pytest.raises(ValueError, match="another subject"):
        result_from_record(spec, record, FeatureRow.from_record(spec, second), None, COMPUTED_AT)
    (household,) = _records(scored_vault, f"SELECT * FROM derived.{HOUSEHOLDS} "
                            "WHERE household IS DISTINCT FROM ? LIMIT 1", [first["household"]])  # fmt: skip
    with pytest.raises(ValueError, match="another household"):
        household_from_record(spec, household, [FeatureRow.from_record(spec, first)], None,
                              COMPUTED_AT)  # fmt: skip
