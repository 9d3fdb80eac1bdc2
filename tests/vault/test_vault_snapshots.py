"""The snapshot answer workers read: published by the owner, read by other processes.

The owner (this test process) holds the vault open for the whole test, while a worker
process (a real one) reads the published snapshot: a derived row by pseudonym, a statistic,
and, after the owner ingests and publishes again, the new data on its next use."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from vault_builders import RESIDENT_HEADER, id_number, resident, write

from credit_model.spec import load_spec
from dexin.app import vault_config
from dexin.keys import key_provider
from dexin.settings import Settings
from governance.model_runs import score_all
from vault import SnapshotMissing, VaultReadOnly, current_snapshot, ingest_file
from vault.snapshots import KEEP, open_snapshot, snapshots_dir
from vault.store import Vault

MARKER = "SNAPSHOT-MARKER-5e1f0c"  # a plaintext value stored in the derived database

WORKER = """
import json, sys
from dexin.app import open_vault, open_vault_snapshot
from dexin.settings import Settings
from vault import VaultBusy, VaultError
from vault.statistics import grade_counts

settings = Settings.from_env()
with open_vault_snapshot(settings) as reader:
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        v = reader.vault()
        out = {"number": reader.number}
        if command == "read":
            ((n,),) = v.query("SELECT count(*) FROM src.residents")
            out["residents"] = n
            out["row"] = v.lookup("scores", "subject", v.subject_pseudonym(argument))
            out["cells"] = [[g, c] for g, c in grade_counts(v, ["A", "B"])]
        elif command == "write":
            refused = []
            for attempt in (
                lambda: v.query("INSERT INTO derived.scores VALUES ('x', 'A', 'x')"),
                lambda: v.query("CREATE TABLE derived.extra AS SELECT 1 AS one"),
                lambda: v.query("DELETE FROM p_public_security.residents"),
                lambda: v.materialise("scores", "SELECT 1 AS one"),
                lambda: v.define_view("scores_view", "SELECT 1 AS one"),
                lambda: v.publish_snapshot(),
            ):
                try:
                    attempt()
                    refused.append("written")
                except VaultError as exc:
                    refused.append(type(exc).__name__)
            out["refused"] = refused
        elif command == "score":
            from credit_model.spec import load_spec
            from governance.model_runs import feature_row
            subject = v.subject_pseudonym(argument)
            row = feature_row(v, load_spec(), subject)
            out["features"] = None if row is None else {"birth_year": row.birth_year,
                                                        "town_code": row.town_code}
            out["score"] = v.lookup("scores", "subject", subject)
        elif command == "own":
            try:
                with open_vault(settings):
                    out["own"] = "opened"
            except VaultBusy:
                out["own"] = "busy"
        print(json.dumps(out, default=str), flush=True)
