"""Issue 13, finding 2: an approval's scope is enforced, recorded and verified.

The attack: a bank approved for the villages of town T01 asks for those of T07. The gateway
now refuses it (403 ``outside_scope``) and records the parameters it was asked for; filing a
scope that names an unknown parameter, leaves a scoped one out or has a malformed value is
refused (422). ``dexin audit verify`` checks every aggregate entry's parameters against the
scope whose digest the ledger anchored: an entry outside it, written behind the gateway's
back, is named, and a scope swapped in the control plane fails the verification.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gateway_support import Actors, TestClient, World, auth, open_world, request_body
from query_gateway.app import create_app
from sqlalchemy import text
from typer.testing import CliRunner

from audit.entry import AuditEntry, decode_entry
from audit.errors import VerificationError
from audit.export import snapshot_log
from audit.log import AuditLog, LogOptions
from audit.reader import LogReader
from audit.verify import Trust, Verdict, verify_snapshot
from dexin import audit_cli
from dexin.app import load_or_create_log_key
from governance.audit_sources import sourced_policy
from governance.control import ControlPlane
from governance.credentials import Role
from governance.db import open_engine, session_factory

VILLAGES = "grade_distribution_by_village"


def _ask(actors: Actors, bank: str, rid: str, town: str, **over: Any) -> Any:
    body = {"computation": VILLAGES, "access_request_id": rid, "epsilon": 0.1,
            "parameters": {"town": town}} | over  # fmt: skip
    return actors.http.post("/v1/aggregates", json=body, headers=auth(bank))


def _entry_of(http: TestClient, request_id: str) -> AuditEntry:
    trail = http.app.state.gateway.audit  # type: ignore[attr-defined]
    for data in trail.entries():
        _, entry = decode_entry(data)
        if entry.request_id == request_id:
            return entry
    raise AssertionError("no audit entry for the request")


# -- the gateway ----------------------------------------------------------------------------


def test_a_bank_approved_for_one_town_cannot_read_another(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, VILLAGES, scope={"town": "T01"})
    stolen = _ask(actors, bank, rid, "T07")
    assert (stolen.status_code, stolen.json()["reason"]) == (403, "outside_scope")
    assert "T07" not in stolen.text  # nothing the caller sent is echoed
    preview = _ask(actors, bank, rid, "T07", preview=True)
    assert (preview.status_code, preview.json()["reason"]) == (403, "outside_scope")
    allowed = _ask(actors, bank, rid, "T01")
    assert allowed.status_code == 200, allowed.text
    assert {c["group"]["village"][:3] for c in allowed.json()["cells"]} == {"T01"}
    request = actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()
    assert request["used"] == 1  # the refused calls spent nothing


def test_the_audit_entry_records_the_parameters_asked_for(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, VILLAGES, scope={"town": "T01"})
    refused = _entry_of(actors.http, _ask(actors, bank, rid, "T07").headers["dexin-request-id"])
    assert (refused.decision, refused.reason) == ("deny", "outside_scope")
    assert refused.parameters == '{"town":"T07"}'
    answered = _entry_of(actors.http, _ask(actors, bank, rid, "T01").headers["dexin-request-id"])
    assert (answered.decision, answered.parameters_value) == ("allow", {"town": "T01"})
    assert answered.encode(0).startswith(b'{"access_request":')
    assert json.loads(answered.encode(0))["v"] == 2


def test_a_scope_may_list_several_values(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, VILLAGES, scope={"town": ["T02", "T01", "T02"]})
    shown = actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()
    assert shown["scope"] == {"town": ["T01", "T02"]}  # canonical: sorted, no repeats
    assert _ask(actors, bank, rid, "T02").status_code == 200
    assert _ask(actors, bank, rid, "T03").json()["reason"] == "outside_scope"


@pytest.mark.parametrize(
    ("computation", "scope", "reason"),
    [
        (VILLAGES, None, "scope_incomplete"),
        (VILLAGES, {"village": "T01V001"}, "scope_unknown_parameter"),
        (VILLAGES, {"town": "T01", "year": "2026"}, "scope_unknown_parameter"),
        (VILLAGES, {"town": "town-1"}, "scope_invalid_value"),
        ("grade_distribution_by_town", {"town": "T01"}, "scope_unknown_parameter"),
        ("morality_credit_score", {"id_number": "T01"}, "scope_unknown_parameter"),
    ],
    ids=["missing", "unknown", "extra", "malformed", "unscoped-aggregate", "subject"],
)
def test_a_scope_that_does_not_fit_the_computation_is_refused_at_filing(
    actors: Actors, computation: str, scope: dict[str, str] | None, reason: str
) -> None:
    _, bank = actors.token(Role.BANK)
    actors.officers(2)
    body = request_body(actors.http, computation) | {"scope": scope}
    r = actors.http.post("/v1/access-requests", json=body, headers=auth(bank))
    assert (r.status_code, r.json()["reason"]) == (422, reason)


@pytest.mark.parametrize("values", [[], ["T01"] * 65, [7]], ids=["empty", "too-many", "number"])
def test_the_scope_schema_is_bounded(actors: Actors, values: list[Any]) -> None:
    _, bank = actors.token(Role.BANK)
    body = request_body(actors.http, VILLAGES) | {"scope": {"town": values}}
    r = actors.http.post("/v1/access-requests", json=body, headers=auth(bank))
    assert r.status_code == 422 and all(
        e["loc"][:2] == ["body", "scope"] for e in r.json()["errors"]
    )


def test_a_malformed_parameter_is_refused_before_it_is_recorded(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, VILLAGES, scope={"town": "T01"})
    r = _ask(actors, bank, rid, "330281199001011234")  # shaped like an ID number
    # refused by the contract's pattern for parameter values (the core's own check,
    # parameter_invalid, stays behind it), and never echoed
    assert (r.status_code, r.json()["reason"]) == (422, "invalid_request")
    assert r.json()["errors"][0]["loc"][:2] == ["body", "parameters"]
    assert "330281199001011234" not in r.text
    entry = _entry_of(actors.http, r.headers["dexin-request-id"])
    assert entry.parameters is None and entry.decision == "deny"


# -- the auditor ----------------------------------------------------------------------------


@dataclass
class Flow:
    world: World
    database_url: str  # with the test's schema if any
    allowed: int  # index of the allowed T01 entry
    approval: str


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    """A bank approved for T01 asks for T01 (answered) and T07 (refused)."""
    with open_world(tmp_path_factory.mktemp("scope")) as world:
        app = create_app(world.with_gateway(witness_interval=0), world.components())
        engine = open_engine(world.database_url, schema=world.schema)
        with TestClient(app, raise_server_exceptions=False) as http:
            actors = Actors(http, ControlPlane(session_factory(engine)), world)
            _, bank = actors.token(Role.BANK)
            rid = actors.approved(bank, VILLAGES, scope={"town": "T01"})
            allowed = _ask(actors, bank, rid, "T01")
            assert allowed.status_code == 200, allowed.text
            assert _ask(actors, bank, rid, "T07").status_code == 403
            index = _entry_index(http, allowed.headers["dexin-request-id"])
            http.app.state.gateway.audit.log.checkpoint_now()  # type: ignore[attr-defined]
        yield Flow(world, world.database_env(), index, rid)
        engine.dispose()


def _entry_index(http: TestClient, request_id: str) -> int:
    trail = http.app.state.gateway.audit  # type: ignore[attr-defined]
    return next(
        i for i, d in enumerate(trail.entries()) if decode_entry(d)[1].request_id == request_id
    )


def test_the_real_flow_verifies_with_its_parameters_in_scope(flow: Flow) -> None:
    settings = flow.world.settings
    env = {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex,
           "DATABASE_URL": flow.database_url}  # fmt: skip
    result = CliRunner().invoke(audit_cli.app, ["verify", "--skip-anchors", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["policy_checked"] is True


def _entries(flow: Flow) -> list[AuditEntry]:
    with LogReader(flow.world.settings.audit_dir) as reader:
        return [decode_entry(d)[1] for d in reader.entries()]


def _verify_rebuilt(flow: Flow, entries: list[AuditEntry], tmp: Path) -> Verdict:
    """Rebuild the log from ``entries`` in ``tmp``, signed with the log's own key (as the
    operator could), and verify it with the policy sourced from the ledger and control plane."""
    signer = load_or_create_log_key(flow.world.settings)
    with AuditLog.open(tmp / "audit", signer, LogOptions(checkpoint_every=10**9)) as log:
        for entry in entries:
            log.append(entry)
        log.checkpoint_now()
    sources = sourced_policy(flow.world.ledger, flow.database_url)
    with LogReader(tmp / "audit") as reader:
        return verify_snapshot(snapshot_log(reader), Trust(log_key=signer.verifier()),
                               policy=sources.policy, require_anchor=False)  # fmt: skip


def test_the_rebuilt_log_itself_verifies(flow: Flow, tmp_path: Path) -> None:
    assert _verify_rebuilt(flow, _entries(flow), tmp_path).policy_checked


@pytest.mark.parametrize(
    ("parameters", "detail"),
    [
        ('{"town":"T07"}', "parameter town outside the scope of approval"),
        (None, "parameter town of approval {approval} not recorded"),
        ('{"town":"T01","village":"T01V001"}', "parameter village is not an input of approval"),
    ],
    ids=["outside", "unrecorded", "unknown"],
)
def test_an_entry_written_behind_the_gateways_back_is_named(
    flow: Flow, tmp_path: Path, parameters: str | None, detail: str
) -> None:
    entries = _entries(flow)
    forged = dataclasses.replace(entries[flow.allowed], request_id="req-forged",
                                 parameters=parameters)  # fmt: skip
    with pytest.raises(VerificationError) as info:
        _verify_rebuilt(flow, [*entries, forged], tmp_path)
    assert (info.value.check, info.value.entry) == ("policy", len(entries))
    assert detail.format(approval=flow.approval) in info.value.detail


def test_a_scope_swapped_in_the_control_plane_fails_the_verification(flow: Flow) -> None:
    engine = open_engine(flow.world.database_url, schema=flow.world.schema)
    swap = text("UPDATE access_requests SET scope = :scope WHERE id = :id")
    try:
        with engine.begin() as c:  # the operator widens the scope after the officers voted
            c.execute(swap, {"scope": json.dumps({"town": ["T01", "T07"]}), "id": flow.approval})
        with pytest.raises(VerificationError) as info:
            sourced_policy(flow.world.ledger, flow.database_url)
        assert info.value.check == "approval-scope" and flow.approval in info.value.detail
    finally:
        with engine.begin() as c:
            c.execute(swap, {"scope": json.dumps({"town": "T01"}), "id": flow.approval})
        engine.dispose()


def test_the_core_refuses_a_malformed_parameter_behind_the_contract(actors: Actors) -> None:
    """What the HTTP contract refuses first, the core refuses too (another edge, the CLI)."""
    from governance.errors import InvalidRequest
    from governance.scope import check_parameters

    villages = actors.http.app.state.gateway.catalogue.get(VILLAGES)  # type: ignore[attr-defined]
    check_parameters(villages, {"town": "T01"})
    for parameters, reason in (({"town": "330281199001011234"}, "parameter_invalid"),
                               ({}, "parameters_mismatch")):  # fmt: skip
        with pytest.raises(InvalidRequest) as refused:
            check_parameters(villages, parameters)
        assert refused.value.reason == reason
