"""`dexin admin invite-officer` and `dexin officer enrol | vote`: an officer's own key, in a
0600 file, from the invite link to a vote on the ledger, against the gateway served on a
loopback port (the CLI is another process, as an officer's machine would be)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from gateway_support import Actors, admin_cli

from governance.credentials import Role
from ledger.testing import free_port


@pytest.fixture
def served(actors: Actors) -> Iterator[str]:
    """The session's app on a real port (its lifespan already ran under the test client)."""
    port = free_port()
    config = uvicorn.Config(actors.http.app, host="127.0.0.1", port=port, lifespan="off",
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def officer_cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from dexin.cli import app; sys.argv = ['dexin', *sys.argv[1:]]; app()"
    return subprocess.run([sys.executable, "-c", code, "officer", *args], capture_output=True,
                          text=True, timeout=120, env=os.environ.copy())  # fmt: skip


def test_an_officer_enrols_a_key_and_votes_from_the_command_line(
    actors: Actors, served: str, tmp_path: Path
) -> None:
    invited = admin_cli(actors, "invite-officer", "officer-cli", "--gateway", served, "--json")
    assert invited.returncode == 0, invited.stderr
    doc = json.loads(invited.stdout)
    key, secret = tmp_path / "officer.key", tmp_path / "secret"
    secret.write_text(doc["client_secret"])
    enrolled = officer_cli("enrol", "--invite", doc["enrol_url"], "--key-out", str(key))
    assert enrolled.returncode == 0, enrolled.stderr
    assert key.stat().st_mode & 0o777 == 0o600
    again = officer_cli("enrol", "--invite", doc["enrol_url"], "--key-out", str(tmp_path / "k2"))
    assert again.returncode == 1 and "invite_invalid" in again.stderr  # the link works once
    rid = actors.file(actors.token(Role.BANK)[1])
    vote = ["vote", rid, "approve", "--key", str(key), "--gateway", served,
            "--secret-file", str(secret), "--json"]  # fmt: skip
    done = officer_cli(*vote)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "pending" and out["signed"]["decision"] == "approve"
    assert officer_cli(*vote).returncode == 1  # one vote per officer
    key.chmod(0o644)
    assert officer_cli(*vote).returncode == 2  # a key others can read is refused
