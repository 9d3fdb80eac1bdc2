"""The 5-year rule at its boundary, purge records, and row inclusion proofs."""

from __future__ import annotations

from pathlib import Path

import pytest
from vault_builders import PENALTY_HEADER, RESIDENT_HEADER, id_number, penalty, resident, write

from audit.errors import ProofError
from vault.errors import ContributionNotFound, RowNotFound
from vault.ingest import ingest_file
from vault.proofs import LeafMismatch, prove_row
from vault.retention import expired_counts, purge_expired, purge_history
from vault.store import Vault
from vault.verify import check_contribution

# The fixture's as-of day is 2026-11-01, so the cutoff is 2021-11-01: conduct that ended on
# 2021-10-31 is more than 5 years old; conduct that ended on 2021-11-01 is not.


def _penalties(vault: Vault, tmp_path: Path) -> str:
    rows = [
        penalty("P-000001", id_number(1), "2021-01-01", "2021-10-31"),  # expired
        penalty("P-000002", id_number(2), "2021-01-01", "2021-11-01"),  # exactly 5 years: kept
        penalty("P-000003", id_number(3), "2024-01-01", "2024-02-01"),  # recent
        penalty("P-000004", id_number(4), "2015-01-01", "2016-01-01"),  # long expired
    ]
    path = write(tmp_path / "administrative_penalties.csv", PENALTY_HEADER, rows)
    return ingest_file(vault, "urban_management", "administrative_penalties", path).contribution_id


def test_expired_negative_rows_are_excluded_from_every_use(vault: Vault, tmp_path: Path) -> None:
    header = "record_id,id_number,violation_date,violation,points_deducted,fine_amount,settled"
    rows = [  # traffic violations have no publication window: only the 5-year rule applies
        f"V-000001,{id_number(1)},2021-10-31,speeding,3,200.00,true",  # expired
        f"V-000002,{id_number(2)},2021-11-01,speeding,3,200.00,true",  # exactly 5 years: kept
    ]
    path = write(tmp_path / "t.csv", header, rows)
    ingest_file(vault, "traffic_police", "traffic_violations", path)
    assert vault.retention_cutoff.isoformat() == "2021-11-01"
    visible = vault.query("SELECT record_id FROM src.traffic_violations ORDER BY 1")
    assert visible == [("V-000002",)]


def test_a_penalty_counts_only_inside_its_publication_window(vault: Vault, tmp_path: Path) -> None:
    _penalties(vault, tmp_path)
    # P-000002 is within retention, but its window (3 years from the 2021 decision) ended
    visible = vault.query("SELECT record_id FROM src.administrative_penalties ORDER BY 1")
    assert visible == [("P-000003",)]


def test_only_negative_rows_expire(vault: Vault, tmp_path: Path) -> None:
    header = "record_id,id_number,event_date,item,points"
    rows = [
        f"G-000001,{id_number(1)},2016-01-01,littering,-5",
        f"G-000002,{id_number(2)},2016-01-01,elder_care,5",
    ]
    ingest_file(
        vault, "grid_office", "village_rules_points", write(tmp_path / "g.csv", header, rows)
    )
    assert vault.query("SELECT record_id FROM src.village_rules_points") == [("G-000002",)]


def test_an_ongoing_listing_never_expires(vault: Vault, tmp_path: Path) -> None:
    header = "record_id,id_number,listed_date,removed_date,amount,case_type"
    rows = [
        f"E-000001,{id_number(1)},2015-01-01,,1000.00,contract",
        f"E-000002,{id_number(2)},2015-01-01,2016-01-01,1000.00,contract",
    ]
    ingest_file(vault, "court", "dishonest_debtors", write(tmp_path / "d.csv", header, rows))
    assert vault.query("SELECT record_id FROM src.dishonest_debtors") == [("E-000001",)]


def test_purge_removes_expired_rows_and_keeps_a_record(vault: Vault, tmp_path: Path) -> None:
    cid = _penalties(vault, tmp_path)
    assert expired_counts(vault) == [("urban_management", "administrative_penalties", cid, 2)]
    records = purge_expired(vault)
    assert [(r.table, r.contribution_id, r.rows) for r in records] == [
        ("administrative_penalties", cid, 2)
    ]
    stored = vault.query("SELECT count(*) FROM p_urban_management.administrative_penalties")
    assert stored == [(2,)]
    assert purge_expired(vault) == []
    assert [r.rows for r in purge_history(vault)] == [2]


def test_every_row_has_an_inclusion_proof_that_survives_a_purge(
    vault: Vault, tmp_path: Path
) -> None:
    cid = _penalties(vault, tmp_path)
    for row in range(4):
        prove_row(vault, cid, row).verify()
    purge_expired(vault)
    purged = prove_row(vault, cid, 0)
    assert not purged.row_present
    purged.verify()
    prove_row(vault, cid, 2).verify()


def test_an_altered_row_or_a_wrong_root_fails_its_proof(vault: Vault, tmp_path: Path) -> None:
    rows = [resident(i) for i in range(5)]
    cid = ingest_file(
        vault, "public_security", "residents", write(tmp_path / "r.csv", RESIDENT_HEADER, rows)
    ).contribution_id
    proof = prove_row(vault, cid, 3)
    tampered = proof.model_copy(update={"merkle_root": "00" * 32})
    with pytest.raises(ProofError):
        tampered.verify()
    vault.con.execute("UPDATE p_public_security.residents SET town_code = 'T02' WHERE row_no = 3")
    with pytest.raises(LeafMismatch):
        prove_row(vault, cid, 3)


def test_an_unknown_contribution_or_row_is_a_typed_error(vault: Vault, tmp_path: Path) -> None:
    cid = _penalties(vault, tmp_path)
    with pytest.raises(ContributionNotFound):
        prove_row(vault, "c-no-such", 0)
    with pytest.raises(ContributionNotFound):
        check_contribution(vault, "c-no-such")
    with pytest.raises(RowNotFound):
        prove_row(vault, cid, 4)
