"""ID numbers, pseudonyms and row digests: the SQL forms agree with the Python references."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.digest import encode_row, row_digest, sql_row_digest
from vault.idnumber import check_char, problem
from vault.pseudonym import hmac_pads, pseudonymise, sql_pseudonym
from vault.registry import load_registry
from vault.rotation import rotate_derived_key
from vault.store import Vault


def test_check_digit_of_the_standard_example() -> None:
    assert check_char("11010519491231002") == "X"
    assert problem("11010519491231002X") is None
    assert problem("110105194912310021") == "check digit does not match"
    assert problem("110105194913310021") == "birth date part is not a valid date"
    assert problem("1101051949123100") == "not 17 digits followed by a digit or X"


def test_pseudonym_is_an_hmac_separated_by_kind() -> None:
    key = secrets.token_bytes(32)
    value = "33029119800315011X"
    expected = hmac.new(
        key, b"dexin.pseudonym.v1:subject:" + value.encode(), hashlib.sha256
    ).hexdigest()
    assert pseudonymise(key, "subject", value) == expected[:32]
    assert pseudonymise(key, "household", value) != pseudonymise(key, "subject", value)
    assert pseudonymise(secrets.token_bytes(32), "subject", value) != pseudonymise(
        key, "subject", value
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=8))
def test_sql_pseudonym_equals_the_reference(vault: Vault, values: list[str]) -> None:
    key = secrets.token_bytes(32)
    ipad, opad = hmac_pads(key)
    expr = sql_pseudonym("v", "subject", "$ipad", "$opad")
    for value in values:
        got = vault.con.execute(
            f"SELECT {expr} FROM (SELECT $v AS v)", {"v": value, "ipad": ipad, "opad": opad}
        ).fetchone()
        assert got is not None and got[0] == pseudonymise(key, "subject", value)


def test_row_encoding_is_null_safe() -> None:
    table = load_registry().table("dishonest_debtors")
    a = ["R1", "s", dt.date(2020, 1, 1), None, Decimal("1.00"), "contract"]
    b = ["R1", "s", None, dt.date(2020, 1, 1), Decimal("1.00"), "contract"]
    assert encode_row(table, a) != encode_row(table, b)
    assert row_digest(table, a) != row_digest(table, b)


def _insert_and_digest(vault: Vault, table_name: str, values: list[object]) -> bytes:
    table = vault.registry.table(table_name)
    cols = ", ".join(f'"{c.stored_name}" {c.sql_type}' for c in table.columns)
    vault.con.execute(f"CREATE OR REPLACE TEMP TABLE d ({cols})")
    vault.con.execute(f"INSERT INTO d VALUES ({', '.join('?' for _ in values)})", values)
    row = vault.con.execute(f"SELECT {sql_row_digest(table)} FROM d").fetchone()
    assert row is not None
    return bytes(row[0])


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (
            "dishonest_debtors",
            ["R-1", "ab", dt.date(2020, 1, 2), None, Decimal("12.5"), "contract"],
        ),
        (
            "criminal_judgments",
            ["C-9", "x", dt.date(2019, 5, 1), dt.date(2021, 5, 1), "fraud", "fixed_term", 36, True],
        ),
        ("volunteer_service", ["V-1", "人", dt.date(2025, 1, 1), Decimal("2.5"), "elder_care"]),
        ("honors_awards", ["A-1", "s", "moral_model", "city", dt.date(2022, 2, 2), False]),
    ],
)
def test_sql_row_digest_equals_the_reference(
    vault: Vault, table: str, values: list[object]
) -> None:
    assert _insert_and_digest(vault, table, values) == row_digest(
        vault.registry.table(table), values
    )


def test_a_derived_view_replaces_a_table_of_its_name(vault: Vault) -> None:
    assert vault.materialise("numbers", "SELECT range AS n FROM range(5)") == 5
    vault.materialise("scores", "SELECT 1 AS legacy")  # as an earlier version left it
    vault.define_view("scores", "SELECT n * 2 AS doubled FROM derived.numbers")
    vault.define_view("scores", "SELECT n * 3 AS tripled FROM derived.numbers")
    assert vault.query("SELECT sum(tripled) FROM derived.scores") == [(30,)]
    kinds = vault.query("SELECT table_type FROM information_schema.tables "
                        "WHERE table_catalog = 'derived' AND table_name = 'scores'")  # fmt: skip
    assert kinds == [("VIEW",)]


def test_a_derived_view_survives_the_rotation_of_the_derived_key(vault: Vault) -> None:
    vault.materialise("numbers", "SELECT range AS n FROM range(5)")
    vault.define_view("doubled", "SELECT n * 2 AS d FROM derived.numbers")
    old = vault.derived_file()
    rotate_derived_key(vault)
    assert not old.exists() and vault.derived_file() != old
    assert vault.query("SELECT sum(d) FROM derived.doubled") == [(20,)]
