"""Builders for hand-made contribution files with exactly known problems."""

from __future__ import annotations

from pathlib import Path

from vault.idnumber import check_char

RESIDENT_HEADER = (
    "id_number,household_id,relation,birth_year,sex,town_code,village_code,grid_code,registered_on"
)


def id_number(seq: int, year: int = 1980, month: int = 3, day: int = 15, male: bool = True) -> str:
    """A valid synthetic ID number in the unassigned region 330291 (never a real person's)."""
    sex_digit = (2 * (seq % 5) + 1) if male else (2 * (seq % 5))
    first17 = f"330291{year:04d}{month:02d}{day:02d}{seq % 100:02d}{sex_digit}"
    return first17 + check_char(first17)


def resident(seq: int, year: int = 1980, male: bool = True, household: int = 1, **over: str) -> str:
    fields = {
        "id_number": id_number(seq, year, male=male),
        "household_id": f"H{household:09d}",
        "relation": "head",
        "birth_year": str(year),
        "sex": "M" if male else "F",
        "town_code": "T01",
        "village_code": "T01V001",
        "grid_code": "T01V001G01",
        "registered_on": "2010-01-01",
    }
    fields.update(over)
    return ",".join(fields.values())


def penalty(
    record: str, id_no: str, decided: str = "2024-01-10", ended: str = "2024-02-01", **over: str
) -> str:
    fields = {
        "record_id": record,
        "id_number": id_no,
        "decision_date": decided,
        "conduct_end_date": ended,
        "category": "food_safety",
        "penalty": "fine",
        "fine_amount": "500.00",
        "severity": "general",
    }
    fields.update(over)
    return ",".join(fields.values())


PENALTY_HEADER = (
    "record_id,id_number,decision_date,conduct_end_date,category,penalty,fine_amount,severity"
)


def write(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path