"""


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEXIN_HOME=str(settings.home),
        DEXIN_MASTER_KEY=settings.master_key_hex or "",
        DEXIN_AS_OF="2026-11-01",
        DEXIN_MEMORY_LIMIT="1GB",
    )
    return env


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env=_env(settings),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ask(self, line: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            _, err = self.proc.communicate()
            raise AssertionError(f"the worker ended: {err[-2000:]}")
        result: dict[str, Any] = json.loads(answer)
        return result

    def close(self) -> None:
        self.proc.communicate()  # closes stdin: the worker ends; and its pipes


def _refresh(vault: Vault) -> None:
    """Stand-in scores: one row per resident, with a code and the plaintext marker."""
    vault.materialise(
        "scores",
        "SELECT subject, CASE WHEN birth_year < 1985 THEN 'A' ELSE 'B' END AS morality_code, "
        f"'{MARKER}' AS note FROM src.residents",
        key="subject",
    )


def _residents(tmp_path: Path, name: str, seqs: list[int]) -> Path:
    rows = [resident(s, year=1980 + s, household=s) for s in seqs]
    return write(tmp_path / name, RESIDENT_HEADER, rows)


@pytest.fixture
def worker(settings: Settings) -> Any:
    w = Worker(settings)
    yield w
    w.close()


def test_a_worker_reads_the_snapshot_while_the_owner_holds_the_vault(
    vault: Vault, settings: Settings, tmp_path: Path, worker: Worker
) -> None:
    ingest_file(vault, "public_security", "residents", _residents(tmp_path, "a.csv", [1, 2]))
    _refresh(vault)
    assert vault.publish_snapshot() == 1
    assert current_snapshot(vault.config) == 1

    first = worker.ask(f"read {id_number(1, 1981)}")
    assert first["number"] == 1
    assert first["residents"] == 2
    assert first["row"]["morality_code"] == "A" and first["row"]["note"] == MARKER
    cells = {json.dumps(g, sort_keys=True): c for g, c in first["cells"]}
    assert cells[json.dumps({"code": "A", "town": "T01"}, sort_keys=True)] == 2
    assert worker.ask("own")["own"] == "busy"  # the owner still holds the live vault

    # the owner ingests more and publishes again: the worker's next use sees it
    ingest_file(vault, "public_security", "residents", _residents(tmp_path, "b.csv", [7, 9]))
    _refresh(vault)
    assert vault.publish_snapshot() == 2
    second = worker.ask(f"read {id_number(9, 1989)}")
    assert second["number"] == 2
    assert second["residents"] == 4
    assert second["row"]["morality_code"] == "B"
    assert worker.ask(f"read {id_number(9, 1989)}")["number"] == 2

    # a third publish keeps the last two snapshots only
    assert vault.publish_snapshot() == 3
    kept = sorted(p.name for p in snapshots_dir(vault.config).iterdir() if p.is_dir())
    assert kept == [str(n) for n in range(4 - KEEP, 4)]
    assert worker.ask(f"read {id_number(7, 1987)}")["number"] == 3


def test_a_worker_reads_the_credit_models_scores_from_the_snapshot(
    vault: Vault, tmp_path: Path, worker: Worker
) -> None:
    ingest_file(vault, "public_security", "residents", _residents(tmp_path, "a.csv", [2, 4]))
    score_all(vault, load_spec(), computed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), release=None)
    vault.publish_snapshot()
    answer = worker.ask(f"score {id_number(4, 1984)}")
    assert answer["features"] == {"birth_year": 1984, "town_code": "T01"}
    live = vault.lookup("scores", "subject", vault.subject_pseudonym(id_number(4, 1984)))
    assert live is not None
    assert answer["score"] == json.loads(json.dumps(live, default=str))
    assert worker.ask(f"score {id_number(5, 1985)}")["features"] is None  # not a resident


def test_a_write_through_the_snapshot_is_refused(
    vault: Vault, settings: Settings, tmp_path: Path, worker: Worker
) -> None:
    ingest_file(vault, "public_security", "residents", _residents(tmp_path, "a.csv", [3]))
    _refresh(vault)
    vault.publish_snapshot()
    refused = worker.ask("write")["refused"]
    assert refused == ["VaultReadOnly"] * 6
    ((n,),) = vault.query("SELECT count(*) FROM derived.scores")
    assert n == 1  # the live vault is untouched
    with pytest.raises(VaultReadOnly), open_snapshot(vault.config, vault.registry,
                                                       key_provider(settings)) as snap:  # fmt: skip
        ingest_file(snap, "public_security", "residents", _residents(tmp_path, "b.csv", [4]))
    bad = write(tmp_path / "c.csv", RESIDENT_HEADER, [resident(6), resident(8, birth_year="x")])
    with pytest.raises(VaultReadOnly), open_snapshot(vault.config, vault.registry,
                                                       key_provider(settings)) as snap:  # fmt: skip
        ingest_file(snap, "public_security", "residents", bad)  # a row rejected: a report due
    assert list(vault.config.reports_dir.iterdir()) == []  # none left beside the owner's vault
    ((n,),) = vault.query("SELECT count(*) FROM p_public_security.contributions")
    assert n == 1


def test_the_snapshot_files_stay_encrypted(
    vault: Vault, settings: Settings, tmp_path: Path
) -> None:
    ingest_file(vault, "public_security", "residents", _residents(tmp_path, "a.csv", [5]))
    _refresh(vault)
    number = vault.publish_snapshot()
    directory = snapshots_dir(vault.config) / str(number)
    files = sorted(directory.rglob("*.duckdb"))
    assert len(files) == len(vault.registry.providers) + 1
    for f in files:
        data = f.read_bytes()
        assert MARKER.encode() not in data
        assert b"T01V001" not in data
        with pytest.raises(duckdb.Error, match=r"(?i)encrypt|key"):
            duckdb.connect(str(f), read_only=True).execute("SHOW ALL TABLES").fetchall()
    # the marker is there, read through the keys: the check above can fail
    with Vault.open_snapshot(vault.config, vault.registry, key_provider(settings)) as snap:
        ((note,),) = snap.query("SELECT any_value(note) FROM derived.scores")
        assert note == MARKER


def test_no_snapshot_yet_is_a_vault_error(settings: Settings, vault: Vault) -> None:
    with (
        pytest.raises(SnapshotMissing),
        Vault.open_snapshot(vault_config(settings), vault.registry, key_provider(settings)),
    ):
        pass
