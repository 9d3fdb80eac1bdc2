"""Anchors on a real (embedded) ledger, and the ``dexin audit`` commands end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_builders import witnessed_data_directory
from typer.testing import CliRunner

from audit.checkpoint import SignedCheckpoint
from audit.cosign import WitnessPolicy
from audit.errors import AnchorError, VerificationError
from audit.export import load_export, snapshot_log
from audit.reader import LogReader
from audit.verify import Trust, verify_snapshot
from audit.witness import BundleStore, Witness, witness_round
from dexin import audit_cli
from dexin.app import load_or_create_log_key, open_audit_log, open_ledger, witness_dir
from dexin.settings import Settings
from governance.anchoring import LedgerAnchorer, register_witness

runner = CliRunner()


@pytest.fixture
def home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A data directory with a keyring (the ledger's secret), a log of 30 entries anchored at
    size 30 by two witnesses registered on the ledger (threshold 2)."""
    for name, value in {"DEXIN_HOME": settings.home, "DEXIN_MASTER_KEY": settings.master_key_hex,
                        "DEXIN_AS_OF": "2026-11-01"}.items():  # fmt: skip
        monkeypatch.setenv(name, str(value))
    witnessed_data_directory(settings, 30, more=5)
    return settings


def test_anchors_verify_against_the_ledger(home: Settings) -> None:
    with open_ledger(home) as ledger, LogReader(home.audit_dir) as reader:
        anchorer = LedgerAnchorer(ledger)
        snap = snapshot_log(reader)
        verdict = verify_snapshot(
            snap, Trust(log_key=load_or_create_log_key(home).verifier()), anchorer=anchorer
        )
        assert verdict.entries == 35 and list(verdict.anchored) == [30]
        assert verdict.anchored[30].startswith("block ")
        bundle = BundleStore(home.audit_dir / "cosignatures").load(30)
        with pytest.raises(AnchorError):
            anchorer.verify_checkpoint_anchor(30, bundle.root, b"\x00" * 32)
        with pytest.raises(AnchorError):
            anchorer.verify_checkpoint_anchor(31, bundle.root, bundle.digest())
        assert anchorer.anchor_checkpoint(30, bundle.root, bundle.digest()).startswith("block")


def test_a_bundle_not_anchored_on_the_ledger_fails_verify(home: Settings, tmp_path: Path) -> None:
    with LogReader(home.audit_dir) as reader:
        from audit.export import export_log

        export_log(reader, tmp_path / "export")
    bundle = tmp_path / "export" / "cosignatures" / f"{30:020d}.json"
    doc = json.loads(bundle.read_bytes())
    doc["signers"].reverse()  # same signers, another digest: the ledger never saw it
    bundle.write_text(json.dumps(doc))
    with open_ledger(home) as ledger, pytest.raises(VerificationError) as info:
        verify_snapshot(load_export(tmp_path / "export"), Trust(), anchorer=LedgerAnchorer(ledger))
    assert (info.value.check, info.value.checkpoint) == ("anchor", 30)


