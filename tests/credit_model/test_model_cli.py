"""``dexin model …`` end to end on a tiny generated population, with the embedded ledger:
unreleased scoring is refused, a release is anchored and named by every score."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dexin.app import open_vault, vault_config
from dexin.keys import key_provider
from dexin.model_cli import app
from dexin.settings import Settings
from synthetic import generate
from vault.ingest import ingest_directory
from vault.registry import load_registry
from vault.store import Vault


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("model-cli")
    generate(root / "data", 0.001, 5, "parquet")
    values = {"DEXIN_HOME": str(root / "home"), "DEXIN_MASTER_KEY": secrets.token_hex(32),
              "DEXIN_AS_OF": "2026-11-01", "DEXIN_MEMORY_LIMIT": "1GB", "ROOT": str(root)}  # fmt: skip
    settings = Settings.from_env(values)
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_vault(settings) as v:
        ingest_directory(v, root / "data")
    return values


def _adult_id(root: str) -> str:
    persons = pq.read_table(Path(root) / "data" / "_truth" / "persons.parquet").to_pylist()
    return next(p["id_number"] for p in persons if int(p["id_number"][6:10]) < 1990)


def test_the_model_commands(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    refused = runner.invoke(app, ["score-all"], env=env)
    assert refused.exit_code == 5 and "not released" in refused.output

    released = runner.invoke(app, ["release"], env=env)
    assert released.exit_code == 0, released.output
    again = runner.invoke(app, ["release"], env=env)  # idempotent
    assert again.exit_code == 0 and again.output == released.output

    assert runner.invoke(app, ["score-all"], env=env).exit_code == 0
    person = runner.invoke(app, ["score", "--subject", _adult_id(env["ROOT"]), "--json"], env=env)
    assert person.exit_code == 0, person.output
    result = json.loads(person.output)
    assert result["model"] == "wuweitu@1" and result["release"]["version"] == 1
    assert result["release"]["spec_digest"] == result["spec_digest"]
    assert result["release"]["tx_hash"].startswith("0x")

    household = runner.invoke(
        app, ["score", "--subject", _adult_id(env["ROOT"]), "--household"], env=env
    )
    assert household.exit_code == 0 and "household" in household.output

    bad = runner.invoke(app, ["score", "--subject", "33029119800315011X"], env=env)
    assert bad.exit_code == 2 and "33029119800315011X" not in bad.output

    report = runner.invoke(app, ["report", "--out", str(tmp_path / "report")], env=env)
    assert report.exit_code == 0, report.output
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "AUC" in page and "PSI" in page and "五维图" in page
    for figure in ("distribution", "radar", "roc", "calibration", "psi", "fairness"):
        assert (tmp_path / "report" / "figures" / f"{figure}.png").stat().st_size > 1000
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["population"]["scored"] > 500
