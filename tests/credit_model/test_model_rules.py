"""Domain rules on a hand-made vault: the 5-year rule at its boundary (also relative to a
later as-of date), veto items, unknown and invalid subjects, stale or missing features."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import COMPUTED_AT

from credit_model.errors import FeaturesMissingError, FeaturesStaleError
from credit_model.features import FeatureRow, feature_sql
from credit_model.spec import ModelSpec
from dexin.app import open_vault, vault_config
from dexin.keys import key_provider
from dexin.settings import Settings
from governance.model_runs import FEATURES, score_all, score_household_of, score_person
from vault.errors import InvalidIdNumber
from vault.idnumber import check_char
from vault.ingest import ingest_file
from vault.registry import load_registry
from vault.store import Vault

RESIDENTS = (
    "id_number,household_id,relation,birth_year,sex,town_code,village_code,grid_code,registered_on"
)
DEBTORS = "record_id,id_number,listed_date,removed_date,amount,case_type"
JUDGMENTS = (
    "record_id,id_number,judgment_date,sentence_end_date,offence,sentence,sentence_months,serious"
)
REVIEWS = "record_id,id_number,level,review_date,rating,category"


def idn(seq: int, year: int = 1980) -> str:
    first17 = f"330291{year:04d}0315{seq % 100:02d}{2 * (seq % 5) + 1}"
    return first17 + check_char(first17)


def _file(tmp_path: Path, name: str, header: str, rows: list[str]) -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory, spec: ModelSpec) -> Iterator[Vault]:
    """Seven adults (1–7) in households 1–4, each with one good review, and:
    1 clean; 2 a (non-serious) sentence ended 2021-10-31 (expired); 3 one ended 2021-11-01
    (kept: exactly five years before the as-of date 2026-11-01);
    4 an active dishonest-debtor listing; 5 a removed listing (no longer counting); 6 a serious judgment
    whose sentence ended 2022-06-01; 7 one that ended 2021-06-01 (expired)."""
    tmp_path = tmp_path_factory.mktemp("rules")
    settings = Settings.from_env({"DEXIN_HOME": str(tmp_path / "home"), "DEXIN_AS_OF": "2026-11-01",
                                  "DEXIN_MASTER_KEY": secrets.token_hex(32)})  # fmt: skip
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_vault(settings) as vault:
        _fill(vault, tmp_path)
        score_all(vault, spec, computed_at=COMPUTED_AT, release=None)
        yield vault


def _fill(vault: Vault, tmp_path: Path) -> None:
    residents = [
        f"{idn(i)},H{(i + 1) // 2:09d},head,1980,M,T01,T01V001,T01V001G01,2010-01-01"
        for i in range(1, 8)
    ]
    ingest_file(vault, "public_security", "residents", _file(tmp_path, "r", RESIDENTS, residents))
    reviews = [f"R-{i:06d},{idn(i)},village,2025-06-01,good,integrity" for i in range(1, 8)]
    ingest_file(
        vault, "village_committees", "moral_reviews", _file(tmp_path, "m", REVIEWS, reviews)
    )
    debtors = [f"D-000004,{idn(4)},2024-01-01,,80000.00,contract",
               f"D-000005,{idn(5)},2023-01-01,2024-01-01,80000.00,contract"]  # fmt: skip
    ingest_file(vault, "court", "dishonest_debtors", _file(tmp_path, "d", DEBTORS, debtors))
    judgments = [f"J-000002,{idn(2)},2020-01-01,2021-10-31,theft,detention,3,false",
                 f"J-000003,{idn(3)},2020-01-01,2021-11-01,theft,detention,3,false",
                 f"J-000006,{idn(6)},2018-06-01,2022-06-01,fraud,fixed_term,48,true",
                 f"J-000007,{idn(7)},2017-06-01,2021-06-01,fraud,fixed_term,48,true"]  # fmt: skip
    ingest_file(vault, "court", "criminal_judgments", _file(tmp_path, "j", JUDGMENTS, judgments))


def _score(v: Vault, spec: ModelSpec, i: int):  # type: ignore[no-untyped-def]
    return score_person(v, spec, idn(i), computed_at=COMPUTED_AT, release=None)


def test_the_five_year_rule_at_its_boundary(people: Vault, spec: ModelSpec) -> None:
    clean, expired, kept = (_score(people, spec, i) for i in (1, 2, 3))
    law = {i: r.dimensions[1].score for i, r in ((1, clean), (2, expired), (3, kept))}
    assert law[1] == law[2] == 88.0
    assert law[3] < 88.0
    assert "LA02" in [r.code for r in kept.reasons] and "LA02" not in [
        r.code for r in expired.reasons
    ]
    assert kept.coverage["criminal_judgments"] == 1 and expired.coverage["criminal_judgments"] == 0


def test_the_five_year_rule_moves_with_the_feature_date(people: Vault, spec: ModelSpec) -> None:
    """Whatever the vault still holds, a feature computed for a later day drops what expired by then."""
    later = f"SELECT * FROM ({feature_sql(spec, people.registry, dt.date(2026, 11, 2))}) WHERE subject = ?"
    cur = people.con.cursor()
    res = cur.execute(later, [people.subject_pseudonym(idn(3))])
    row = dict(zip([d[0] for d in res.description], res.fetchone() or (), strict=True))
    cur.close()
    assert FeatureRow.from_record(spec, row).values["la_criminal"] == 0.0


def test_an_active_listing_is_vetoed_a_removed_one_is_not(people: Vault, spec: ModelSpec) -> None:
    active, removed = _score(people, spec, 4), _score(people, spec, 5)
    assert active.status == "scored" and not active.eligible and active.credit_line == 0
    assert (active.reasons[0].code, active.reasons[0].kind, active.reasons[0].dimension) == (
        "VE01",
        "veto",
        "honesty",
    )
    # a listing no longer counts from its removal (issue 18: the publication window ends),
    # and the score says so in a note after its factors
    assert [r.code for r in removed.reasons if r.kind != "factor"] == ["RP02"]
    assert removed.reasons[-1].kind == "note" and removed.reasons[-1].dimension == "honesty"
    assert "HO01" not in [r.code for r in removed.reasons]
    assert removed.dimensions[2].score == 75.0


def test_a_serious_judgment_vetoes_for_five_years_after_the_sentence(
    people: Vault, spec: ModelSpec
) -> None:
    within, past = _score(people, spec, 6), _score(people, spec, 7)
    assert within.reasons[0].code == "VE02" and within.credit_line == 0
    assert all(r.kind == "factor" for r in past.reasons)


def test_a_household_inherits_a_members_veto(people: Vault, spec: ModelSpec) -> None:
    household = score_household_of(people, spec, idn(3), computed_at=COMPUTED_AT, release=None)
    assert household is not None and household.members_scored == 2  # persons 3 and 4
    assert household.reasons[0].code == "VE01" and household.credit_line == 0


def test_unknown_and_invalid_subjects(people: Vault, spec: ModelSpec) -> None:
    unknown = _score(people, spec, 42)
    assert unknown.status == "no_score" and unknown.no_score_reason is not None
    assert unknown.no_score_reason.code == "NS01"
    bad = idn(1)[:-1] + ("0" if idn(1)[-1] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as caught:
        score_person(people, spec, bad, computed_at=COMPUTED_AT, release=None)
    assert bad not in str(caught.value)


def test_features_of_another_spec_are_refused(people: Vault, spec: ModelSpec) -> None:
    people.con.execute(f"UPDATE derived.{FEATURES} SET spec_digest = 'old'")
    try:
        with pytest.raises(FeaturesStaleError):
            _score(people, spec, 1)
    finally:
        score_all(people, spec, computed_at=COMPUTED_AT, release=None)


def test_scoring_before_features_exist_is_refused(vault: Vault, spec: ModelSpec) -> None:
    with pytest.raises(FeaturesMissingError):
        score_person(vault, spec, idn(1), computed_at=COMPUTED_AT, release=None)