def test_the_cli_exports_verifies_proves_and_witnesses(home: Settings, tmp_path: Path) -> None:
    export = tmp_path / "export"
    assert runner.invoke(audit_cli.app, ["export", "--out", str(export)]).exit_code == 0
    result = runner.invoke(audit_cli.app, ["verify", "--export", str(export), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["anchored"] == {
        "30": json.loads(result.stdout)["anchored"]["30"]
    }
    assert runner.invoke(audit_cli.app, ["verify"]).exit_code == 0
    lines = (export / "entries.jsonl").read_bytes().splitlines(keepends=True)
    (export / "entries.jsonl").write_bytes(b"".join(lines[:7] + lines[8:]))
    result = runner.invoke(audit_cli.app, ["verify", "--export", str(export), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problem"]["entry"] == 7

    proof = runner.invoke(audit_cli.app, ["prove", "--index", "12"])
    assert proof.exit_code == 0, proof.output
    (tmp_path / "proof.json").write_text(proof.stdout)
    vkey = (home.audit_dir / "log.vkey").read_text().strip()
    checked = runner.invoke(
        audit_cli.app, ["check-proof", str(tmp_path / "proof.json"), "--log-key", vkey]
    )
    assert checked.exit_code == 0, checked.output
    doc = json.loads(proof.stdout)
    doc["entry"] = doc["entry"].replace("req-12", "req-13")
    (tmp_path / "proof.json").write_text(json.dumps(doc))
    assert (
        runner.invoke(audit_cli.app, ["check-proof", str(tmp_path / "proof.json")]).exit_code == 1
    )

    latest = home.audit_dir / "checkpoints" / f"{35:020d}.note"
    state = ["witness", "--state", str(witness_dir(home, "w1")), "--checkpoint"]
    cosigned = runner.invoke(audit_cli.app, [*state, str(latest), "--submit"])
    assert cosigned.exit_code == 0, cosigned.output
    older = home.audit_dir / "checkpoints" / f"{30:020d}.note"
    refused = runner.invoke(audit_cli.app, [*state, str(older)])
    assert refused.exit_code == 1 and "split view" in refused.output


def test_the_cli_collects_cosignatures_and_anchors(home: Settings) -> None:
    latest = str(home.audit_dir / "checkpoints" / f"{35:020d}.note")
    for name in ("w1", "w2"):
        args = [
            "witness",
            "--state",
            str(witness_dir(home, name)),
            "--checkpoint",
            latest,
            "--submit",
        ]
        assert runner.invoke(audit_cli.app, args).exit_code == 0
    anchored = runner.invoke(audit_cli.app, ["anchor"])
    assert anchored.exit_code == 0, anchored.output
    result = runner.invoke(audit_cli.app, ["verify", "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["anchored"]) == ["30", "35"]


def _raise_threshold(home: Settings) -> None:
    """Two more witnesses on the ledger and the threshold raised to 3, after checkpoint 30 was
    anchored with the two cosignatures the threshold of its day (2) asked for; then w1, one of
    its signers, leaves the set."""
    log_key = load_or_create_log_key(home).verifier()
    with open_ledger(home) as ledger:
        for name in ("w3", "w4"):
            w = Witness.init(witness_dir(home, name), name, log_key)
            register_witness(ledger, w.public, w.proof_of_possession())
        ledger.set_witness_threshold(3)
        ledger.remove_witness(Witness(witness_dir(home, "w1")).public.public_key)
        assert ledger.witness_set().threshold == 3 and len(ledger.witness_set().public_keys) == 3


def test_a_bundle_is_checked_against_the_witness_set_of_its_anchor(home: Settings) -> None:
    """Raising the threshold or removing a witness later does not fail the checkpoints anchored
    before: each bundle is checked against the set in force when it was anchored (replayed
    from the ledger's witness events), not today's."""
    _raise_threshold(home)
    result = runner.invoke(audit_cli.app, ["verify", "--json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert sorted(verdict["anchored"]) == ["30"]
    assert not any("today's witness set" in n for n in verdict.get("notes", []))


class _LaxAnchorer(LedgerAnchorer):
    """An operator anchoring a bundle below the threshold in force (the round's own check
    skipped): the ledger records whatever digest the gateway account sends."""

    def witness_policy(self) -> WitnessPolicy:
        return WitnessPolicy(2, super().witness_policy().public_keys)


def test_a_bundle_below_the_threshold_of_its_day_fails_verify(home: Settings) -> None:
    _raise_threshold(home)
    signed = SignedCheckpoint.parse(
        (home.audit_dir / "checkpoints" / f"{35:020d}.note").read_bytes()
    )
    witnesses = [Witness(witness_dir(home, n)) for n in ("w2", "w3")]  # 2 where 3 are asked
    with open_ledger(home) as ledger, open_audit_log(home) as log:
        lax = _LaxAnchorer(ledger)
        witness_round(signed, witnesses, log.consistency_proof, lax,
                      BundleStore(home.audit_dir / "cosignatures"))  # fmt: skip
    result = runner.invoke(audit_cli.app, ["verify", "--json"])
    assert result.exit_code == 1, result.output
    problem = json.loads(result.stdout)["problem"]
    assert (problem["check"], problem["checkpoint"]) == ("cosignature", 35), problem
