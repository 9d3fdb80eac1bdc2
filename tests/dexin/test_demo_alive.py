"""Issue 15 §3: the demo and the audit stay alive.

A port in use is refused before anything is built; the demo's witnesses (followers beside the
served gateway) get its checkpoints cosigned up to a threshold of 2 and anchored within a
minute; Ctrl-C stops ``dexin serve`` without a traceback from its helper processes.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from audit import BundleStore, SignedCheckpoint, Witness
from dexin import demo
from dexin.admin import create_client
from dexin.app import control_plane, load_or_create_log_key, open_ledger, witness_dir
from dexin.settings import Settings
from governance import Role, register_witness

DEXIN = Path(sys.executable).parent / "dexin"
SCALE = 0.002


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("script", [False, True])
def test_a_port_in_use_is_refused_before_anything_is_built(tmp_path: Path, script: bool) -> None:
    home = tmp_path / "home"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["demo", "--scale", str(SCALE), "--port", str(port)]
        r = subprocess.run([str(DEXIN), *args, *(["--script"] if script else [])],
                           env=os.environ | {"DEXIN_HOME": str(home)}, capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr
    assert "make demo PORT=" in r.stderr and "dexin demo --port" in r.stderr
    assert not home.exists()  # nothing generated, no vault, no ledger


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, Any]]:
    """A tiny demo's data in the vault, an auditor client, and two witnesses registered with
    the threshold at 2 (as after ``dexin demo --script``): one witness alone can no longer
    get anything anchored."""
    home = tmp_path_factory.mktemp("demo") / "home"
    env = {"DEXIN_HOME": str(home), "DEXIN_MASTER_KEY": secrets.token_hex(32),
           "DEXIN_AS_OF": "2026-11-01", "DEXIN_MEMORY_LIMIT": "1GB"}  # fmt: skip
    settings = Settings.from_env(env)
    demo.build(settings, SCALE, 1, Console(file=io.StringIO()))
    auditor = create_client(control_plane(settings), Role.AUDITOR, "auditor-test")
    key = load_or_create_log_key(settings).verifier()
    with open_ledger(settings) as ledger:
        for name in ("demo-witness", "demo-witness-2"):
            witness = Witness.init(witness_dir(settings, name), name, key)
            register_witness(ledger, witness.public, witness.proof_of_possession())
        ledger.set_witness_threshold(2)
    people = {"auditor": {"client_id": auditor.client_id, "client_secret": auditor.client_secret}}
    return env, people


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`dexin serve` in its own process group (as a terminal's foreground job), one-second
    witnessing rounds; killed if a test leaves it running."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(DEXIN), "serve", "--port", str(port)], text=True,
                            env=os.environ | env | {"DEXIN_WITNESS_INTERVAL": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url, proc
    finally:
        if proc.poll() is None:  # the whole group: the pool's worker holds the pipes too
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=60)


def _size(url: str) -> int:
    r = httpx.get(f"{url}/v1/audit/checkpoints/latest", timeout=10)
    return SignedCheckpoint.parse(r.text).checkpoint.size if r.status_code == 200 else 0


@pytest.mark.slow
def test_the_demo_witnesses_get_entries_anchored_within_a_minute(
    built: tuple[dict[str, str], dict[str, Any]],
) -> None:
    env, people = built
    settings = Settings.from_env(env)
    bundles = BundleStore(settings.audit_dir / "cosignatures")
    states = demo.registered_witnesses(settings)
    with serving(env) as (url, _):
        out = io.StringIO()
        followers = demo.witness_followers(settings, people, url, states, Console(file=out), 1)
        with followers as procs:
            assert len(procs) == 2 and "demo-witness, demo-witness-2" in out.getvalue()
            auditor = people["auditor"]
            form = {"grant_type": "client_credentials", "client_id": auditor["client_id"],
                    "client_secret": auditor["client_secret"]}  # fmt: skip
            assert httpx.post(f"{url}/v1/oauth/token", data=form).status_code == 200
            started = time.monotonic()
            while _size(url) == 0:  # the log checkpoints the token's entry
                assert time.monotonic() - started < 60, "no checkpoint"
                time.sleep(0.5)
            wanted = _size(url)
            while max(bundles.sizes(), default=0) < wanted:
                assert time.monotonic() - started < 60, f"not anchored: {bundles.sizes()}"
                time.sleep(0.5)
        assert [p.returncode for p in procs] == [0, 0]  # stopped cleanly with the block
    anchored = bundles.load(max(bundles.sizes()))
    assert len(anchored.signers) == 2 and anchored.anchor


@pytest.mark.slow
def test_ctrl_c_stops_serve_without_a_traceback(
    built: tuple[dict[str, str], dict[str, Any]], tmp_path: Path
) -> None:
    """The witnessing pool's worker is running (a witness registration checks its proof of
    possession there) when the terminal's Ctrl-C reaches the whole process group."""
    env, _ = built
    settings = Settings.from_env(env)
    with serving(env) as (url, proc):
        made = create_client(control_plane(settings), Role.ADMIN, "sigint-admin")
        form = {"grant_type": "client_credentials", "client_id": made.client_id,
                "client_secret": made.client_secret}  # fmt: skip
        token = httpx.post(f"{url}/v1/oauth/token", data=form).json()["access_token"]
        witness = Witness.init(tmp_path / "w", "sigint-witness",
                               load_or_create_log_key(settings).verifier())  # fmt: skip
        body = {"witness": witness.public.vkey(),
                "proof_of_possession": base64.b64encode(witness.proof_of_possession()).decode()}  # fmt: skip
        r = httpx.post(f"{url}/v1/audit/witnesses", json=body, timeout=120,
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 201, r.text
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
