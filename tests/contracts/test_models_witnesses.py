"""Model releases and the witness set."""

from __future__ import annotations

import os

import pytest

from ledger import AlreadyAnchoredError, AnchorKind, ContractRevertError, MissingRoleError
from ledger.client import Web3Ledger


def test_release_model_records_and_anchors_the_spec(ledger: Web3Ledger) -> None:
    spec = os.urandom(32)
    receipt = ledger.release_model("wuweitu", 1, spec, officer="alice")
    release = ledger.get_model_release("wuweitu", 1)
    assert (release.spec_hash, release.officer) == (spec, ledger.identity("alice").address)
    assert release.time == receipt.block_time
    assert ledger.latest_model_version("wuweitu") == 1
    assert ledger.get_anchor(spec).kind == AnchorKind.MODEL_RELEASE
    assert ledger.status().anchors["model_release"] == 1


def test_versions_strictly_increase_and_specs_are_released_once(ledger: Web3Ledger) -> None:
    spec = os.urandom(32)
    ledger.release_model("wuweitu", 2, spec, officer="alice")
    with pytest.raises(ContractRevertError) as caught:
        ledger.release_model("wuweitu", 2, os.urandom(32), officer="bob")
    assert caught.value.error == "VersionNotIncreasing"
    with pytest.raises(AlreadyAnchoredError):
        ledger.release_model("wuweitu", 3, spec, officer="bob")


def test_only_officers_release_models(ledger: Web3Ledger) -> None:
    for label in ("provider", "gateway", "admin"):
        with pytest.raises(MissingRoleError):
            ledger.release_model("wuweitu", 1, os.urandom(32), officer=label)
    with pytest.raises(ContractRevertError) as caught:
        ledger.get_model_release("wuweitu", 1)
    assert caught.value.error == "UnknownRelease"


def test_witness_set_changes_bump_the_epoch(ledger: Web3Ledger) -> None:
    keys = [os.urandom(48) for _ in range(3)]
    for key in keys:
        ledger.add_witness(key)
    ledger.set_witness_threshold(2)
    ledger.remove_witness(keys[0])
    witnesses = ledger.witness_set()
    assert set(witnesses.public_keys) == set(keys[1:])
    assert (witnesses.epoch, witnesses.threshold) == (5, 2)


def test_witness_rules(ledger: Web3Ledger) -> None:
    key = os.urandom(48)
    ledger.add_witness(key)
    cases = [
        (lambda: ledger.add_witness(key), "WitnessExists"),
        (lambda: ledger.add_witness(os.urandom(47)), "InvalidWitnessKey"),
        (lambda: ledger.set_witness_threshold(2), "InvalidWitnessThreshold"),
        (lambda: ledger.remove_witness(os.urandom(48)), "UnknownWitness"),
    ]
    for action, error in cases:
        with pytest.raises(ContractRevertError) as caught:
            action()
        assert caught.value.error == error
    ledger.set_witness_threshold(1)
    with pytest.raises(ContractRevertError) as below:
        ledger.remove_witness(key)
    assert below.value.error == "InvalidWitnessThreshold"


def test_only_the_admin_manages_witnesses(ledger: Web3Ledger) -> None:
    with pytest.raises(MissingRoleError) as caught:
        ledger._transact("auditor", "addWitness", os.urandom(48))
    assert caught.value.required == "ADMIN"


def test_events_since_a_block_are_decoded(ledger: Web3Ledger) -> None:
    start = ledger.status().height + 1
    root = os.urandom(32)
    ledger.anchor(AnchorKind.CONTRIBUTION, root, 3, os.urandom(32))
    ledger.add_witness(os.urandom(48))
    events = ledger.events(start)
    assert [e.name for e in events] == ["Anchored", "WitnessAdded"]
    assert events[0].args["root"] == root
    assert events[0].args["size"] == 3
    assert [e.name for e in ledger.events(0)][:2] == ["RoleGranted", "RoleGranted"]
