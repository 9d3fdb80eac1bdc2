"""Issue 6: witnesses cosign through the API while the gateway runs; the gateway's background
round aggregates and anchors; an auditor verifies meanwhile; a forked checkpoint is refused.

Real gateway app, real embedded ledger, real BLS. The module builds its own data directory
(the witness set and threshold are global ledger state).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gateway_support import Actors, TestClient, World, auth, open_world, score_body
from query_gateway.app import create_app

from audit.checkpoint import Checkpoint, SignedCheckpoint
from audit.errors import SplitViewError, WitnessError
from audit.note import NoteSigner
from audit.pending import cosignature_document
from audit.witness import BundleStore, Witness
from dexin.app import load_or_create_log_key
from dexin.witness_follow import follow, witness_once
from dexin_client import DexinClient
from governance.anchoring import register_witness
from governance.control import ControlPlane
from governance.credentials import Role
from governance.db import open_engine, session_factory


@dataclass
class Witnessed:
    world: World
    http: TestClient
    actors: Actors
    witnesses: list[Witness]
    clients: list[DexinClient]  # one auditor client per witness, over the app


@pytest.fixture(scope="module")
def witnessed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witnessed]:
    tmp = tmp_path_factory.mktemp("witnessing")
    with open_world(tmp) as world:
        log_key = load_or_create_log_key(world.settings).verifier()
        witnesses = [Witness.init(tmp / "w" / n, n, log_key) for n in ("w1", "w2")]
        for w in witnesses:
            register_witness(world.ledger, w.public, w.proof_of_possession())
        world.ledger.set_witness_threshold(2)
        app = create_app(world.with_gateway(witness_interval=0.5), world.components())
        engine = open_engine(world.database_url, schema=world.schema)
        with TestClient(app, raise_server_exceptions=False) as http:
            control = ControlPlane(session_factory(engine))
            clients = []
            for w in witnesses:
                made = control.create_client(Role.AUDITOR, f"witness-{w.name}")
                clients.append(DexinClient("http://testserver", made.client_id,
                                           made.client_secret, http=http))  # fmt: skip
            yield Witnessed(world, http, Actors(http, control, world), witnesses, clients)
        engine.dispose()


def _checkpoint_now(w: Witnessed) -> int:
    signed = w.http.app.state.gateway.audit.log.checkpoint_now()  # type: ignore[attr-defined]
    return int(signed.checkpoint.size)


def _scored(w: Witnessed) -> tuple[str, dict[str, str]]:
    """A bank with an approved request and a consenting subject: (token, score body)."""
    bank_id, bank = w.actors.token(Role.BANK)
    rid = w.actors.approved(bank)
    id_number = w.world.ids[5]
    consent = w.actors.consent(w.actors.subject(id_number), bank_id)
    return bank, score_body(id_number, rid, consent)


def _verify(w: Witnessed) -> dict[str, object]:
    """`dexin audit verify` in its own process, as an auditor runs it beside the gateway (this
    test process holds the vault and the ledger, as the gateway would)."""
    settings = w.world.settings
    env = {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex,
           "DEXIN_AS_OF": "2026-11-01", "DATABASE_URL": w.world.database_env()}  # fmt: skip
    dexin = Path(sys.executable).parent / "dexin"
    result = subprocess.run([dexin, "audit", "verify", "--json"], env=os.environ | env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    verdict: dict[str, object] = json.loads(result.stdout)
    assert any("the gateway holds the vault" in n for n in verdict["notes"])  # type: ignore[attr-defined]
    return verdict


def test_two_witnesses_cosign_and_the_background_round_anchors(witnessed: Witnessed) -> None:
    w = witnessed
    bank, body = _scored(w)
    assert w.http.post("/v1/scores", headers=auth(bank), json=body).status_code == 200
    size = _checkpoint_now(w)
    for witness, client in zip(w.witnesses, w.clients, strict=True):
        report, cosigned = witness_once(witness, client)
        assert cosigned == size, report  # the target stays put while the log moves on
        assert _checkpoint_now(w) > size
    store = BundleStore(w.world.settings.audit_dir / "cosignatures")
    statuses = []
    deadline = time.monotonic() + 120
    while size not in store.sizes():  # requests keep being answered while the round runs
        assert time.monotonic() < deadline, "the background round did not anchor"
        statuses.append(w.http.post("/v1/scores", headers=auth(bank), json=body).status_code)
        time.sleep(0.1)  # paced: a slow round must not spend the approval's quota (429)
    assert statuses and set(statuses) == {200}
    bundle = store.load(size)
    assert sorted(s.name for s in bundle.signers) == ["w1", "w2"] and bundle.anchor
    verdict = _verify(w)  # the app still owns the ledger: read through the read-only view
    assert size in verdict["cosigned"] and str(size) in verdict["anchored"]  # type: ignore[operator]

    next_size = _checkpoint_now(w)
    report, cosigned = witness_once(w.witnesses[0], w.clients[0])
    assert cosigned is not None and size < cosigned <= next_size  # the next target
    assert f"extends {size}" in report


def test_submissions_are_checked_before_they_are_kept(witnessed: Witnessed, tmp_path: Path) -> None:
    w = witnessed
    size = _checkpoint_now(w)
    _, auditor = w.actors.token(Role.AUDITOR)
    _, bank = w.actors.token(Role.BANK)
    signed = SignedCheckpoint.parse(w.http.get("/v1/audit/checkpoints/latest").text)
    stranger = Witness.init(tmp_path / "stranger", "stranger", w.witnesses[0].log_key)
    doc = cosignature_document(stranger.cosign(signed, []))

    def post(document: dict[str, object], token: str = auditor) -> httpx.Response:
        return w.http.post("/v1/audit/cosignatures", json=document, headers=auth(token))

    assert post(doc, bank).status_code == 403
    assert w.http.post("/v1/audit/cosignatures", json=doc).status_code == 401
    refused = post(doc)
    assert (refused.status_code, refused.json()["reason"]) == (403, "witness_not_registered")
    registered = w.witnesses[1].public.vkey()
    garbage = {
        "witness": registered,
        "size": size,
        "signature": base64.b64encode(os.urandom(96)).decode(),
    }
    assert post({**garbage, "size": size + 10**6}).json()["reason"] == "no_such_checkpoint"
    assert post({**garbage, "signature": "AAAA"}).json()["reason"] == "malformed_cosignature"
    assert post({**garbage, "extra": 1}).status_code == 422
    anchored = max(BundleStore(w.world.settings.audit_dir / "cosignatures").sizes(), default=0)
    if anchored:
        late = post({**garbage, "size": anchored})
        assert (late.status_code, late.json()["reason"]) == (409, "already_anchored")
    accepted = post(garbage)  # well-formed: kept; the round checks the signature and sets it aside
    assert accepted.status_code == 202 and accepted.json()["status"] == "pending"


def test_a_witness_refuses_a_forked_checkpoint(witnessed: Witnessed, tmp_path: Path) -> None:
    w = witnessed
    log_key = load_or_create_log_key(w.world.settings)
    witness = Witness.init(tmp_path / "w3", "w3", log_key.verifier())
    honest = SignedCheckpoint.parse(w.http.get("/v1/audit/checkpoints/latest").text)
    witness.cosign(honest, [])
    cp = honest.checkpoint
    forks = [
        Checkpoint(cp.origin, cp.size, os.urandom(32)).sign(log_key),  # same size, other root
        Checkpoint(cp.origin, cp.size + 3, os.urandom(32)).sign(log_key),  # not an extension
    ]
    for fork in forks:
        with pytest.raises(SplitViewError):
            follow(witness, _gateway_serving(fork, honest), 0.1, lambda _: None, rounds=1)
    impostor = Checkpoint(cp.origin, cp.size + 3, os.urandom(32)).sign(
        NoteSigner.generate(cp.origin)
    )
    with pytest.raises(WitnessError):
        witness_once(witness, _gateway_serving(impostor, honest))
    assert witness.last() == honest  # nothing it refused became its state


def _gateway_serving(note: SignedCheckpoint, honest: SignedCheckpoint) -> DexinClient:
    """A gateway that shows the witness ``note`` (a malicious one: httpx's in-process
    transport; the witness, the log key and the BLS key are real)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 900})
        if request.url.path == "/v1/audit/cosignatures/checkpoint":
            return httpx.Response(200, text=note.render())
        if request.url.path == "/v1/audit/proofs/consistency":
            return httpx.Response(200, json={"proof": [honest.checkpoint.root.hex()]})
        return httpx.Response(202, json={"status": "pending"})

    http = httpx.Client(base_url="http://evil", transport=httpx.MockTransport(answer))
    return DexinClient("http://evil", "id", "secret", http=http)


