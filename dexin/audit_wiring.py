"""The application side of the audit trail: paths, keys, and the ledger behind ``Anchorer``.

Where things live (decided here, not in ``audit``)::

    $DEXIN_HOME/audit/                 the log directory (audit.log)
    $DEXIN_HOME/audit/log.key          the log's Ed25519 signing key (0600)
    $DEXIN_HOME/witnesses/<name>/      a witness's state and BLS key (audit.witness)

The gateway account (``Role.GATEWAY``, label ``gateway``) signs audit-log anchors.
"""

from __future__ import annotations

from pathlib import Path

from audit.cosign import WitnessPolicy, WitnessPublicKey, verify_possession
from audit.errors import AnchorError
from audit.log import AuditLog, LogOptions
from audit.note import NoteSigner
from dexin.settings import Settings
from ledger import AlreadyAnchoredError, AnchorKind, Ledger, LedgerError, Role

__all__ = [
    "DEFAULT_ORIGIN",
    "GATEWAY_LABEL",
    "LedgerAnchorer",
    "audit_dir",
    "load_or_create_log_key",
    "open_audit_log",
    "register_witness",
    "witness_dir",
]

DEFAULT_ORIGIN = "dexin.local/audit"
GATEWAY_LABEL = "gateway"


def audit_dir(settings: Settings) -> Path:
    return settings.home / "audit"


def witness_dir(settings: Settings, name: str) -> Path:
    return settings.home / "witnesses" / name


def load_or_create_log_key(settings: Settings, origin: str = DEFAULT_ORIGIN) -> NoteSigner:
    """The log's signing key from ``$DEXIN_HOME/audit/log.key``, created (0600) if absent."""
    path = audit_dir(settings) / "log.key"
    if not path.exists():
        NoteSigner.generate(origin).save(path)
    return NoteSigner.load(path)


def open_audit_log(settings: Settings, options: LogOptions | None = None) -> AuditLog:
    """Open this data directory's audit log for writing (one writer process)."""
    return AuditLog.open(audit_dir(settings), load_or_create_log_key(settings), options)


class LedgerAnchorer:
    """``audit.anchor.Anchorer`` over the ledger: ``AnchorKind.AUDIT_LOG`` anchors signed by
    the gateway account; the witness policy is the ledger's witness set."""

    def __init__(self, ledger: Ledger, signer: str = GATEWAY_LABEL) -> None:
        self._ledger = ledger
        self._signer = signer

    def anchor_checkpoint(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        """Anchor (idempotent); raises AnchorError if the root is anchored differently."""
        self._ledger.ensure_account(self._signer, Role.GATEWAY)
        try:
            done = self._ledger.anchor(
                AnchorKind.AUDIT_LOG, root, size, aggregate_digest, signer=self._signer
            )
            return f"block {done.block_number} tx {done.tx_hash}"
        except AlreadyAnchoredError:  # an earlier run anchored it and stopped before recording
            return self.verify_checkpoint_anchor(size, root, aggregate_digest)

    def verify_checkpoint_anchor(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        try:
            anchor = self._ledger.verify_anchor(
                root, kind=AnchorKind.AUDIT_LOG, size=size, metadata_digest=aggregate_digest
            )
        except LedgerError as exc:
            raise AnchorError(size, f"{type(exc).__name__}: {exc} {exc.details}") from None
        return f"block {anchor.block_number}"

    def witness_policy(self) -> WitnessPolicy:
        witnesses = self._ledger.witness_set()
        return WitnessPolicy(witnesses.threshold, frozenset(witnesses.public_keys))


def register_witness(ledger: Ledger, key: WitnessPublicKey, proof_of_possession: bytes) -> None:
    """Add a witness key to the ledger's set after checking its proof of possession (the BLS
    POP scheme is unsafe against rogue keys without it). Raises CosignatureError."""
    verify_possession(key, proof_of_possession)
    ledger.add_witness(key.public_key)
