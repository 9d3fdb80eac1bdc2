"""Contribution roots anchored on the (embedded) ledger, and `dexin ledger verify`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dexin.app import open_audit_log, open_ledger, open_vault, vault_config
from dexin.cli import app
from dexin.keys import key_provider
from dexin.settings import Settings
from governance.anchoring import anchor_pending, verify_contributions
from vault.ingest import ingest_file
from vault.registry import load_registry
from vault.store import Vault

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "vault"))
from vault_builders import PENALTY_HEADER, RESIDENT_HEADER, id_number, penalty, resident, write


def _env(settings: Settings) -> dict[str, str]:
    return {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex or "",
            "DEXIN_AS_OF": "2026-11-01"}  # fmt: skip


@pytest.fixture
def loaded(settings: Settings, tmp_path: Path) -> Settings:
    """A vault with two contributions, ingested and anchored through the CLI."""
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    root = tmp_path / "sub"
    for folder in ("public_security", "urban_management"):
        (root / folder).mkdir(parents=True)
    write(
        root / "public_security" / "residents.csv", RESIDENT_HEADER, [resident(i) for i in range(6)]
    )
    write(root / "urban_management" / "administrative_penalties.csv", PENALTY_HEADER,
          [penalty(f"P-00000{i}", id_number(i)) for i in range(4)])  # fmt: skip
    result = CliRunner().invoke(app, ["vault", "ingest", str(root), "--json"], env=_env(settings))
    assert result.exit_code == 0, result.stderr
    receipts = json.loads(result.stdout)
    assert all(r["anchor"] and r["anchor"].startswith("block") for r in receipts)
    return settings


def _verify(settings: Settings) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(app, ["ledger", "verify", "--json"], env=_env(settings))
    return result.exit_code, json.loads(result.stdout)


def test_an_ingest_refreshes_the_credit_model_features(loaded: Settings) -> None:
    with open_vault(loaded) as v:
        assert v.query("SELECT count(*) FROM derived.features") == [(6,)]
        assert v.query("SELECT sum(n_administrative_penalties) FROM derived.features") == [(4,)]


def test_every_ingested_root_is_anchored_and_verifies(loaded: Settings) -> None:
    result = CliRunner().invoke(app, ["ledger", "status", "--json"], env=_env(loaded))
    status = json.loads(result.stdout)
    assert status["backend"] == "embedded" and status["anchors"]["contribution"] == 2
    code, verdict = _verify(loaded)
    assert code == 0 and verdict["ok"] is True


def test_an_altered_row_is_detected_and_named(loaded: Settings) -> None:
    with open_vault(loaded) as v:
        v.con.execute("UPDATE p_public_security.residents SET town_code = 'T09' WHERE row_no = 4")
    code, verdict = _verify(loaded)
    assert code == 1 and verdict["ok"] is False
    bad = [c for c in verdict["contributions"] if not c["ok"]]  # type: ignore[attr-defined]
    assert [c["table"] for c in bad] == ["residents"]
    assert "1 altered row(s), first [4]" in bad[0]["problems"][0]


def test_a_deleted_row_is_detected_and_named(loaded: Settings) -> None:
    with open_vault(loaded) as v:
        v.con.execute("DELETE FROM p_urban_management.administrative_penalties WHERE row_no = 2")
    code, verdict = _verify(loaded)
    problems = [p for c in verdict["contributions"] for p in c["problems"]]  # type: ignore[attr-defined]
    assert code == 1 and "1 missing row(s), first [2]" in problems


def test_a_rewritten_root_no_longer_matches_its_anchor(loaded: Settings) -> None:
    with open_vault(loaded) as v:
        v.con.execute("UPDATE p_public_security.residents SET row_digest = "
                      "unhex(sha256('forged')) WHERE row_no = 0")  # fmt: skip
        v.con.execute("UPDATE p_public_security.contributions SET merkle_root = '00' || "
                      "substr(merkle_root, 3)")  # fmt: skip
    code, verdict = _verify(loaded)
    problems = " ".join(p for c in verdict["contributions"] for p in c["problems"])  # type: ignore[attr-defined]
    assert code == 1 and "anchor" in problems


def test_anchoring_is_idempotent_and_recovers_a_lost_record(
    loaded: Settings, tmp_path: Path
) -> None:
    with open_vault(loaded) as v, open_ledger(loaded) as ledger:
        assert anchor_pending(ledger, v) == 0
        v.con.execute("UPDATE p_public_security.contributions SET anchor = NULL")
        assert anchor_pending(ledger, v) == 1  # already on chain: verified, then recorded
        assert all(c["anchor"] for c in v.contributions())
        assert all(verdict.ok for verdict in verify_contributions(ledger, v))


def test_a_new_contribution_is_anchored_by_the_ledger_command(
    loaded: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path / "more.csv", RESIDENT_HEADER, [resident(20 + i) for i in range(3)])
    with open_vault(loaded) as v:
        ingest_file(v, "public_security", "residents", path)
    result = CliRunner().invoke(app, ["ledger", "anchor"], env=_env(loaded))
    assert result.exit_code == 0 and "anchored 1 contribution" in result.stdout


def test_audit_verify_checks_every_contribution_root_is_anchored(
    loaded: Settings, tmp_path: Path
) -> None:
    open_audit_log(loaded).close()  # an empty log: only the contributions are in question
    result = CliRunner().invoke(app, ["audit", "verify", "--json"], env=_env(loaded))
    assert result.exit_code == 0, result.output
    assert (
        "every contribution root is anchored (2 contributions)"
        in json.loads(result.stdout)["notes"]
    )
    path = write(tmp_path / "more.csv", RESIDENT_HEADER, [resident(30 + i) for i in range(2)])
    with open_vault(loaded) as v:
        ingest_file(v, "public_security", "residents", path)  # stored, never anchored
    result = CliRunner().invoke(app, ["audit", "verify", "--json"], env=_env(loaded))
    problem = json.loads(result.stdout)["problem"]
    assert result.exit_code == 1 and problem["check"] == "contribution-anchor"
    assert problem["detail"].startswith("public_security/residents ")


def test_audit_verify_checks_published_receipts_while_the_vault_is_held(
    loaded: Settings, tmp_path: Path
) -> None:
    open_audit_log(loaded).close()
    with open_vault(loaded) as held:  # as the gateway holds it
        result = CliRunner().invoke(app, ["audit", "verify", "--json"], env=_env(loaded))
        assert result.exit_code == 0, result.output
        notes = json.loads(result.stdout)["notes"]
        assert any(n.startswith("every published contribution root is anchored (2 accepted")
                   for n in notes)  # fmt: skip
        path = write(tmp_path / "more.csv", RESIDENT_HEADER, [resident(40 + i) for i in range(2)])
        ingest_file(held, "public_security", "residents", path)  # published, never anchored
        result = CliRunner().invoke(app, ["audit", "verify", "--json"], env=_env(loaded))
        problem = json.loads(result.stdout)["problem"]
        assert result.exit_code == 1 and problem["check"] == "contribution-anchor"
        assert problem["detail"].startswith("public_security/residents ")
