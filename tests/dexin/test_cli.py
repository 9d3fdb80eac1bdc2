"""The ``dexin`` command line: receipts as JSON, messages and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dexin.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "vault"))
from vault_builders import RESIDENT_HEADER, id_number, resident, write


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "DEXIN_HOME": str(tmp_path / "home"),
        "DEXIN_AS_OF": "2026-11-01",
        "DEXIN_MASTER_KEY": "",
        "DEXIN_MASTER_KEY_FILE": "",
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_init_ingest_status_and_refusal(env: dict[str, str], tmp_path: Path) -> None:
    code, stdout, _ = _run(env, "vault", "init")
    assert code == 0 and "master key file created" in stdout
    path = write(tmp_path / "r.csv", RESIDENT_HEADER, [resident(1), resident(2), resident(2)])
    code, stdout, _ = _run(
        env,
        "vault",
        "ingest",
        "--provider",
        "public_security",
        "--table",
        "residents",
        str(path),
        "--json",
    )
    assert code == 0
    receipt = json.loads(stdout)
    assert {
        "contribution_id",
        "provider",
        "table",
        "submitted",
        "accepted",
        "rejected",
        "file_sha256",
        "merkle_root",
    } <= receipt.keys()
    assert (receipt["submitted"], receipt["accepted"], receipt["rejected"]) == (3, 2, 1)
    code, stdout, _ = _run(env, "vault", "status", "--json")
    assert code == 0 and json.loads(stdout)["total_rows"] == 2
    bad = tmp_path / "b.csv"
    bad.write_text(
        f"record_id,id_number,donation_date,donation_kind,volume_ml,blood_type\n"
        f"B-000001,{id_number(1)},2024-01-01,whole_blood,400,A\n"
    )
    code, _, stderr = _run(
        env, "vault", "ingest", "--provider", "blood_centre", "--table", "blood_donations", str(bad)
    )
    assert code == 2 and "blood_type" in stderr and "prohibited" in stderr


def test_errors_have_a_message_and_an_exit_code(env: dict[str, str], tmp_path: Path) -> None:
    code, _, stderr = _run(env, "vault", "status")
    assert code == 3 and "no master key" in stderr and "hint:" in stderr
    _run(env, "vault", "init")
    code, _, stderr = _run(env, "vault", "init")
    assert code == 4 and "already exists" in stderr
    code, _, stderr = _run(
        env,
        "vault",
        "ingest",
        "--provider",
        "court",
        "--table",
        "residents",
        str(tmp_path / "x.csv"),
    )
    assert code == 2 and "does not contribute" in stderr
    code, _, stderr = _run(env | {"DEXIN_MASTER_KEY": "00" * 32}, "vault", "status")
    assert code == 3 and "wrong key" in stderr


def test_rotate_and_purge_commands(env: dict[str, str], tmp_path: Path) -> None:
    _run(env, "vault", "init")
    path = write(tmp_path / "r.csv", RESIDENT_HEADER, [resident(1)])
    _run(env, "vault", "ingest", "--provider", "public_security", "--table", "residents", str(path))
    code, stdout, _ = _run(env, "vault", "rotate-key", "--provider", "public_security", "--master")
    assert code == 0 and "public_security: data key v2" in stdout and "master key rotated" in stdout
    code, stdout, _ = _run(env, "vault", "purge-expired", "--json")
    assert code == 0 and json.loads(stdout) == []
    code, stdout, _ = _run(env, "vault", "status", "--json")
    assert json.loads(stdout)["total_rows"] == 1


def test_the_installed_command_reports_a_busy_vault(env: dict[str, str], tmp_path: Path) -> None:
    full = dict(os.environ) | env
    dexin = Path(sys.executable).parent / "dexin"
    subprocess.run([dexin, "vault", "init"], env=full, check=True, capture_output=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from dexin.app import open_vault; from dexin.settings "
            "import Settings\nwith open_vault(Settings.from_env()):\n print('open', flush=True); time.sleep(30)",
        ],
        env=full,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        busy = subprocess.run([dexin, "vault", "status"], env=full, capture_output=True, text=True)
        assert busy.returncode == 4 and "in use by another process" in busy.stderr
    finally:
        holder.kill()
        holder.communicate()
