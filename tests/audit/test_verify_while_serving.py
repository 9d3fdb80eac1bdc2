"""An auditor verifies the log and its anchors while a real `dexin serve` owns the ledger."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from audit_builders import fill

from audit.log import LogOptions
from audit.witness import BundleStore, Witness, witness_round
from dexin.app import open_ledger, vault_config
from dexin.audit_wiring import (
    LedgerAnchorer,
    audit_dir,
    load_or_create_log_key,
    open_audit_log,
    register_witness,
    witness_dir,
)
from dexin.keys import key_provider
from dexin.settings import Settings
from vault.registry import load_registry
from vault.store import Vault

DEXIN = Path(sys.executable).parent / "dexin"


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    """A data directory whose log (20 entries) is cosigned and anchored at size 20."""
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    witness = Witness.init(
        witness_dir(settings, "w1"), "w1", load_or_create_log_key(settings).verifier()
    )
    with (
        open_ledger(settings) as ledger,
        open_audit_log(settings, LogOptions(checkpoint_every=10**6)) as log,
    ):
        register_witness(ledger, witness.public, witness.proof_of_possession())
        ledger.set_witness_threshold(1)
        fill(log, 0, 20)
        signed = log.checkpoint_now()
        assert signed is not None
        store = BundleStore(audit_dir(settings) / "cosignatures")
        witness_round(signed, [witness], log.consistency_proof, LedgerAnchorer(ledger), store)
    return {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex,
            "DEXIN_AS_OF": "2026-11-01", "DEXIN_MEMORY_LIMIT": "1GB"}  # fmt: skip


@pytest.fixture
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
    assert verdict["anchors_checked"] is True
    status = _dexin(env, "ledger", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["anchors"]["audit_log"] == 1


def test_verify_without_a_ledger_says_so(settings: Settings) -> None:
    env = {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex}
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_audit_log(settings) as log:
        fill(log, 0, 3)
        log.checkpoint_now()
    r = _dexin(env, "audit", "verify")
    assert r.returncode == 4 and "no ledger" in r.stderr
    assert not (settings.home / "ledger" / "chain.sqlite").exists()  # nothing was created
