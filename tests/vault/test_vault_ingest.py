"""Ingest of good and malformed contributions, with exact counts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from vault_builders import PENALTY_HEADER, RESIDENT_HEADER, id_number, penalty, resident, write

from vault.errors import ContributionRefused, InputFileError, UnknownProviderError
from vault.ingest import Receipt, ingest_directory, ingest_file
from vault.store import Vault


def _report(receipt: Receipt) -> list[dict[str, str]]:
    assert receipt.report is not None
    with open(receipt.report, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _residents(tmp_path: Path, rows: list[str], name: str = "residents.csv") -> Path:
    return write(tmp_path / name, RESIDENT_HEADER, rows)


def test_a_good_file_is_loaded_whole(vault: Vault, tmp_path: Path) -> None:
    path = _residents(tmp_path, [resident(i, household=i // 3) for i in range(30)])
    r = ingest_file(vault, "public_security", "residents", path)
    assert (r.submitted, r.accepted, r.rejected, r.status) == (30, 30, 0, "accepted")
    assert r.report is None and len(r.merkle_root) == 64 and len(r.file_sha256) == 64
    assert vault.query("SELECT count(*) FROM src.residents")[0][0] == 30


def test_raw_identifiers_are_replaced_by_pseudonyms(vault: Vault, tmp_path: Path) -> None:
    path = _residents(tmp_path, [resident(1)])
    ingest_file(vault, "public_security", "residents", path)
    ((subject, household),) = vault.query("SELECT subject, household FROM src.residents")
    assert len(subject) == 32 and subject != id_number(1) and household != "H000000001"
    columns = [r[0] for r in vault.query("DESCRIBE src.residents")]
    assert "id_number" not in columns and "household_id" not in columns


def test_every_bad_row_is_reported_with_row_column_and_reason(vault: Vault, tmp_path: Path) -> None:
    good = resident(1)
    rows = [
        good,  # row 1 ok
        resident(2, birth_year="1981"),  # 2 birth year does not match ID
        resident(3, sex="F"),  # 3 sex does not match ID
        id_number(4)[:-1]
        + ("0" if id_number(4)[-1] != "0" else "1")
        + good[18:],  # 4 bad check digit
        resident(5, registered_on="2010-02-30"),  # 5 not a date
        resident(6, relation="cousin"),  # 6 not an allowed value
        resident(7, town_code="X01"),  # 7 wrong format
        resident(8, registered_on="2030-01-01"),  # 8 future date
        resident(9, birth_year="abc"),  # 9 not an integer
        resident(10, household_id=""),  # 10 missing
        good,  # 11 duplicate of row 1
        "33029119800315",  # 12 too few fields
    ]
    r = ingest_file(vault, "public_security", "residents", _residents(tmp_path, rows))
    assert (r.submitted, r.accepted, r.rejected) == (12, 1, 11)
    got = {(int(p["row"]), p["column"], p["code"]) for p in _report(r)}
    assert got == {
        (2, "birth_year", "id_mismatch"),
        (3, "sex", "id_mismatch"),
        (4, "id_number", "bad_id_number"),
        (5, "registered_on", "not_date"),
        (6, "relation", "not_allowed"),
        (7, "town_code", "bad_format"),
        (8, "registered_on", "out_of_range"),
        (9, "birth_year", "not_integer"),
        (10, "household_id", "missing"),
        (11, "id_number", "duplicate"),
        (12, "", "unparsable"),
    }


def test_reports_and_errors_never_quote_an_id_number(vault: Vault, tmp_path: Path) -> None:
    bad = id_number(4)[:-1] + ("0" if id_number(4)[-1] != "0" else "1")
    rows = [resident(1), bad + resident(1)[18:], resident(1)]
    r = ingest_file(vault, "public_security", "residents", _residents(tmp_path, rows))
    text = Path(r.report or "").read_text(encoding="utf-8")
    assert id_number(1) not in text and bad not in text
    assert "line" in text.splitlines()[0]


def test_a_duplicate_of_a_stored_record_is_rejected(vault: Vault, tmp_path: Path) -> None:
    ingest_file(
        vault, "public_security", "residents", _residents(tmp_path, [resident(1), resident(2)])
    )
    second = _residents(tmp_path, [resident(2), resident(3)], "residents-2.csv")
    r = ingest_file(vault, "public_security", "residents", second)
    assert (r.submitted, r.accepted, r.rejected) == (2, 1, 1)
    assert _report(r)[0]["code"] == "duplicate" and _report(r)[0]["row"] == "1"


def test_the_same_file_twice_is_recognised_and_not_loaded_twice(
    vault: Vault, tmp_path: Path
) -> None:
    path = _residents(tmp_path, [resident(i) for i in range(5)])
    first = ingest_file(vault, "public_security", "residents", path)
    again = ingest_file(vault, "public_security", "residents", path)
    assert again.already_loaded and again.contribution_id == first.contribution_id
    assert again.merkle_root == first.merkle_root
    assert vault.query("SELECT count(*) FROM src.residents")[0][0] == 5


@pytest.mark.parametrize("column", ["blood_type", "religion", "medical_history", "fingerprint"])
def test_a_prohibited_column_refuses_the_whole_contribution(
    vault: Vault, tmp_path: Path, column: str
) -> None:
    path = tmp_path / "blood.csv"
    path.write_text(
        f"record_id,id_number,donation_date,donation_kind,volume_ml,{column}\n"
        f"B-000001,{id_number(1)},2024-01-01,whole_blood,400,A\n",
        encoding="utf-8",
    )
    with pytest.raises(ContributionRefused) as info:
        ingest_file(vault, "blood_centre", "blood_donations", path)
    assert info.value.column == column and column in str(info.value)
    receipt = info.value.receipt
    assert isinstance(receipt, Receipt)
    assert (receipt.submitted, receipt.accepted, receipt.rejected, receipt.status) == (
        1,
        0,
        1,
        "refused",
    )
    assert vault.query("SELECT count(*) FROM src.blood_donations")[0][0] == 0


def test_an_unknown_or_missing_column_refuses_the_contribution(
    vault: Vault, tmp_path: Path
) -> None:
    extra = write(tmp_path / "extra.csv", RESIDENT_HEADER + ",nickname", [resident(1) + ",x"])
    with pytest.raises(ContributionRefused, match="nickname"):
        ingest_file(vault, "public_security", "residents", extra)
    missing = write(
        tmp_path / "missing.csv", RESIDENT_HEADER.rsplit(",", 1)[0], [resident(1).rsplit(",", 1)[0]]
    )
    with pytest.raises(ContributionRefused, match="registered_on"):
        ingest_file(vault, "public_security", "residents", missing)


def test_a_truncated_file_loses_only_its_broken_last_row(vault: Vault, tmp_path: Path) -> None:
    path = _residents(tmp_path, [resident(i) for i in range(10)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 25])  # cut inside the last row
    r = ingest_file(vault, "public_security", "residents", path)
    assert (r.submitted, r.accepted, r.rejected) == (10, 9, 1)
    assert [p["row"] for p in _report(r)] == ["10"]


def test_a_file_in_the_wrong_encoding_is_reported_row_by_row(vault: Vault, tmp_path: Path) -> None:
    header = "record_id,id_number,donation_date,amount,cause"
    rows = [f"D-00000{i},{id_number(i)},2024-01-0{i + 1},10.00,education" for i in range(3)]
    rows.append("D-000009,备注,2024-01-05,10.00,education")  # GB18030 bytes are not UTF-8
    path = write(tmp_path / "donations.csv", header, rows, encoding="gb18030")
    r = ingest_file(vault, "charity_federation", "charitable_donations", path)
    assert (r.submitted, r.accepted, r.rejected) == (4, 3, 1)
    assert _report(r)[0]["code"] == "unparsable" and "encoding" in _report(r)[0]["message_en"]


def test_a_header_that_is_not_utf8_refuses_the_file(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("记录,身份\n1,2\n".encode("gb18030"))
    with pytest.raises(ContributionRefused, match="UTF-8"):
        ingest_file(vault, "charity_federation", "charitable_donations", path)


def test_types_and_orderings_of_a_negative_table(vault: Vault, tmp_path: Path) -> None:
    rows = [
        penalty("P-000001", id_number(1)),
        penalty("P-000002", id_number(2), fine_amount="12.345"),  # too many decimals
        penalty("P-000003", id_number(3), fine_amount=""),  # optional: fine
        penalty("P-000004", id_number(4), ended="2023-12-31"),  # ends before decision
        penalty("P-000005", id_number(5), fine_amount="-1.00"),  # below minimum
        penalty("p 6", id_number(6)),  # bad record id
    ]
    path = write(tmp_path / "administrative_penalties.csv", PENALTY_HEADER, rows)
    r = ingest_file(vault, "market_regulation", "administrative_penalties", path)
    assert (r.submitted, r.accepted, r.rejected) == (6, 2, 4)
    got = {(p["row"], p["column"], p["code"]) for p in _report(r)}
    assert got == {
        ("2", "fine_amount", "not_decimal"),
        ("4", "conduct_end_date", "date_order"),
        ("5", "fine_amount", "out_of_range"),
        ("6", "record_id", "bad_format"),
    }


def test_a_provider_may_only_contribute_its_own_tables(vault: Vault, tmp_path: Path) -> None:
    path = _residents(tmp_path, [resident(1)])
    with pytest.raises(UnknownProviderError):
        ingest_file(vault, "court", "residents", path)
    with pytest.raises(InputFileError):
        ingest_file(vault, "public_security", "residents", tmp_path / "nope.csv")


def test_parquet_contributions_are_validated_the_same_way(vault: Vault, tmp_path: Path) -> None:
    csv_path = _residents(tmp_path, [resident(1), resident(2, sex="F"), resident(3)])
    parquet = tmp_path / "residents.parquet"
    vault.con.execute(
        f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar=true)) TO '{parquet}'"
    )
    r = ingest_file(vault, "public_security", "residents", parquet)
    assert (r.format, r.submitted, r.accepted, r.rejected) == ("parquet", 3, 2, 1)
    assert _report(r)[0]["row"] == "2" and _report(r)[0]["line"] == ""


def test_a_directory_is_ingested_file_by_file(vault: Vault, tmp_path: Path) -> None:
    root = tmp_path / "submission"
    (root / "public_security").mkdir(parents=True)
    (root / "market_regulation").mkdir()
    (root / "_truth").mkdir()
    _residents(root / "public_security", [resident(1), resident(2)])
    write(
        root / "market_regulation" / "administrative_penalties.csv",
        PENALTY_HEADER,
        [penalty("P-000001", id_number(1))],
    )
    (root / "_truth" / "residents.csv").write_text("ignored\n")
    results = ingest_directory(vault, root)
    assert [(r.provider, r.table, r.accepted) for r in results if isinstance(r, Receipt)] == [
        ("market_regulation", "administrative_penalties", 1),
        ("public_security", "residents", 2),
    ]
    assert json.loads(results[0].model_dump_json())["merkle_root"]  # type: ignore[union-attr]


def test_receipts_are_published_beside_the_vault_without_names_or_rows(
    vault: Vault, tmp_path: Path
) -> None:
    good = ingest_file(vault, "public_security", "residents", _residents(tmp_path, [resident(1)]))
    bad = tmp_path / "blood.csv"
    bad.write_text(f"record_id,id_number,religion\nB-1,{id_number(1)},x\n", encoding="utf-8")
    with pytest.raises(ContributionRefused) as info:
        ingest_file(vault, "blood_centre", "blood_donations", bad)
    published = vault.config.root / "receipts.json"
    text = published.read_text(encoding="utf-8")
    receipts = {r["contribution_id"]: r for r in json.loads(text)["receipts"]}
    assert receipts[good.contribution_id]["merkle_root"] == good.merkle_root
    assert receipts[good.contribution_id]["status"] == "accepted"
    assert receipts[info.value.receipt.contribution_id]["status"] == "refused"
    assert id_number(1) not in text and "residents.csv" not in text and "blood.csv" not in text
    vault.record_anchor(good.contribution_id, "block 7 tx 0xab")
    again = json.loads(published.read_text(encoding="utf-8"))["receipts"]
    assert {r["contribution_id"]: r["anchor"] for r in again}[
        good.contribution_id
    ] == "block 7 tx 0xab"