def test_an_admin_registers_a_witness_while_the_gateway_runs(
    witnessed: Witnessed, tmp_path: Path
) -> None:
    w = witnessed
    _, admin = w.actors.token(Role.ADMIN)
    _, auditor = w.actors.token(Role.AUDITOR)
    newcomer = Witness.init(tmp_path / "w4", "w4", w.witnesses[0].log_key)
    pop = base64.b64encode(newcomer.proof_of_possession()).decode()
    body = {"witness": newcomer.public.vkey(), "proof_of_possession": pop}
    wrong = {
        **body,
        "proof_of_possession": base64.b64encode(w.witnesses[0].proof_of_possession()).decode(),
    }
    refused = w.http.post("/v1/audit/witnesses", json=wrong, headers=auth(admin))
    assert (refused.status_code, refused.json()["reason"]) == (422, "invalid_proof_of_possession")
    assert w.http.post("/v1/audit/witnesses", json=body, headers=auth(auditor)).status_code == 403
    too_high = w.http.post(
        "/v1/audit/witnesses", json={**body, "threshold": 4}, headers=auth(admin)
    )
    assert (too_high.status_code, too_high.json()["reason"]) == (409, "invalid_witness_threshold")
    added = w.http.post("/v1/audit/witnesses", json=body, headers=auth(admin))
    assert added.status_code == 201, added.text
    assert newcomer.public.public_key.hex() in added.json()["public_keys"]
    again = w.http.post("/v1/audit/witnesses", json=body, headers=auth(admin))
    assert (again.status_code, again.json()["reason"]) == (409, "witness_exists")
    listed = w.http.get("/v1/audit/witnesses").json()
    assert listed["threshold"] == 2 and len(listed["public_keys"]) == 3
    _checkpoint_now(w)
    signed = SignedCheckpoint.parse(w.http.get("/v1/audit/checkpoints/latest").text)
    doc = cosignature_document(newcomer.cosign(signed, []))
    accepted = w.http.post("/v1/audit/cosignatures", json=doc, headers=auth(auditor))
    assert accepted.status_code == 202, accepted.text  # the set is read again at once
