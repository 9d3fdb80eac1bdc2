from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from vault.errors import (
    ProhibitedColumnError,
    RegistryError,
    UnknownProviderError,
    UnknownTableError,
)
from vault.prohibited import prohibited_category
from vault.registry import SCHEMA_FILE, load_registry, parse_registry

ROOT = Path(__file__).resolve().parents[2]


def _document() -> dict[str, Any]:
    return tomllib.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_the_17_tables_are_declared_with_providers_and_dimensions() -> None:
    registry = load_registry()
    assert [t.no for t in registry.tables] == list(range(1, 18))
    assert registry.table("administrative_penalties").providers == (
        "market_regulation",
        "urban_management",
    )
    assert {t.dimension for t in registry.tables} == {
        "base",
        "moral_review",
        "law_abiding",
        "honesty",
        "volunteering",
        "virtue",
    }
    assert len(registry.towns) == 21


def test_every_table_pseudonymises_its_subject() -> None:
    for t in load_registry().tables:
        subject = t.subject_column
        assert subject is not None and subject.stored_name == "subject", t.name


def test_negative_tables_name_when_the_conduct_ended() -> None:
    registry = load_registry()
    negative = [t.name for t in registry.tables if t.is_negative_information]
    assert "dishonest_debtors" in negative and "volunteer_service" not in negative
    for name in negative:
        t = registry.table(name)
        assert t.conduct_end is not None and t.column(t.conduct_end).type == "date"


def test_the_digest_is_stable_and_changes_with_the_content() -> None:
    assert load_registry().digest == load_registry().digest
    doc = _document()
    doc["tables"][0]["zh"] = "改"
    assert parse_registry(doc).digest != load_registry().digest


@pytest.mark.parametrize(
    "name",
    [
        "blood_type",
        "BloodGroup",
        "religion",
        "dna_sample",
        "fingerprint_hash",
        "disease_code",
        "medical_history",
        "血型",
        "宗教信仰",
    ],
)
def test_a_prohibited_column_cannot_be_declared(name: str) -> None:
    doc = _document()
    doc["tables"][13]["columns"].append({"name": name, "type": "string", "en": "x", "zh": "x"})
    with pytest.raises(ProhibitedColumnError) as info:
        parse_registry(doc)
    assert info.value.column == name
    assert name in str(info.value)


def test_no_declared_column_trips_the_prohibited_check() -> None:
    for t in load_registry().tables:
        for c in t.columns:
            assert prohibited_category(c.name) is None, (t.name, c.name)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["tables"][1]["columns"][2].pop("values"), "values are required"),
        (lambda d: d["tables"][1].update(providers=["nobody"]), "unknown provider"),
        (lambda d: d["tables"][3].pop("conduct_end"), "conduct_end"),
        (lambda d: d["tables"][3]["columns"][3].update(not_before="no_such"), "no_such"),
        (lambda d: d["tables"][2]["columns"][4].update(type="float"), "type"),
        (lambda d: d["tables"][2]["columns"].append(d["tables"][2]["columns"][0]), "duplicate"),
    ],
)
def test_a_malformed_registry_is_refused_with_the_problem_named(mutate: Any, expected: str) -> None:
    doc = _document()
    mutate(doc)
    with pytest.raises(RegistryError) as info:
        parse_registry(doc)
    assert expected in str(info.value)


def test_lookups_raise_typed_errors() -> None:
    registry = load_registry()
    with pytest.raises(UnknownTableError):
        registry.table("no_such_table")
    with pytest.raises(UnknownProviderError):
        registry.check_contributes("court", "residents")
    with pytest.raises(UnknownProviderError):
        registry.check_contributes("nobody", "residents")


def test_the_data_dictionary_is_generated_from_the_registry() -> None:
    from dexin.dictionary import render

    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render(load_registry()), (
        "run: dexin data dictionary --out docs/data-dictionary.md"
    )
