"""Issue 16 §2: an answer worker (``dexin serve --worker``) beside the vault's owner.

A fresh data directory (a tiny synthetic Yuyao), a fresh schema of the test PostgreSQL
(``DEXIN_TEST_DATABASE_URL``, else ``postgresql://postgres@127.0.0.1:5432/test``; dropped
afterwards) holding the control plane and the audit log, and anvil as the ledger node. Then:

- ``dexin model score-all`` with ``DEXIN_VAULT_SNAPSHOTS=1`` publishes the first snapshot;
- the owner gateway is the normal serve path (it opens the vault and holds its lock) and
  publishes again as it starts;
- the worker gateway (``DEXIN_SERVE_ROLE=worker``) starts while the owner holds the vault:
  it reads the published snapshot, so it takes no lock.

Through them: a bank's score answered by the worker, its entry in the shared PostgreSQL log
(read with `dexin.app.open_audit_reader`); a consent withdrawn through the owner refused by
the worker; a contribution to the worker refused with the vault-owner problem (nothing
loaded), the same contribution through the owner published as a new snapshot the worker then
reads; and a worker without PostgreSQL refusing to start (in-process and ``dexin serve
--worker``, exit code 2). Both gateways run in this process (test clients): the worker's
vault is the snapshot, never `Vault.open`, which the owner's lock would refuse (`VaultBusy`);
and ``dexin serve --worker`` runs as a process of its own beside the owner, answering a
bank's score over HTTP.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pyarrow.parquet as pq
import pytest
from dpop_support import ClientKey, sign_bound_requests
from gateway_support import (
    INGESTED,
    PG_URL,
    Actors,
    TestClient,
    World,
    auth,
    needs_postgres,
    score_body,
)
from query_gateway.app import create_app
from sqlalchemy import create_engine, text

from audit.entry import decode_entry
from dexin.app import (
    WorkerMisconfigured,
    check_worker,
    open_audit_reader,
    open_ledger,
    open_vault,
    vault_config,
)
from dexin.keys import key_provider
from dexin.settings import Settings
from governance.anchoring import anchor_pending
from governance.control import ControlPlane
from governance.credentials import Role
from governance.db import normalise_url, open_engine, session_factory
from ledger.testing import UNSAFE_ANVIL_DEV_KEY, free_port, run_anvil, stop_process
from synthetic import generate
from vault.idnumber import check_char
from vault.ingest import ingest_file
from vault.registry import load_registry
from vault.snapshots import SnapshotVault, current_snapshot
from vault.store import Vault, VaultBusy

ROOT = Path(__file__).resolve().parents[2]
TABLE = "dishonest_debtors"


pytestmark = needs_postgres()


@dataclass
class Pair:
    owner: TestClient
    worker: TestClient
    actors: Actors  # registers clients and files approvals through the owner
    env: dict[str, str]  # the owner's environment (the worker's adds DEXIN_SERVE_ROLE)
    settings: Settings
    schema: str


def gw(http: TestClient) -> Any:
    return http.app.state.gateway  # type: ignore[attr-defined]


def _score_all_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; from dexin.cli import app; sys.argv = ['dexin', *sys.argv[1:]]; app()"
    return subprocess.run([sys.executable, "-c", code, "model", "score-all", "--unreleased"],
                          env=os.environ | env, capture_output=True, text=True, timeout=300,
                          cwd=ROOT)  # fmt: skip


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    tmp = tmp_path_factory.mktemp("worker-mode")
    schema = f"wm_{secrets.token_hex(6)}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"
    try:
        with run_anvil() as rpc:
            env = {
                "DEXIN_HOME": str(tmp / "home"),
                "DEXIN_MASTER_KEY": secrets.token_hex(32),
                "DEXIN_AS_OF": "2026-11-01",
                "DEXIN_MEMORY_LIMIT": "1GB",
                "DEXIN_UNSAFE_DEV_IDENTITY": "1",
                "DEXIN_LEDGER": "jsonrpc",
                "DEXIN_LEDGER_RPC_URL": rpc,
                "DEXIN_LEDGER_FUNDING_KEY": UNSAFE_ANVIL_DEV_KEY.hex(),
                "DATABASE_URL": url,
                "DEXIN_AUDIT_DATABASE_URL": url,
                "DEXIN_VAULT_SNAPSHOTS": "1",
                "DEXIN_WITNESS_INTERVAL": "0",
                "DEXIN_RATE_LIMIT": "1000",
                "DEXIN_RATE_BURST": "1000",
            }
            settings = Settings.from_env(env)
            ids = _populate(settings, tmp / "data")
            built = _score_all_cli(env)  # the CLI's refresh publishes the first snapshot
            assert built.returncode == 0, built.stderr
            assert current_snapshot(vault_config(settings)) == 1
            owner_app = create_app(settings)  # the serve path: opens the vault, publishes
            worker_app = create_app(Settings.from_env(env | {"DEXIN_SERVE_ROLE": "worker"}))
            engine = open_engine(url)
            with (
                TestClient(owner_app, raise_server_exceptions=False) as owner,
                TestClient(worker_app, raise_server_exceptions=False) as worker,  # owner's open
            ):
                world = World(settings, None, None, ids, url, None)  # type: ignore[arg-type]
                actors = Actors(owner, ControlPlane(session_factory(engine)), world)
                yield Pair(owner, worker, actors, env, settings, schema)
            engine.dispose()
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _populate(settings: Settings, data: Path) -> list[str]:
    """The tiny synthetic Yuyao ingested (its roots anchored on anvil); the raw ID numbers."""
    generate(data, 0.002, 0, "parquet")
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_vault(settings) as vault, open_ledger(settings) as ledger:
        for provider, table in INGESTED:
            ingest_file(vault, provider, table, data / provider / f"{table}.parquet")
        anchor_pending(ledger, vault)
    ids: list[str] = (
        pq.read_table(data / "public_security/residents.parquet").column("id_number").to_pylist()
    )
    return ids


def _bank(pair: Pair, name: str) -> tuple[ClientKey, str]:
    """A bank registered through the owner (its requests signed at both) and its approval."""
    holder = pair.actors.keyed(Role.BANK, name)
    for http in (pair.owner, pair.worker):
        sign_bound_requests(http)
    return holder, pair.actors.approved(holder.token)


def _rows(tag: str) -> bytes:
    first17 = "33029119800315013"
    person = (first17 + check_char(first17)).encode()
    base = 8_000_000_000 + int(hashlib.sha256(tag.encode()).hexdigest()[:6], 16) * 10
    return b"record_id,id_number,listed_date,removed_date,amount,case_type\n" + b"".join(
        b"YZX-2025-%010d,%s,2025-01-01,,100.00,contract\n" % (base + i, person) for i in range(2)
    )


def test_the_worker_reads_the_snapshot_and_holds_no_vault_lock(pair: Pair) -> None:
    with pytest.raises(VaultBusy), open_vault(pair.settings):
        pass  # the owner holds the vault: anything that opened it here would be refused
    worker, owner = gw(pair.worker), gw(pair.owner)
    assert not worker.vault_owner and owner.vault_owner
    assert isinstance(worker.vault, SnapshotVault) and not isinstance(owner.vault, SnapshotVault)
    assert worker.vault.number == current_snapshot(vault_config(pair.settings)) == 2
    assert worker.witnessing is None  # no anchoring of the log's checkpoints: the owner's


def test_a_score_through_the_worker_is_answered_and_in_the_shared_log(pair: Pair) -> None:
    bank, rid = _bank(pair, "worker-score")
    id_number = pair.actors.world.ids[3]
    consent = pair.actors.consent(pair.actors.subject(id_number), bank.client_id)
    r = pair.worker.post("/v1/scores", json=score_body(id_number, rid, consent),
                         headers=auth(bank.token))  # fmt: skip
    assert r.status_code == 200, r.text
    owners = pair.owner.post("/v1/scores", json=score_body(id_number, rid, consent),
                             headers=auth(bank.token))  # fmt: skip
    assert owners.status_code == 200, owners.text
    assert r.json()["morality_points"] == owners.json()["morality_points"]  # the same data
    index = r.json()["audit"]["index"]
    with open_audit_reader(pair.settings) as reading:  # another reader of the PostgreSQL log
        entries = list(reading.entries())
    position, entry = decode_entry(entries[index])
    assert (position, entry.decision, entry.access_request) == (index, "allow", rid)


def test_a_consent_withdrawn_through_the_owner_is_refused_by_the_worker(pair: Pair) -> None:
    bank, rid = _bank(pair, "worker-withdrawal")
    id_number = pair.actors.world.ids[4]
    subject = pair.actors.subject(id_number)
    consent = pair.actors.consent(subject, bank.client_id)
    body = score_body(id_number, rid, consent)
    assert pair.worker.post("/v1/scores", json=body, headers=auth(bank.token)).status_code == 200
    assert pair.owner.delete(f"/v1/consents/{consent}", headers=auth(subject)).status_code == 204
    r = pair.worker.post("/v1/scores", json=body, headers=auth(bank.token))
    assert (r.status_code, r.json()["reason"]) == (403, "consent_withdrawn")


def test_a_contribution_to_the_worker_is_the_owners_and_the_owner_publishes(pair: Pair) -> None:
    court = pair.actors.keyed(Role.PROVIDER, "court")
    sign_bound_requests(pair.worker)
    data = _rows("worker-mode")
    before = len(gw(pair.owner).vault.contributions())
    published = current_snapshot(vault_config(pair.settings))

    def post(http: TestClient) -> Any:
        return http.post("/v1/contributions", headers=auth(court.token),
                         data=court.contribution(TABLE, data),
                         files={"file": ("d.csv", data, "text/csv")})  # fmt: skip

    refused = post(pair.worker)
    assert refused.status_code == 503, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == "urn:dexin:problem:vault-owner-only"
    assert problem["reason"] == "vault_owner_only" and "vault owner" in problem["detail"]
    assert len(gw(pair.owner).vault.contributions()) == before  # nothing was loaded
    assert current_snapshot(vault_config(pair.settings)) == published

    accepted = post(pair.owner)
    assert accepted.status_code == 201, accepted.text
    assert current_snapshot(vault_config(pair.settings)) == (published or 0) + 1
    seen = {c["contribution_id"] for c in gw(pair.worker).vault.contributions()}
    assert accepted.json()["contribution_id"] in seen  # the worker follows the new snapshot


def test_a_worker_without_postgresql_refuses_to_start(pair: Pair, tmp_path: Path) -> None:
    local = {k: v for k, v in pair.env.items() if k not in ("DATABASE_URL",)}
    settings = dataclasses.replace(Settings.from_env(local), serve_role="worker")
    with pytest.raises(WorkerMisconfigured, match="DATABASE_URL"), TestClient(create_app(settings)):
        pass
    env = os.environ | pair.env
    env.pop("DATABASE_URL", None)
    env.pop("DEXIN_AUDIT_DATABASE_URL", None)
    code = "import sys; from dexin.cli import app; sys.argv = ['dexin', *sys.argv[1:]]; app()"
    run = subprocess.run([sys.executable, "-c", code, "serve", "--worker", "--port", "0"],
                         env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "DATABASE_URL" in run.stderr and "DEXIN_AUDIT_DATABASE_URL" in run.stderr
    assert pair.schema not in run.stderr  # the settings are named, never their values


def test_the_role_and_publishing_are_settings_off_by_default(tmp_path: Path) -> None:
    default = Settings.from_env({"DEXIN_HOME": str(tmp_path)})
    assert (default.serve_role, default.vault_snapshots) == ("owner", False)
    on = Settings.from_env({"DEXIN_HOME": str(tmp_path), "DEXIN_SERVE_ROLE": "worker",
                            "DEXIN_VAULT_SNAPSHOTS": "1"})  # fmt: skip
    assert (on.serve_role, on.vault_snapshots) == ("worker", True)
    with pytest.raises(ValueError, match="DEXIN_SERVE_ROLE"):
        Settings.from_env({"DEXIN_HOME": str(tmp_path), "DEXIN_SERVE_ROLE": "leader"})
    shared = Settings.from_env({"DEXIN_HOME": str(tmp_path), "DATABASE_URL": PG_URL,
                                "DEXIN_AUDIT_DATABASE_URL": PG_URL})  # fmt: skip
    with pytest.raises(WorkerMisconfigured, match="DEXIN_LEDGER=jsonrpc") as refused:
        check_worker(shared)  # the embedded chain belongs to one process
    assert "DATABASE_URL (" not in str(refused.value)  # only what is missing is named


def test_dexin_serve_worker_runs_as_a_process_beside_the_owner(pair: Pair, tmp_path: Path) -> None:
    port = free_port()
    code = "import sys; from dexin.cli import app; sys.argv = ['dexin', *sys.argv[1:]]; app()"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--worker", "--port", str(port)],
                            env=os.environ | pair.env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        health = None
        for _ in range(600):  # start-up: imports, the snapshot, the features into memory
            if proc.poll() is not None:
                break
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert health is not None and health.status_code == 200
        keys = httpx.get(f"http://127.0.0.1:{port}/v1/keys", timeout=10).json()
        assert keys == pair.owner.get("/v1/keys").json()  # one gateway: the same signing keys
        bank, rid = _bank(pair, "worker-process")
        id_number = pair.actors.world.ids[5]
        consent = pair.actors.consent(pair.actors.subject(id_number), bank.client_id)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            sign_bound_requests(http)
            r = http.post("/v1/scores", json=score_body(id_number, rid, consent),
                          headers=auth(bank.token))  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["audit"]["index"] >= 0
    finally:
        stop_process(proc, timeout=30)
