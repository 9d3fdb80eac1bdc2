"""Audit entries: validation (never an ID number) and canonical bytes, from vector files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import errors
from audit.entry import AuditEntry, canonical_json, decode_entry

VECTORS = json.loads((Path(__file__).parent / "vectors" / "entries" / "entries.json").read_text())


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: c["name"])
def test_valid_entries_encode_to_the_recorded_canonical_bytes(case: dict[str, Any]) -> None:
    data = AuditEntry(**case["fields"]).encode(case["index"])
    assert data == case["canonical"].encode()
    assert decode_entry(data) == (case["index"], AuditEntry(**case["fields"]))


@pytest.mark.parametrize("case", VECTORS["refused"], ids=lambda c: c["name"])
def test_refused_entries_name_the_field(case: dict[str, Any]) -> None:
    with pytest.raises(getattr(errors, case["error"])) as info:
        AuditEntry(**case["fields"])
    assert info.value.field == case["field"]
    assert "3302811990" not in str(info.value) + repr(info.value.__dict__)


def test_hex_digests_with_digit_runs_are_not_mistaken_for_id_numbers() -> None:
    digest = "330281199001011234" + "a" * 46
    valid = VECTORS["valid"][0]["fields"]
    AuditEntry(**{**valid, "result_digest": digest, "subject": digest[:32]})


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[]", b'{"v":1}', b'{"v":2,"index":0}'],
    ids=["garbage", "array", "missing-fields", "unknown-version"],
)
def test_decoding_rejects_what_is_not_an_entry(data: bytes) -> None:
    with pytest.raises(errors.EntryError):
        decode_entry(data)


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["actor", "purpose", "reason", "zz", "a b", "é"]),
        _TEXT | st.none() | st.integers(-(2**53) + 1, 2**53 - 1),
    )
)
def test_the_fast_encoder_is_rfc_8785(obj: dict[str, Any]) -> None:
    assert canonical_json(obj) == rfc8785.dumps(obj)
