"""The seam to the ledger: anchoring checkpoints and reading the trusted witness set.

``audit`` never imports the ledger. The application implements ``Anchorer`` over its ledger
(``dexin.audit_wiring.LedgerAnchorer``); ``InMemoryAnchorer`` is a real in-process
implementation for tests and demos — it proves nothing to a third party.

An anchor binds ``(root, size, aggregate_digest)``: the checkpoint's root and size and the
SHA-256 digest of the witnesses' cosignature bundle (``CosignatureBundle.digest``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from audit.cosign import WitnessPolicy
from audit.errors import AnchorError

__all__ = ["Anchorer", "InMemoryAnchorer"]


class Anchorer(Protocol):
    """Where checkpoints are anchored, and who may cosign them."""

    def anchor_checkpoint(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        """Anchor once (idempotent: anchoring the same values again returns the reference);
        return a human-readable reference (block, transaction)."""
        ...

    def verify_checkpoint_anchor(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        """Return the anchor's reference, or raise ``AnchorError`` if ``root`` is not
        anchored or was anchored with another size or digest."""
        ...

    def witness_policy(self) -> WitnessPolicy:
        """The witness keys and threshold the ledger holds now."""
        ...

    def witness_policy_at_anchor(self, root: bytes) -> WitnessPolicy | None:
        """The witness keys and threshold in force when ``root`` was anchored (a bundle is
        checked against the set its witnesses were asked under, not today's: raising the
        threshold or removing a witness later must not fail old checkpoints); None when that
        is unknown (``root`` not anchored, or the node no longer serves the history)."""
        ...


@dataclass
class InMemoryAnchorer:
    """Anchors in a dict: for tests and single-process demos only (no third-party trust)."""

    policy: WitnessPolicy = field(default_factory=lambda: WitnessPolicy(1, frozenset()))
    anchors: dict[bytes, tuple[int, bytes]] = field(default_factory=dict)

    def anchor_checkpoint(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        if root in self.anchors and self.anchors[root] != (size, aggregate_digest):
            raise AnchorError(size, "root already anchored with other values")
        self.anchors[root] = (size, aggregate_digest)
        return f"memory #{list(self.anchors).index(root)}"

    def verify_checkpoint_anchor(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        if root not in self.anchors:
            raise AnchorError(size, "root not anchored")
        anchored_size, digest = self.anchors[root]
        if anchored_size != size:
            raise AnchorError(size, f"anchored with size {anchored_size}")
        if digest != aggregate_digest:
            raise AnchorError(size, "anchored with another cosignature digest")
        return f"memory #{list(self.anchors).index(root)}"

    def witness_policy(self) -> WitnessPolicy:
        return self.policy

    def witness_policy_at_anchor(self, root: bytes) -> WitnessPolicy | None:
        return self.policy if root in self.anchors else None
