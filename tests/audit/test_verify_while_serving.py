"""While a real `dexin serve` owns the ledger: an auditor verifies the log and its anchors,
and two `dexin audit witness --follow` processes cosign through the API, the gateway anchors."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from audit_builders import fill, witnessed_data_directory
from typer.testing import CliRunner

from audit.witness import Witness
from dexin import audit_cli
from dexin.admin import create_client
from dexin.app import control_plane, load_or_create_log_key, open_audit_log, vault_config
from dexin.keys import key_provider
from dexin.settings import Settings
from governance.credentials import Role
from vault.registry import load_registry
from vault.store import Vault

DEXIN = Path(sys.executable).parent / "dexin"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A data directory whose log (20 entries) is cosigned by w1 and w2 (threshold 2) and
    anchored at size 20; the gateway runs a witnessing round every second."""
    home = tmp_path_factory.mktemp("serving") / "home"
    settings = Settings.from_env(
        {"DEXIN_HOME": str(home), "DEXIN_MASTER_KEY": secrets.token_hex(32)}
    )
    witnessed_data_directory(settings, 20)
    return {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex,
            "DEXIN_AS_OF": "2026-11-01", "DEXIN_MEMORY_LIMIT": "1GB",
            "DEXIN_UNSAFE_DEV_IDENTITY": "1",  # residents sign in by ID number here
            "DEXIN_WITNESS_INTERVAL": "1"}  # fmt: skip


@pytest.fixture(scope="module")
def served(env: dict[str, str]) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([DEXIN, "serve", "--port", str(port)], env=os.environ | env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "dexin serve exited"
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("dexin serve did not become healthy")


def _dexin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEXIN, *args], env=os.environ | env, capture_output=True, text=True)


def test_verify_checks_anchors_while_the_gateway_owns_the_ledger(
    env: dict[str, str], served: str
) -> None:
    owned = _dexin(env, "ledger", "anchor")  # a writer still finds the ledger busy
    assert owned.returncode == 4 and "in use by another process" in owned.stderr
    r = _dexin(env, "audit", "verify", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    verdict = json.loads(r.stdout)
    assert verdict["entries"] >= 20 and "20" in verdict["anchored"] and 20 in verdict["cosigned"]
    assert verdict["anchors_checked"] is True and verdict["policy_checked"] is True
    assert any("the gateway holds the vault" in note for note in verdict["notes"])
    status = _dexin(env, "ledger", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["anchors"]["audit_log"] == 1


@pytest.mark.slow  # five `dexin` processes (about 5 s each to start) and a 10 s checkpoint
def test_witnesses_follow_the_running_gateway_and_it_anchors(
    env: dict[str, str], served: str, tmp_path: Path
) -> None:
    deadline = time.monotonic() + 60  # the log checkpoints within 10 s once it grows
    while httpx.get(f"{served}/v1/audit/cosignatures/checkpoint").status_code != 200:
        assert time.monotonic() < deadline, "no checkpoint to cosign"
        time.sleep(0.5)
    followers = []
    for name in ("w1", "w2"):  # both at once, as independent witnesses would
        made = _dexin(env, "admin", "create-client", "--role", "auditor", "--name", name, "--json")
        assert made.returncode == 0, made.stderr
        client = json.loads(made.stdout)
        state = str(Path(env["DEXIN_HOME"]) / "witnesses" / name)
        args = ["audit", "witness", "--follow", "--state", state, "--gateway", served,
                "--client-id", client["client_id"], "--interval", "1", "--rounds", "3"]  # fmt: skip
        secret = {"DEXIN_CLIENT_SECRET": client["client_secret"]}
        followers.append(subprocess.Popen([DEXIN, *args], env=os.environ | env | secret,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
    outputs = [f.communicate(timeout=120) for f in followers]
    for follower, (stdout, stderr) in zip(followers, outputs, strict=True):
        assert follower.returncode == 0, stdout + stderr
        assert "cosigned checkpoint" in stdout and "(extends 20)" in stdout
    cosigned = int(outputs[0][0].split("cosigned checkpoint ")[1].split()[0])
    deadline = time.monotonic() + 60
    bundles = Path(env["DEXIN_HOME"]) / "audit" / "cosignatures" / f"{cosigned:020d}.json"
    while not bundles.exists():
        assert time.monotonic() < deadline, "the gateway did not anchor the cosigned checkpoint"
        time.sleep(0.2)
    r = _dexin(env, "audit", "verify", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert str(cosigned) in json.loads(r.stdout)["anchored"]


def test_verify_without_a_ledger_says_so(settings: Settings) -> None:
    env = {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex}
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_audit_log(settings) as log:
        fill(log, 0, 3)
        log.checkpoint_now()
    r = _dexin(env, "audit", "verify")
    assert r.returncode == 4 and "no ledger" in r.stderr
    assert not (settings.home / "ledger" / "chain.sqlite").exists()  # nothing was created


def test_an_unreachable_control_plane_is_a_clear_error(env: dict[str, str]) -> None:
    unreachable = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:9/nothing"}
    result = CliRunner().invoke(audit_cli.app, ["verify"], env=env | unreachable)
    assert result.exit_code == 4 and "control plane" in result.output


def test_an_admin_registers_a_witness_through_the_running_gateway(
    env: dict[str, str], served: str, tmp_path: Path
) -> None:
    settings = Settings.from_env(env)
    admin = create_client(control_plane(settings), Role.ADMIN, "witness-registrar")
    newcomer = Witness.init(tmp_path / "w3", "w3", load_or_create_log_key(settings).verifier())
    pop = base64.b64encode(newcomer.proof_of_possession()).decode()
    args = ["register-witness", "--vkey", newcomer.public.vkey(), "--pop", pop,
            "--gateway", served, "--client-id", admin.client_id]  # fmt: skip
    secret = {"DEXIN_CLIENT_SECRET": admin.client_secret}
    result = CliRunner().invoke(audit_cli.app, args, env=env | secret)
    assert result.exit_code == 0, result.output
    listed = httpx.get(f"{served}/v1/audit/witnesses").json()
    assert newcomer.public.public_key.hex() in listed["public_keys"]
    owned = CliRunner().invoke(audit_cli.app, args[:5], env=env)  # without --gateway
    assert owned.exit_code == 4 and "use --gateway" in owned.output
