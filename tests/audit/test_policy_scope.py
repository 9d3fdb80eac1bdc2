"""`RecordedPolicy` holds each allowed entry's parameters to its approval's scope."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.entry import AuditEntry
from audit.errors import PolicyViolation
from audit.policy import ApprovalRecord, RecordedPolicy

DAY = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _policy(inputs: dict[str, frozenset[str] | None] | None) -> RecordedPolicy:
    approval = ApprovalRecord("ar_1", DAY, DAY + dt.timedelta(days=1), inputs=inputs)
    return RecordedPolicy({"ar_1": approval}, {})


def _entry(parameters: str | None, decision: str = "allow") -> AuditEntry:
    return AuditEntry.create(actor="bank_1", role="requester", action="POST /v1/aggregates",
                             decision=decision, request_id="req_1", access_request="ar_1",
                             parameters=parameters, time=DAY + dt.timedelta(hours=1))  # fmt: skip


TOWN_T01 = {"town": frozenset({"T01"})}


def test_parameters_inside_the_scope_pass() -> None:
    _policy(TOWN_T01).check(0, _entry('{"town":"T01"}'))
    _policy({"town": frozenset({"T01"}), "year": None}).check(
        0, _entry('{"town":"T01","year":"2020"}')
    )
    _policy({"id_number": None}).check(0, _entry(None))  # a score: nothing scoped, nothing recorded


@pytest.mark.parametrize(
    ("inputs", "parameters", "detail"),
    [
        (TOWN_T01, '{"town":"T07"}', "parameter town outside the scope of approval ar_1"),
        (TOWN_T01, None, "parameter town of approval ar_1 not recorded"),
        (TOWN_T01, "{}", "parameter town of approval ar_1 not recorded"),
        (TOWN_T01, '{"town":"T01","x":"1"}', "parameter x is not an input of approval ar_1"),
        ({"town": frozenset()}, '{"town":"T01"}', "parameter town outside the scope"),
    ],
    ids=["outside", "unrecorded", "empty", "unknown", "scope-names-nothing"],
)
def test_parameters_outside_the_scope_are_named(
    inputs: dict[str, frozenset[str] | None], parameters: str | None, detail: str
) -> None:
    with pytest.raises(PolicyViolation) as info:
        _policy(inputs).check(7, _entry(parameters))
    assert info.value.index == 7 and detail in info.value.reason
    assert "T07" not in info.value.reason  # names the parameter, never its value


def test_without_inputs_the_records_say_nothing_and_nothing_is_checked() -> None:
    _policy(None).check(0, _entry('{"town":"T07"}'))


def test_denied_entries_are_not_held_to_the_scope() -> None:
    _policy(TOWN_T01).check(0, _entry('{"town":"T07"}', decision="deny"))
