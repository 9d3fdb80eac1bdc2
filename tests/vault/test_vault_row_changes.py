"""Publication windows, repairs, deletions and corrections of stored rows (issue 18).

The fixture's as-of day is 2026-11-01. Ordinary administrative penalties are published from
the decision for 3 months to 3 years, serious ones for 6 months to 3 years; a dishonest
debtor's listing ends on its removal (vault/schema/tables.toml).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from vault_builders import PENALTY_HEADER, id_number, penalty, write

from vault.errors import ContributionRefused, RowChangeRefused, RowNotFound
from vault.ingest import Supersession, ingest_file
from vault.proofs import prove_row
from vault.rows import RowRef, delete_row, find_row, record_repair, subject_records, superseding
from vault.store import Vault
from vault.verify import check_contribution

NOW = "2026-11-01T08:00:00.000Z"
DEBTOR_HEADER = "record_id,id_number,listed_date,removed_date,amount,case_type"


def jan(record: str, id_no: str, **over: str) -> str:
    """A penalty decided (and fulfilled) on 1 January 2026."""
    return penalty(record, id_no, "2026-01-01", "2026-01-01", **over)


def _ingest(vault: Vault, tmp_path: Path, rows: list[str], name: str = "p.csv") -> str:
    path = write(tmp_path / name, PENALTY_HEADER, rows)
    return ingest_file(vault, "urban_management", "administrative_penalties", path).contribution_id


def _visible(vault: Vault) -> list[str]:
    rows = vault.query("SELECT record_id FROM src.administrative_penalties ORDER BY 1")
    return [r for (r,) in rows]


def _ref(cid: str, row: int) -> RowRef:
    return RowRef(table="administrative_penalties", contribution_id=cid, row=row)


def test_a_penalty_lapses_when_its_window_ends_and_says_why(vault: Vault, tmp_path: Path) -> None:
    _ingest(
        vault,
        tmp_path,
        [
            penalty(
                "P-000001", id_number(1), "2023-11-02", "2023-12-01"
            ),  # ends 2026-11-02: counts
            penalty(
                "P-000002", id_number(2), "2023-11-01", "2023-12-01"
            ),  # ends 2026-11-01: lapsed
            penalty("P-000003", id_number(3), "2023-10-01", "2023-12-01", severity="serious"),
        ],
    )
    assert _visible(vault) == ["P-000001"]
    ended = vault.query("SELECT why, ended_on FROM ended.administrative_penalties ORDER BY 2")
    assert ended == [("lapsed", dt.date(2026, 10, 1)), ("lapsed", dt.date(2026, 11, 1))]


def test_a_debtor_listing_stops_counting_when_removed(vault: Vault, tmp_path: Path) -> None:
    rows = [
        f"E-000001,{id_number(1)},2025-01-01,,1000.00,contract",
        f"E-000002,{id_number(2)},2025-01-01,2026-10-31,1000.00,contract",
        f"E-000003,{id_number(3)},2025-01-01,2026-11-01,1000.00,contract",  # removed today
    ]
    ingest_file(vault, "court", "dishonest_debtors", write(tmp_path / "d.csv", DEBTOR_HEADER, rows))
    visible = vault.query("SELECT record_id FROM src.dishonest_debtors ORDER BY 1")
    assert visible == [("E-000001",)]


def test_a_repair_ends_a_row_from_its_date_not_before(vault: Vault, tmp_path: Path) -> None:
    cid = _ingest(
        vault,
        tmp_path,
        [
            penalty("P-000001", id_number(1), "2026-05-01", "2026-06-01"),
            penalty("P-000002", id_number(2), "2026-05-01", "2026-06-01"),
        ],
    )
    record_repair(vault, _ref(cid, 0), dt.date(2026, 10, 1), "rep_a", NOW)
    later = record_repair(vault, _ref(cid, 1), dt.date(2026, 12, 1), "rep_b", NOW)
    assert _visible(vault) == ["P-000002"]  # repaired from December: still counts on 1 November
    assert later.status == "counts" and later.repaired_on == dt.date(2026, 12, 1)
    assert find_row(vault, _ref(cid, 0)).status == "repaired"
    assert vault.query("SELECT why FROM ended.administrative_penalties") == [("repaired",)]


@pytest.mark.parametrize(
    ("severity", "decided", "effective", "reason"),
    [
        ("general", "2026-09-01", "2026-11-30", "repair_before_minimum"),  # 3 months: 12-01
        ("serious", "2026-05-01", "2026-10-31", "repair_before_minimum"),  # 6 months: 11-01
        ("general", "2023-12-01", "2026-12-01", "window_already_ended"),
    ],
)
def test_a_repair_outside_its_window_is_refused(
    vault: Vault, tmp_path: Path, severity: str, decided: str, effective: str, reason: str
) -> None:
    cid = _ingest(
        vault, tmp_path, [penalty("P-000001", id_number(1), decided, decided, severity=severity)]
    )
    with pytest.raises(RowChangeRefused) as refused:
        record_repair(vault, _ref(cid, 0), dt.date.fromisoformat(effective), "rep_x", NOW)
    assert refused.value.reason == reason
    assert vault.query("SELECT count(*) FROM p_urban_management.row_changes") == [(0,)]


def test_a_table_without_a_window_cannot_be_repaired(vault: Vault, tmp_path: Path) -> None:
    header = "record_id,id_number,violation_date,violation,points_deducted,fine_amount,settled"
    row = f"V-000001,{id_number(1)},2026-01-01,speeding,3,1.00,true"
    path = write(tmp_path / "t.csv", header, [row])
    cid = ingest_file(vault, "traffic_police", "traffic_violations", path).contribution_id
    ref = RowRef(table="traffic_violations", contribution_id=cid, row=0)
    assert find_row(vault, ref).repairable_from is None
    with pytest.raises(RowChangeRefused, match="not_repairable"):
        record_repair(vault, ref, dt.date(2026, 10, 1), "rep_x", NOW)


def test_a_row_is_repaired_once(vault: Vault, tmp_path: Path) -> None:
    cid = _ingest(vault, tmp_path, [jan("P-000001", id_number(1))])
    record_repair(vault, _ref(cid, 0), dt.date(2026, 10, 1), "rep_y", NOW)
    with pytest.raises(RowChangeRefused, match="already_repaired"):
        record_repair(vault, _ref(cid, 0), dt.date(2026, 10, 2), "rep_z", NOW)


def test_a_deleted_row_is_gone_and_its_contribution_still_verifies(
    vault: Vault, tmp_path: Path
) -> None:
    cid = _ingest(vault, tmp_path, [jan(f"P-00000{i}", id_number(i)) for i in range(1, 4)])
    delete_row(vault, _ref(cid, 1), dt.date(2026, 11, 1), "dsp_x", NOW)
    assert _visible(vault) == ["P-000001", "P-000003"]
    check = check_contribution(vault, cid)
    assert list(check.problems()) == []
    proof = prove_row(vault, cid, 1)
    assert not proof.row_present
    proof.verify()
    with pytest.raises(RowNotFound):
        delete_row(vault, _ref(cid, 1), dt.date(2026, 11, 1), "dsp_x", NOW)


def test_a_correction_supersedes_the_row_in_its_own_contribution(
    vault: Vault, tmp_path: Path
) -> None:
    subject = id_number(1)
    cid = _ingest(
        vault,
        tmp_path,
        [jan("P-000001", subject, severity="serious"), jan("P-000002", id_number(2))],
    )
    fixed = write(
        tmp_path / "fix.csv", PENALTY_HEADER, [jan("P-000001", subject, severity="minor")]
    )
    receipt = ingest_file(
        vault,
        "urban_management",
        "administrative_penalties",
        fixed,
        supersedes=Supersession(_ref(cid, 0), "dsp_a"),
    )
    assert (receipt.status, receipt.accepted) == ("accepted", 1)
    severities = vault.query(
        "SELECT record_id, severity, contribution_id FROM src.administrative_penalties ORDER BY 1"
    )
    assert severities == [
        ("P-000001", "minor", receipt.contribution_id),
        ("P-000002", "general", cid),
    ]
    assert superseding(vault, _ref(cid, 0)) == receipt.contribution_id
    for c in (cid, receipt.contribution_id):
        assert list(check_contribution(vault, c).problems()) == []
    [mine] = [
        r
        for r in subject_records(vault, find_row(vault, _ref(receipt.contribution_id, 0)).subject)
        if r.ref.table == "administrative_penalties"
    ]
    assert mine.values["severity"] == "minor" and mine.key == "P-000001"


@pytest.mark.parametrize(
    "rows",
    [
        [jan("P-000009", id_number(1))],  # another record
        [jan("P-000001", id_number(2))],  # another subject
        [jan("P-000001", id_number(1)), jan("P-000008", id_number(1))],
    ],
    ids=["other-key", "other-subject", "two-rows"],
)
def test_a_correction_that_does_not_restate_the_record_is_refused(
    vault: Vault, tmp_path: Path, rows: list[str]
) -> None:
    cid = _ingest(vault, tmp_path, [jan("P-000001", id_number(1))])
    fixed = write(tmp_path / "fix.csv", PENALTY_HEADER, rows)
    with pytest.raises(ContributionRefused, match="correction_must_restate_the_record"):
        ingest_file(
            vault,
            "urban_management",
            "administrative_penalties",
            fixed,
            supersedes=Supersession(_ref(cid, 0), "dsp_a"),
        )
    assert _visible(vault) == ["P-000001"]
    assert superseding(vault, _ref(cid, 0)) is None


def test_a_correction_of_another_providers_row_finds_nothing(vault: Vault, tmp_path: Path) -> None:
    cid = _ingest(vault, tmp_path, [jan("P-000001", id_number(1))])
    fixed = write(tmp_path / "fix.csv", PENALTY_HEADER, [jan("P-000001", id_number(1))])
    with pytest.raises(RowNotFound):
        ingest_file(
            vault,
            "market_regulation",
            "administrative_penalties",
            fixed,
            supersedes=Supersession(_ref(cid, 0), "dsp_a"),
        )
