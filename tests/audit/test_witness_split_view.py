"""Witnesses cosign extensions only; BLS cosignatures aggregate; quorum and bad signatures."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_builders import ORIGIN, entry, fill

from audit.anchor import InMemoryAnchorer
from audit.checkpoint import Checkpoint
from audit.cosign import WitnessPolicy, aggregate, verify_possession
from audit.errors import CosignatureError, QuorumError, SplitViewError, WitnessError
from audit.log import AuditLog
from audit.note import NoteSigner
from audit.witness import BundleStore, Witness, witness_round


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.fixture
def log(tmp_path: Path, signer: NoteSigner) -> AuditLog:
    opened = AuditLog.open(tmp_path / "audit", signer)
    yield opened  # type: ignore[misc]
    opened.close()


def test_a_witness_cosigns_an_extension(tmp_path: Path, signer: NoteSigner, log: AuditLog) -> None:
    witness = Witness.init(tmp_path / "w", "w1", signer.verifier())
    fill(log, 0, 10)
    first = log.checkpoint_now()
    assert first is not None
    witness.cosign(first, [])
    fill(log, 10, 25)
    second = log.checkpoint_now()
    assert second is not None
    witness.cosign(second, log.consistency_proof(10, 25))
    assert witness.last() == second


def test_a_witness_refuses_a_split_view(tmp_path: Path, signer: NoteSigner, log: AuditLog) -> None:
    witness = Witness.init(tmp_path / "w", "w1", signer.verifier())
    fill(log, 0, 10)
    honest = log.checkpoint_now()
    assert honest is not None
    witness.cosign(honest, [])
    # The operator shows another history of 12 entries, signed with the same key.
    with AuditLog.open(tmp_path / "fork", signer) as fork:
        for i in range(12):
            fork.append(entry(i, request_id=f"other-{i}"))
        forked = fork.checkpoint_now()
        proof = fork.consistency_proof(10, 12)
    assert forked is not None
    with pytest.raises(SplitViewError) as info:
        witness.cosign(forked, proof)
    assert (info.value.old_size, info.value.new_size) == (10, 12)
    assert witness.last() == honest


def test_a_witness_refuses_a_rollback_and_a_foreign_log(
    tmp_path: Path, signer: NoteSigner, log: AuditLog
) -> None:
    witness = Witness.init(tmp_path / "w", "w1", signer.verifier())
    fill(log, 0, 10)
    ten = log.checkpoint_now()
    assert ten is not None
    witness.cosign(ten, [])
    stale = Checkpoint(ORIGIN, 5, log.root(5)).sign(signer)
    with pytest.raises(SplitViewError):
        witness.cosign(stale, [])
    foreign = Checkpoint(ORIGIN, 11, log.root(10)).sign(NoteSigner.generate(ORIGIN))
    with pytest.raises(WitnessError):
        witness.cosign(foreign, [])


def test_a_round_aggregates_anchors_and_stores(
    tmp_path: Path, signer: NoteSigner, log: AuditLog
) -> None:
    witnesses = [Witness.init(tmp_path / n, n, signer.verifier()) for n in ("w1", "w2")]
    policy = WitnessPolicy(2, frozenset(w.public.public_key for w in witnesses))
    anchorer = InMemoryAnchorer(policy)
    fill(log, 0, 8)
    signed = log.checkpoint_now()
    assert signed is not None
    store = BundleStore(tmp_path / "bundles")
    bundle, refusals = witness_round(signed, witnesses, log.consistency_proof, anchorer, store)
    assert refusals == [] and bundle.anchor is not None
    assert store.load(8) == bundle
    bundle.verify(signed.checkpoint, policy)
    anchorer.verify_checkpoint_anchor(8, signed.checkpoint.root, bundle.digest())
    with pytest.raises(CosignatureError):
        bundle.verify(signed.checkpoint, WitnessPolicy(3, policy.public_keys))


def test_a_round_without_quorum_fails_with_the_refusals(
    tmp_path: Path, signer: NoteSigner, log: AuditLog
) -> None:
    stranger = Witness.init(tmp_path / "s", "s1", NoteSigner.generate(ORIGIN).verifier())
    fill(log, 0, 3)
    signed = log.checkpoint_now()
    assert signed is not None
    anchorer = InMemoryAnchorer(WitnessPolicy(1, frozenset({stranger.public.public_key})))
    with pytest.raises(QuorumError) as info:
        witness_round(
            signed, [stranger], log.consistency_proof, anchorer, BundleStore(tmp_path / "b")
        )
    assert len(info.value.refusals) == 1


def test_a_bad_cosignature_is_named(tmp_path: Path, signer: NoteSigner, log: AuditLog) -> None:
    w1, w2 = (Witness.init(tmp_path / n, n, signer.verifier()) for n in ("w1", "w2"))
    fill(log, 0, 4)
    four = log.checkpoint_now()
    assert four is not None
    fill(log, 4, 5)
    five = log.checkpoint_now()
    assert five is not None
    good = w1.cosign(four, [])
    other = w2.cosign(five, [])
    wrong = type(other)(other.witness, 4, other.signature)  # w2's signature on another tree
    with pytest.raises(CosignatureError) as info:
        aggregate(four.checkpoint, [good, wrong])
    assert "w2" in info.value.reason


def test_proof_of_possession(tmp_path: Path, signer: NoteSigner) -> None:
    w1, w2 = (Witness.init(tmp_path / n, n, signer.verifier()) for n in ("w1", "w2"))
    verify_possession(w1.public, w1.proof_of_possession())
    with pytest.raises(CosignatureError):
        verify_possession(w1.public, w2.proof_of_possession())
