"""Witnesses: keep the last checkpoint cosigned, cosign only extensions of it.

A witness's state directory (the application decides where, e.g.
``$DEXIN_HOME/witnesses/<name>``) holds::

    witness.json   {"name", "log_key"}: its name and the log's pinned verifier key
    witness.key    its BLS secret key (mode 0600)
    last.note      the last checkpoint it cosigned (written before the cosignature leaves)
    .lock          held while cosigning, so two processes cannot cosign two branches

``Witness.cosign`` checks, in order: the log's signature (pinned key), the origin, then
that the checkpoint extends ``last.note``: a smaller size, another root at the same size,
or a consistency proof (RFC 9162 §2.1.4.2) that does not verify is refused with
``SplitViewError``. This module also stores cosignature bundles and runs a witnessing round
(collect, aggregate, anchor), which the application schedules off the request path.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from audit.anchor import Anchorer
from audit.checkpoint import SignedCheckpoint
from audit.cosign import Cosignature, CosignatureBundle, WitnessKey, WitnessPublicKey, aggregate
from audit.errors import (
    CheckpointError,
    NoteError,
    ProofError,
    QuorumError,
    SplitViewError,
    WitnessError,
)
from audit.files import write_atomic
from audit.merkle import verify_consistency
from audit.note import NoteVerifier

__all__ = ["BundleStore", "ProofSource", "Witness", "witness_round"]

ProofSource = Callable[[int, int], list[bytes]]
"""``(old_size, new_size) -> consistency proof``, e.g. ``AuditLog.consistency_proof``."""


class Witness:
    """One witness over one log, with its own state directory and key."""

    def __init__(self, state: Path) -> None:
        config = json.loads((state / "witness.json").read_text())
        self.state = state
        self.name: str = config["name"]
        self.log_key = NoteVerifier.from_vkey(config["log_key"])
        self._key = WitnessKey.load(state / "witness.key")

    @classmethod
    def init(cls, state: Path, name: str, log_key: NoteVerifier) -> Witness:
        """Create a witness's state and key; raises WitnessError if it exists already."""
        if (state / "witness.json").exists():
            raise WitnessError(f"a witness already lives in {state}")
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        WitnessKey.generate(name).save(state / "witness.key")
        config = {"name": name, "log_key": log_key.vkey()}
        write_atomic(state / "witness.json", json.dumps(config, indent=2).encode(), mode=0o644)
        return cls(state)

    @property
    def public(self) -> WitnessPublicKey:
        return self._key.public

    def proof_of_possession(self) -> bytes:
        return self._key.proof_of_possession()

    def last(self) -> SignedCheckpoint | None:
        """The last checkpoint this witness cosigned, if any."""
        path = self.state / "last.note"
        return SignedCheckpoint.parse(path.read_bytes()) if path.exists() else None

    def cosign(self, signed: SignedCheckpoint, proof: Sequence[bytes]) -> Cosignature:
        """Cosign ``signed`` if it extends the last checkpoint cosigned; else raise.

        ``proof`` is the consistency proof from the last cosigned size to ``signed``'s.
        Raises WitnessError (bad log signature or origin), SplitViewError (not an
        extension). State is saved before the cosignature returns.
        """
        try:
            signed.verify(self.log_key)
        except (NoteError, CheckpointError) as exc:
            raise WitnessError(f"checkpoint not signed by the pinned log key: {exc}") from exc
        with _locked(self.state):
            self._check_extends(signed, proof)
            cosignature = self._key.sign(signed.checkpoint)
            write_atomic(self.state / "last.note", signed.render().encode(), mode=0o644)
        return cosignature

    def _check_extends(self, signed: SignedCheckpoint, proof: Sequence[bytes]) -> None:
        last = self.last()
        if last is None:
            return
        old, new = last.checkpoint, signed.checkpoint
        if new.size < old.size:
            raise SplitViewError(old.size, old.root, new.size, new.root)
        try:
            verify_consistency(old.size, new.size, proof, old.root, new.root)
        except ProofError:
            raise SplitViewError(old.size, old.root, new.size, new.root) from None


class BundleStore:
    """``cosignatures/<size:020d>.json``: one aggregate cosignature bundle per checkpoint."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def sizes(self) -> list[int]:
        if not self.directory.exists():
            return []
        names = (p.name for p in self.directory.iterdir())
        return sorted(int(n[:20]) for n in names if len(n) == 25 and n.endswith(".json"))

    def load(self, size: int) -> CosignatureBundle:
        return CosignatureBundle.from_json((self.directory / f"{size:020d}.json").read_bytes())

    def store(self, bundle: CosignatureBundle) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomic(self.directory / f"{bundle.size:020d}.json", bundle.to_json(), mode=0o644)


def witness_round(
    signed: SignedCheckpoint,
    witnesses: Sequence[Witness],
    proofs: ProofSource,
    anchorer: Anchorer,
    store: BundleStore,
) -> tuple[CosignatureBundle, list[WitnessError]]:
    """Ask every witness to cosign, aggregate, anchor, store; return the bundle and refusals.

    Raises QuorumError if fewer witnesses than the anchorer's threshold (at least one)
    cosign, CosignatureError if a cosignature is bad, AnchorError if anchoring fails.
    """
    cosignatures, refusals = _collect(signed, witnesses, proofs)
    threshold = max(anchorer.witness_policy().threshold, 1)
    if len(cosignatures) < threshold:
        raise QuorumError(signed.checkpoint.size, len(cosignatures), threshold, refusals)
    bundle = aggregate(signed.checkpoint, cosignatures)
    cp = signed.checkpoint
    reference = anchorer.anchor_checkpoint(cp.size, cp.root, bundle.digest())
    anchored = CosignatureBundle(
        cp.origin, cp.size, cp.root, bundle.signers, bundle.aggregate, reference
    )
    store.store(anchored)
    return anchored, refusals


def _collect(
    signed: SignedCheckpoint, witnesses: Sequence[Witness], proofs: ProofSource
) -> tuple[list[Cosignature], list[WitnessError]]:
    cosignatures, refusals = [], []
    for witness in witnesses:
        last = witness.last()
        old = 0 if last is None else min(last.checkpoint.size, signed.checkpoint.size)
        try:
            cosignatures.append(witness.cosign(signed, proofs(old, signed.checkpoint.size)))
        except WitnessError as exc:
            refusals.append(exc)
    return cosignatures, refusals


class _locked:
    """Hold ``state/.lock`` exclusively (blocking) for the duration of a ``with`` block."""

    def __init__(self, state: Path) -> None:
        self._path = state / ".lock"
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)
