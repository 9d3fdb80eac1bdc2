"""A witnessing round over submitted cosignatures: the newest checkpoint with a quorum of
good signatures from trusted witnesses is aggregated, anchored and stored; bad ones are set
aside; nothing is anchored below the threshold. Real BLS, a real log, an in-memory anchor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from audit_builders import ORIGIN, fill

from audit.anchor import InMemoryAnchorer
from audit.checkpoint import CheckpointHistory, SignedCheckpoint
from audit.cosign import Cosignature, WitnessPolicy
from audit.errors import CosignatureError
from audit.log import AuditLog, LogOptions
from audit.note import NoteSigner
from audit.pending import (
    MAX_PER_WITNESS,
    PendingCosignatures,
    TooManySubmissions,
    cosignature_document,
    parse_cosignature,
)
from audit.witness import BundleStore, Witness
from audit.witnessing import anchor_pending


@dataclass
class Signed:
    directory: Path
    witnesses: list[Witness]
    checkpoints: list[SignedCheckpoint]  # sizes 10 and 20
    cosignatures: dict[int, list[Cosignature]]  # by size: w1, w2, w3


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    """A log with checkpoints at 10 and 20; three witnesses cosigned both."""
    root = tmp_path_factory.mktemp("round")
    signer = NoteSigner.generate(ORIGIN)
    witnesses = [Witness.init(root / n, n, signer.verifier()) for n in ("w1", "w2", "w3")]
    world = Signed(root / "audit", witnesses, [], {})
    options = LogOptions(checkpoint_every=10**9, checkpoint_interval=3600)
    with AuditLog.open(root / "audit", signer, options) as log:
        for stop in (10, 20):
            fill(log, log.size, stop)
            checkpoint = log.checkpoint_now()
            assert checkpoint is not None
            proof = log.consistency_proof(10, stop) if stop > 10 else []
            world.checkpoints.append(checkpoint)
            world.cosignatures[stop] = [w.cosign(checkpoint, proof) for w in witnesses]
    return world


def _stores(tmp: Path) -> tuple[PendingCosignatures, BundleStore]:
    return PendingCosignatures(tmp / "pending"), BundleStore(tmp / "bundles")


def test_a_quorum_of_good_cosignatures_is_anchored(signed: Signed, tmp_path: Path) -> None:
    pending, store = _stores(tmp_path)
    policy = WitnessPolicy(2, frozenset(w.public.public_key for w in signed.witnesses[:2]))
    anchorer = InMemoryAnchorer(policy)
    for c in signed.cosignatures[10]:
        pending.submit(c)
    pending.submit(signed.cosignatures[20][0])
    history = CheckpointHistory(signed.directory / "checkpoints")
    result = anchor_pending(history, pending, store, anchorer)
    # size 20 has one cosignature: below the threshold; size 10 has three, w3 is not trusted
    assert (result.status, result.size, sorted(result.signers)) == ("anchored", 10, ["w1", "w2"])
    bundle = store.load(10)
    bundle.verify(signed.checkpoints[0].checkpoint, policy)
    assert anchorer.verify_checkpoint_anchor(10, bundle.root, bundle.digest()) == bundle.anchor
    assert pending.sizes() == [20]
    assert anchor_pending(history, pending, store, anchorer).status == "waiting"


def test_a_bad_signature_is_set_aside_and_the_rest_used(signed: Signed, tmp_path: Path) -> None:
    pending, store = _stores(tmp_path)
    policy = WitnessPolicy(2, frozenset(w.public.public_key for w in signed.witnesses))
    w1, _, w3 = signed.cosignatures[20]
    wrong = signed.cosignatures[10][1]  # w2's signature on another checkpoint
    for c in (w1, Cosignature(wrong.witness, 20, wrong.signature), w3):
        pending.submit(c)
    history = CheckpointHistory(signed.directory / "checkpoints")
    result = anchor_pending(history, pending, store, InMemoryAnchorer(policy))
    assert (result.status, result.size, sorted(result.signers), result.rejected) == (
        "anchored", 20, ["w1", "w3"], ("w2",),
    )  # fmt: skip
    store.load(20).verify(signed.checkpoints[1].checkpoint, policy)


def test_below_the_threshold_nothing_is_anchored(signed: Signed, tmp_path: Path) -> None:
    pending, store = _stores(tmp_path)
    policy = WitnessPolicy(3, frozenset(w.public.public_key for w in signed.witnesses))
    wrong = signed.cosignatures[10][2]
    for c in (*signed.cosignatures[20][:2], Cosignature(wrong.witness, 20, wrong.signature)):
        pending.submit(c)
    anchorer = InMemoryAnchorer(policy)
    history = CheckpointHistory(signed.directory / "checkpoints")
    result = anchor_pending(history, pending, store, anchorer)
    assert (result.status, result.rejected) == ("waiting", ("w3",))
    assert anchorer.anchors == {} and store.sizes() == []
    assert len(pending.load(20)) == 2  # the good ones wait for a third


def test_submissions_are_parsed_strictly() -> None:
    with pytest.raises(CosignatureError):
        parse_cosignature({"witness": "x+00+AAAA", "size": 1, "signature": "AA=="})
    with pytest.raises(CosignatureError):
        parse_cosignature([1, 2])


def test_the_document_round_trips(signed: Signed) -> None:
    c = signed.cosignatures[10][0]
    doc = json.loads(json.dumps(cosignature_document(c)))
    assert parse_cosignature(doc) == c
    with pytest.raises(CosignatureError):
        parse_cosignature({**doc, "size": 0})
    with pytest.raises(CosignatureError):
        parse_cosignature({**doc, "signature": doc["signature"][:-8] + "A" * 8 + "AAAA"})


def test_errors_cross_process_boundaries_with_their_fields() -> None:
    import pickle

    from audit.errors import SplitViewError

    error = SplitViewError(10, bytes(32), 9, bytes(32))
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is SplitViewError and again.__dict__ == error.__dict__
    assert str(again) == str(error)


class _StopsAfterAnchoring(InMemoryAnchorer):
    """Anchors, then fails as a crash between anchoring and storing the bundle would."""

    def anchor_checkpoint(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        super().anchor_checkpoint(size, root, aggregate_digest)
        raise OSError("stopped after anchoring")


def test_a_round_interrupted_after_anchoring_completes_with_the_same_bundle(
    signed: Signed, tmp_path: Path
) -> None:
    pending, store = _stores(tmp_path)
    policy = WitnessPolicy(2, frozenset(w.public.public_key for w in signed.witnesses))
    history = CheckpointHistory(signed.directory / "checkpoints")
    first = _StopsAfterAnchoring(policy)
    for c in signed.cosignatures[20][:2]:
        pending.submit(c)
    with pytest.raises(OSError):
        anchor_pending(history, pending, store, first)
    assert store.sizes() == [] and len(first.anchors) == 1
    pending.submit(signed.cosignatures[20][2])  # a third arrives meanwhile
    ledger = InMemoryAnchorer(policy, anchors=dict(first.anchors))  # the anchor is on chain
    result = anchor_pending(history, pending, store, ledger)
    assert (result.status, sorted(result.signers)) == ("anchored", ["w1", "w2"])
    bundle = store.load(20)
    assert ledger.verify_checkpoint_anchor(20, bundle.root, bundle.digest()) == bundle.anchor
    assert pending.sizes() == []


def test_a_forged_submission_never_displaces_the_genuine_one(
    signed: Signed, tmp_path: Path
) -> None:
    """Whoever may post could submit a bad signature under a witness's key, before or after
    the witness does: both are kept, the round sets the bad one aside and uses the good."""
    pending, store = _stores(tmp_path)
    policy = WitnessPolicy(3, frozenset(w.public.public_key for w in signed.witnesses))
    w1, w2, w3 = signed.cosignatures[20]
    other = signed.cosignatures[10][1].signature  # w2's signature on another checkpoint
    pending.submit(Cosignature(w2.witness, 20, other))  # forged first
    for c in (w1, w2, w3):
        pending.submit(c)
    pending.submit(Cosignature(w3.witness, 20, other))  # and after
    pending.submit(w2)  # a witness resubmitting is the same file, not another slot
    assert len(pending.load(20)) == 5
    history = CheckpointHistory(signed.directory / "checkpoints")
    result = anchor_pending(history, pending, store, InMemoryAnchorer(policy))
    assert (result.status, sorted(result.signers), sorted(result.rejected)) == (
        "anchored", ["w1", "w2", "w3"], ["w2", "w3"],
    )  # fmt: skip
    store.load(20).verify(signed.checkpoints[1].checkpoint, policy)


def test_pending_submissions_per_witness_are_bounded(signed: Signed, tmp_path: Path) -> None:
    pending, _ = _stores(tmp_path)
    w1 = signed.cosignatures[20][0]
    for i in range(MAX_PER_WITNESS):
        pending.submit(Cosignature(w1.witness, 20, bytes([i]) * 96))
    with pytest.raises(TooManySubmissions):
        pending.submit(w1)
    assert len(pending.load(20)) == MAX_PER_WITNESS
