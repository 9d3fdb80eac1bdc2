"""Issue 6: `dexin audit verify` checks every allowed access against the ledger's approvals and
the anchored consent log — a real flow through the gateway verifies; a log that shows a score
after a revocation, after a withdrawal, or under another subject's consent names the entry;
a consent log that no longer matches its anchor fails.

Real gateway app, real ledger, real control plane. The tampered logs are rebuilt in a
temporary directory and re-signed with the log's own key (as an operator could), so only
the policy can catch them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gateway_support import Actors, TestClient, World, auth, open_world, score_body
from query_gateway.app import create_app
from sqlalchemy import text
from typer.testing import CliRunner

from audit.entry import AuditEntry
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


@dataclass
class Flow:
    world: World
    http: TestClient
    actors: Actors
    database_url: str  # the control plane, with the test's schema if any
    score: int  # index of the allowed score entry
    revoked: str  # its access request, revoked after the score
    consent: str  # its consent, withdrawn after the score
    approved: str  # another approval of the same bank, still valid
    consented: str  # another consent of the same subject to the same bank, still valid


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    """Request → two officers approve → consent → score; then revoke and withdraw (the
    gateway denies the next score). A second approval and consent stay valid."""
    with open_world(tmp_path_factory.mktemp("policy")) as world:
        app = create_app(world.with_gateway(witness_interval=0), world.components())
        engine = open_engine(world.database_url, schema=world.schema)
        with TestClient(app, raise_server_exceptions=False) as http:
            actors = Actors(http, ControlPlane(session_factory(engine)), world)
            bank_id, bank = actors.token(Role.BANK)
            rid, approved = actors.approved(bank), actors.approved(bank)
            subject = actors.subject(world.ids[4])
            consent, consented = actors.consent(subject, bank_id), actors.consent(subject, bank_id)
            body = score_body(world.ids[4], rid, consent)
            scored = http.post("/v1/scores", headers=auth(bank), json=body)
            assert scored.status_code == 200, scored.text
            revoked = actors.decide(actors.enrolled(1)[0], rid, "revoke")
            assert revoked.status_code == 200, revoked.text
            assert http.delete(f"/v1/consents/{consent}", headers=auth(subject)).status_code < 300
            assert http.post("/v1/scores", headers=auth(bank), json=body).status_code == 403
            http.app.state.gateway.audit.log.checkpoint_now()  # type: ignore[attr-defined]
            url = world.database_env()
            index = scored.json()["audit"]["index"]
            yield Flow(world, http, actors, url, index, rid, consent, approved, consented)
        engine.dispose()


def test_the_real_flow_verifies_against_ledger_and_consent_log(flow: Flow) -> None:
    settings = flow.world.settings
    env = {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex,
           "DATABASE_URL": flow.database_url}  # fmt: skip
    result = CliRunner().invoke(audit_cli.app, ["verify", "--skip-anchors", "--json"], env=env)
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["policy_checked"] is True
    assert any("(2 approvals)" in n and "(2 consents)" in n for n in verdict["notes"]), verdict[
        "notes"
    ]


def _entries(flow: Flow) -> list[AuditEntry]:
    with LogReader(flow.world.settings.audit_dir) as reader:
        size = reader.history.sizes()[-1]
        docs = [json.loads(reader.entry(i, size)) for i in range(size)]
    return [AuditEntry(**{k: v for k, v in d.items() if k not in ("v", "index")}) for d in docs]


def _verify_rebuilt(flow: Flow, entries: list[AuditEntry], tmp: Path) -> Verdict:
    """Rebuild the log from ``entries`` in ``tmp``, signed with the log's key, and verify it
    with the policy sourced from the real ledger and control plane."""
    signer = load_or_create_log_key(flow.world.settings)
    with AuditLog.open(tmp / "audit", signer, LogOptions(checkpoint_every=10**9)) as log:
        for entry in entries:
            log.append(entry)
        log.checkpoint_now()
    sources = sourced_policy(flow.world.ledger, flow.database_url)
    with LogReader(tmp / "audit") as reader:
        snapshot = snapshot_log(reader)
        return verify_snapshot(snapshot, Trust(log_key=signer.verifier()), anchorer=None,
                               policy=sources.policy, require_anchor=False)  # fmt: skip


def test_the_rebuilt_log_itself_verifies(flow: Flow, tmp_path: Path) -> None:
    entries = _entries(flow)
    # and so does a later score under the approval and consent that are still valid
    fine = _later(entries[flow.score], request_id="req-fine",
                  access_request=flow.approved, consent=flow.consented)  # fmt: skip
    assert _verify_rebuilt(flow, [*entries, fine], tmp_path).policy_checked


def _later(entry: AuditEntry, hours: int = 2, **changes: str) -> AuditEntry:
    moment = entry.time_value + dt.timedelta(hours=hours)
    return dataclasses.replace(entry, time=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), **changes)


def test_a_score_after_the_revocation_is_named(flow: Flow, tmp_path: Path) -> None:
    entries = _entries(flow)
    forged = _later(entries[flow.score], request_id="req-forged-1", consent=flow.consented)
    with pytest.raises(VerificationError) as info:
        _verify_rebuilt(flow, [*entries, forged], tmp_path)
    assert (info.value.check, info.value.entry) == ("policy", len(entries))
    assert f"approval {flow.revoked} not valid" in info.value.detail


def test_a_score_after_the_withdrawal_is_named(flow: Flow, tmp_path: Path) -> None:
    entries = _entries(flow)
    # under the approval that is still valid: only the consent is wrong
    forged = _later(entries[flow.score], request_id="req-forged-2", access_request=flow.approved)
    with pytest.raises(VerificationError) as info:
        _verify_rebuilt(flow, [*entries, forged], tmp_path)
    assert (info.value.check, info.value.entry) == ("policy", len(entries))
    assert info.value.detail.startswith(f"consent {flow.consent} withdrawn at")


def test_a_consent_of_another_subject_is_named(flow: Flow, tmp_path: Path) -> None:
    entries = _entries(flow)
    other = flow.world.vault.subject_pseudonym(flow.world.ids[9])
    entries[flow.score] = dataclasses.replace(entries[flow.score], subject=other)
    with pytest.raises(VerificationError) as info:
        _verify_rebuilt(flow, entries, tmp_path)
    assert (info.value.check, info.value.entry) == ("policy", flow.score)
    assert f"consent {flow.consent} is another subject's" in info.value.detail


def test_a_consent_log_that_does_not_match_its_anchor_fails(flow: Flow, tmp_path: Path) -> None:
    engine = open_engine(flow.world.database_url, schema=flow.world.schema)
    with engine.begin() as c:  # the operator deletes the withdrawal from the consent log
        c.execute(text("DELETE FROM consent_events WHERE event = 'withdrawn'"))
    engine.dispose()
    with pytest.raises(VerificationError) as info:
        sourced_policy(flow.world.ledger, flow.database_url)
    assert info.value.check == "consent-log"
