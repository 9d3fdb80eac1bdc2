"""One witnessing round over submitted cosignatures: aggregate, check, anchor, store.

Witnesses run elsewhere (their own state and key, ``audit.witness.Witness``) and submit
cosignatures into ``audit.pending.PendingCosignatures``. A round takes the newest
checkpoint whose submitted cosignatures, from witnesses in the ledger's set, reach the
ledger's threshold; aggregates them and checks the aggregate (a bad signature is found,
set aside, and the rest used if they still reach the threshold); anchors the checkpoint's
root with the bundle's digest; stores the bundle; and forgets pending cosignatures of that
checkpoint and older ones. Rounds are idempotent: the bundle is recorded before it is
anchored, so a round interrupted after anchoring anchors that same bundle on the next try
(``Anchorer.anchor_checkpoint`` is idempotent), even if more cosignatures arrived since.

The BLS work (``aggregate_valid``) is a plain function of picklable values so that the
application can run it in another process, away from request threads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from audit.anchor import Anchorer
from audit.backend import Checkpoints
from audit.checkpoint import Checkpoint
from audit.cosign import (
    Cosignature,
    CosignatureBundle,
    aggregate,
    verify_cosignature,
)
from audit.errors import CheckpointError, CosignatureError
from audit.pending import PendingCosignatures
from audit.witness import BundleStore

__all__ = ["Aggregator", "RoundResult", "aggregate_valid", "anchor_pending"]

Aggregator = Callable[
    [Checkpoint, Sequence[Cosignature]],
    tuple[CosignatureBundle | None, list[Cosignature]],
]
"""``(checkpoint, cosignatures) -> (bundle of the good ones or None, the bad ones)``."""


@dataclass(frozen=True)
class RoundResult:
    """What a round did: ``anchored`` (a bundle was anchored and stored) or ``waiting``
    (no checkpoint has enough good cosignatures yet)."""

    status: str
    size: int | None = None
    signers: tuple[str, ...] = ()
    reference: str | None = None
    rejected: tuple[str, ...] = ()


def aggregate_valid(
    checkpoint: Checkpoint, cosignatures: Sequence[Cosignature]
) -> tuple[CosignatureBundle | None, list[Cosignature]]:
    """Aggregate and check once; if that fails, or a witness's key signed more than once (one
    of them must be forged: the aggregate would take whichever came first and never look at
    the other), check each signature and aggregate the good ones. Returns the bundle (None if
    no signature is good) and the bad cosignatures."""
    keys = [c.witness.public_key for c in cosignatures]
    if len(set(keys)) == len(keys):
        try:
            return aggregate(checkpoint, cosignatures), []
        except CosignatureError:
            pass
    good, bad = [], []
    for cosignature in cosignatures:
        try:
            verify_cosignature(checkpoint, cosignature)
            good.append(cosignature)
        except CosignatureError:
            bad.append(cosignature)
    return (aggregate(checkpoint, good) if good else None), bad


def anchor_pending(
    checkpoints: Checkpoints,
    pending: PendingCosignatures,
    store: BundleStore,
    anchorer: Anchorer,
    aggregator: Aggregator = aggregate_valid,
) -> RoundResult:
    """Run one round (see the module's docstring). Raises AnchorError if anchoring fails
    and whatever the anchorer's ledger raises; pending cosignatures are then kept."""
    pending.discard_through(max(store.sizes(), default=0))
    policy = anchorer.witness_policy()
    threshold = max(policy.threshold, 1)
    rejected: list[str] = []
    for size in reversed(pending.sizes()):
        prepared = pending.prepared(size)
        if prepared is not None:  # an earlier round stopped after (perhaps) anchoring it
            return _anchor(prepared, anchorer, store, pending, ())
        trusted = [c for c in pending.load(size) if c.witness.public_key in policy.public_keys]
        if len({c.witness.public_key for c in trusted}) < threshold:
            continue
        try:
            checkpoint = checkpoints.load(size).checkpoint
        except CheckpointError:  # not a checkpoint this log issued
            pending.discard(size)
            continue
        bundle, bad = aggregator(checkpoint, trusted)
        for cosignature in bad:
            pending.reject(size, cosignature)
        rejected += [c.witness.name for c in bad]
        if bundle is not None and len(bundle.signers) >= threshold:
            return _anchor(bundle, anchorer, store, pending, tuple(rejected))
    return RoundResult("waiting", rejected=tuple(rejected))


def _anchor(
    bundle: CosignatureBundle,
    anchorer: Anchorer,
    store: BundleStore,
    pending: PendingCosignatures,
    rejected: tuple[str, ...],
) -> RoundResult:
    pending.prepare(bundle)
    reference = anchorer.anchor_checkpoint(bundle.size, bundle.root, bundle.digest())
    store.store(dataclasses.replace(bundle, anchor=reference))
    pending.discard_through(bundle.size)
    signers = tuple(s.name for s in bundle.signers)
    return RoundResult("anchored", bundle.size, signers, reference, rejected)
