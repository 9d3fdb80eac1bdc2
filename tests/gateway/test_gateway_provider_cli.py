"""`dexin provider inbox | show | answer`: a provider answers a resident's dispute from the
command line, with its own key file, against the gateway served on a loopback port (the CLI
is another process, as a provider's machine would be)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import Actors, admin_cli, auth, dexin_cli, served_on_port

from vault import subject_records


@pytest.fixture
def served(actors: Actors) -> Iterator[str]:
    with served_on_port(actors) as url:
        yield url


def provider_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return dexin_cli("provider", *args)


def _disputed(actors: Actors) -> tuple[str, str]:
    """A resident of the session's world (one no other test uses) disputes a penalty of
    market_regulation's; (the dispute's id, the record's key)."""
    vault = actors.world.vault
    for id_number in reversed(actors.world.ids):
        subject = vault.subject_pseudonym(id_number)
        found = [r for r in subject_records(vault, subject)
                 if r.ref.table == "administrative_penalties" and r.status == "counts"
                 and r.provider == "market_regulation"]  # fmt: skip
        if found:
            body = {"record": found[0].ref.model_dump(), "reason": "罚款已退还 / refunded"}
            filed = actors.http.post("/v1/me/disputes", json=body,
                                     headers=auth(actors.subject(id_number)))  # fmt: skip
            assert filed.status_code == 201, filed.text
            return str(filed.json()["id"]), found[0].key
    raise AssertionError("no resident with a penalty in the session's world")


def test_a_provider_answers_a_dispute_from_the_command_line(
    actors: Actors, served: str, tmp_path: Path
) -> None:
    made = admin_cli(actors, "create-client", "--role", "provider", "--name", "market_regulation",
                     "--generate-key", str(tmp_path), "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key_file"]
    dispute, record_key = _disputed(actors)
    common = ("--gateway", served, "--key", key)

    inbox = provider_cli("inbox", *common)
    assert inbox.returncode == 0, inbox.stderr
    assert dispute in inbox.stdout and record_key in inbox.stdout and "days left" in inbox.stdout
    shown = provider_cli("show", dispute, *common)
    assert shown.returncode == 0 and "reason: 罚款已退还 / refunded" in shown.stdout
    answered = provider_cli("answer", dispute, "confirmed", *common, "--note", "经核查无误",
                            "--json")  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["outcome"] == "confirmed"
    again = provider_cli("answer", dispute, "deleted", *common)
    assert again.returncode == 1 and "dispute_already_answered" in again.stderr
    assert (
        provider_cli("inbox", "--gateway", served, "--key", str(tmp_path / "none")).returncode == 2
    )
