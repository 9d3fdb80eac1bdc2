"""Issue 13, finding 1, for the auditor: `dexin audit verify` checks that every member a
household answer used had a consent of their own covering the household computation.

A real flow through the gateway (A consents to the household score, B too, and also gives a
person-level consent; the bank asks for the household score: two allow entries, A's the
receipt, B's a member entry) verifies. Logs rebuilt from it and re-signed with the log's own
key (as an operator could) are named by the policy: B's entry under B's person-level consent,
a member entry naming someone with no consent of theirs, a household answer under A's
person-level consent.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from gateway_support import Actors, TestClient, World, auth, later, open_world, score_body
from query_gateway.app import create_app
from typer.testing import CliRunner

from audit.entry import AuditEntry
from audit.errors import VerificationError
from audit.export import snapshot_log
from audit.log import AuditLog, LogOptions
from audit.reader import LogReader
from audit.verify import Trust, Verdict, verify_snapshot
from dexin import audit_cli
from dexin.app import load_or_create_log_key
from governance import own_score
from governance.audit_sources import sourced_policy
from governance.control import ControlPlane
from governance.credentials import Role
from governance.db import open_engine, session_factory

HOUSEHOLD = "household_credit_score"
MEMBER_ACTION = "POST /v1/scores (household member)"


@dataclass
class Flow:
    world: World
    database_url: str
    receipt: int  # A's entry, the answer's receipt
    member: int  # B's entry
    b_person: str  # B's person-level consent (does not cover the household score)
    a_person: str  # A's person-level consent, to the same bank
    stranger: str  # the pseudonym of a resident who gave this bank no consent


def _two_adults(world: World, http: TestClient) -> tuple[str, str]:
    """Two scored adults of one household (test-side knowledge: the generator's file)."""
    gw = http.app.state.gateway  # type: ignore[attr-defined]
    residents = pq.read_table(world.settings.home.parent / "data/public_security/residents.parquet")
    households: dict[str, list[str]] = defaultdict(list)
    columns = residents.select(["id_number", "household_id"]).to_pydict()
    for id_number, household in zip(columns["id_number"], columns["household_id"], strict=True):
        households[household].append(id_number)
    for members in households.values():
        scored = [i for i in members
                  if own_score(gw, world.vault.subject_pseudonym(i))["no_score_reason"] is None]  # fmt: skip
        if len(scored) >= 2:
            return scored[0], scored[1]
    raise AssertionError("the synthetic world has no household of two scored adults")


def _consent(actors: Actors, id_number: str, bank_id: str, computations: list[str]) -> str:
    body = {"bank": bank_id, "purpose": "credit_assessment", "expires_at": later(days=30),
            "computations": computations}  # fmt: skip
    r = actors.http.post("/v1/consents", headers=auth(actors.subject(id_number)), json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with open_world(tmp_path_factory.mktemp("household-policy")) as world:
        app = create_app(world.with_gateway(witness_interval=0), world.components())
        engine = open_engine(world.database_url, schema=world.schema)
        with TestClient(app, raise_server_exceptions=False) as http:
            actors = Actors(http, ControlPlane(session_factory(engine)), world)
            a, b = _two_adults(world, http)
            bank_id, bank = actors.token(Role.BANK)
            rid = actors.approved(bank, HOUSEHOLD)
            consent_a = _consent(actors, a, bank_id, [HOUSEHOLD])
            a_person = _consent(actors, a, bank_id, ["morality_credit_score"])
            b_person = _consent(actors, b, bank_id, ["morality_credit_score"])
            _consent(actors, b, bank_id, [HOUSEHOLD])
            scored = http.post("/v1/scores", headers=auth(bank), json=score_body(a, rid, consent_a))
            assert scored.status_code == 200 and scored.json()["members_used"] >= 2, scored.text
            http.app.state.gateway.audit.log.checkpoint_now()  # type: ignore[attr-defined]
            entries = _entries(world)
            receipt = scored.json()["audit"]["index"]
            member = next(i for i, e in enumerate(entries) if e.action == MEMBER_ACTION)
            stranger = world.vault.subject_pseudonym(world.ids[3])
            yield Flow(world, world.database_env(), receipt, member, b_person, a_person, stranger)
        engine.dispose()


def _entries(world: World) -> list[AuditEntry]:
    with LogReader(world.settings.audit_dir) as reader:
        size = reader.history.sizes()[-1]
        docs = [json.loads(reader.entry(i, size)) for i in range(size)]
    return [AuditEntry(**{k: v for k, v in d.items() if k not in ("v", "index")}) for d in docs]


def _verify_rebuilt(flow: Flow, entries: list[AuditEntry], tmp: Path) -> Verdict:
    signer = load_or_create_log_key(flow.world.settings)
    with AuditLog.open(tmp / "audit", signer, LogOptions(checkpoint_every=10**9)) as log:
        for entry in entries:
            log.append(entry)
        log.checkpoint_now()
    sources = sourced_policy(flow.world.ledger, flow.database_url)
    with LogReader(tmp / "audit") as reader:
        return verify_snapshot(snapshot_log(reader), Trust(log_key=signer.verifier()),
                               anchorer=None, policy=sources.policy, require_anchor=False)  # fmt: skip


def _named(flow: Flow, entries: list[AuditEntry], tmp: Path) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        _verify_rebuilt(flow, entries, tmp)
    assert info.value.check == "policy"
    return info.value


def test_the_real_household_flow_verifies(flow: Flow) -> None:
    settings = flow.world.settings
    env = {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex,
           "DATABASE_URL": flow.database_url}  # fmt: skip
    result = CliRunner().invoke(audit_cli.app, ["verify", "--skip-anchors", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["policy_checked"] is True


def test_a_member_entry_under_a_consent_that_does_not_cover_it_is_named(
    flow: Flow, tmp_path: Path
) -> None:
    entries = _entries(flow.world)
    entries[flow.member] = dataclasses.replace(entries[flow.member], consent=flow.b_person)
    error = _named(flow, entries, tmp_path)
    assert error.entry == flow.member
    assert error.detail == f"consent {flow.b_person} does not cover the computation"


def test_a_member_entry_naming_someone_without_consent_is_named(flow: Flow, tmp_path: Path) -> None:
    entries = _entries(flow.world)
    forged = dataclasses.replace(entries[flow.member], subject=flow.stranger)
    error = _named(flow, [*entries, forged], tmp_path)
    assert error.entry == len(entries) and "is another subject's" in error.detail


def test_a_household_answer_under_a_person_level_consent_is_named(
    flow: Flow, tmp_path: Path
) -> None:
    entries = _entries(flow.world)
    entries[flow.receipt] = dataclasses.replace(entries[flow.receipt], consent=flow.a_person)
    error = _named(flow, entries, tmp_path)
    assert error.entry == flow.receipt
    assert error.detail == f"consent {flow.a_person} does not cover the computation"
