"""`dexin admin invite-officer` and `dexin officer enrol | vote`: an officer's own key, in a
0600 file, from the invite link to a vote on the ledger, against the gateway served on a
loopback port (the CLI is another process, as an officer's machine would be)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import Actors, admin_cli, dexin_cli, served_on_port

from governance.credentials import Role


@pytest.fixture
def served(actors: Actors) -> Iterator[str]:
    with served_on_port(actors) as url:
        yield url


def officer_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return dexin_cli("officer", *args)


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
