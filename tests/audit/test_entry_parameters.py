"""Audit entries with parameters (format version 2) beside the unchanged version 1."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import errors
from audit.entry import AuditEntry, decode_entry, encode_parameters
from audit.entrycheck import fast_index, reference_check

BASE = {"time": "2026-11-01T08:00:00.000000Z", "actor": "bank_0123456789abcdef",
        "role": "bank", "action": "POST /v1/aggregates", "decision": "allow",
        "request_id": "req_1", "computation": "grade_distribution_by_village"}  # fmt: skip


def test_an_entry_without_parameters_is_version_1_with_the_old_field_set() -> None:
    data = AuditEntry(**BASE).encode(3)
    assert json.loads(data)["v"] == 1 and b"parameters" not in data
    assert fast_index(data) == 3  # the verifier's fast path still takes it


def test_an_entry_with_parameters_is_version_2_and_round_trips() -> None:
    entry = AuditEntry.create(**{**BASE, "time": None}, parameters={"town": "T01", "a": "é"})
    data = entry.encode(5)
    doc = json.loads(data)
    assert (doc["v"], doc["parameters"]) == (2, '{"a":"é","town":"T01"}')
    assert data == rfc8785.dumps(doc)
    assert decode_entry(data) == (5, entry) and entry.parameters_value == {"town": "T01", "a": "é"}
    assert reference_check(None, 5, data) is None  # canonical and valid for the verifier


@pytest.mark.parametrize(
    ("parameters", "error"),
    [
        ('{"town": "T01"}', "EntryError"),  # not canonical (whitespace)
        ('{"b":"1","a":"2"}', "EntryError"),  # not canonical (order)
        ('["T01"]', "EntryError"),
        ('{"town":1}', "EntryError"),
        ('{"tōwn":"T01"}', "EntryError"),  # keys are ASCII (RFC 8785 orders by UTF-16)
        ("not json", "EntryError"),
        ("", "EntryError"),
        ('{"town":"' + "T" * 1100 + '"}', "EntryError"),
        ('{"id":"330281199001011234"}', "IdentifierInEntryError"),
    ],
    ids=["spaces", "order", "array", "number", "key", "garbage", "empty", "long", "id-number"],
)
def test_bad_parameters_are_refused(parameters: str, error: str) -> None:
    with pytest.raises(getattr(errors, error)) as info:
        AuditEntry(**BASE, parameters=parameters)
    assert info.value.field == "parameters"
    assert "3302811990" not in str(info.value)


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},  # version 2 without the parameters key
        {"v": 2, "parameters": None},
        {"parameters": '{"town":"T01"}'},  # version 1 with it
        {"v": 3, "parameters": '{"town":"T01"}'},
    ],
    ids=["v2-missing", "v2-null", "v1-with", "v3"],
)
def test_decoding_holds_each_version_to_its_field_set(change: dict[str, Any]) -> None:
    doc = {**json.loads(AuditEntry(**BASE).encode(0)), **change}
    with pytest.raises(errors.EntryError):
        decode_entry(json.dumps(doc).encode())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=8), st.text(max_size=12),
                      max_size=4))  # fmt: skip
def test_the_parameters_encoding_is_rfc_8785(parameters: dict[str, str]) -> None:
    try:
        text = encode_parameters(parameters)
    except errors.EntryError:  # a lone surrogate: RFC 8785 refuses it too
        return
    assert text.encode() == rfc8785.dumps(parameters)
