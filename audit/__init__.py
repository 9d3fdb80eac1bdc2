"""The audit trail: RFC 6962 Merkle hashing and proofs (`audit.merkle`), the append-only log,
C2SP signed checkpoints, BLS witness cosignatures, export, and the auditor's verifier, which
needs no trust in the operator. Other packages import the names below from ``audit`` itself.

Names resolve lazily (PEP 562), so importing the package costs nothing until a name is
used: the CLI answers ``--help`` at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.anchor import InMemoryAnchorer as InMemoryAnchorer
    from audit.backend import Checkpoints as Checkpoints
    from audit.backend import MerkleLog as MerkleLog
    from audit.checkpoint import Checkpoint as Checkpoint
    from audit.checkpoint import CheckpointHistory as CheckpointHistory
    from audit.checkpoint import SignedCheckpoint as SignedCheckpoint
    from audit.cosign import Cosignature as Cosignature
    from audit.cosign import CosignatureBundle as CosignatureBundle
    from audit.cosign import WitnessPolicy as WitnessPolicy
    from audit.cosign import WitnessPublicKey as WitnessPublicKey
    from audit.cosign import verify_possession as verify_possession
    from audit.entry import AuditEntry as AuditEntry
    from audit.entry import Decision as Decision
    from audit.entry import decode_entry as decode_entry
    from audit.errors import AnchorError as AnchorError
    from audit.errors import AuditError as AuditError
    from audit.errors import CosignatureError as CosignatureError
    from audit.errors import LogError as LogError
    from audit.errors import LogUnavailableError as LogUnavailableError
    from audit.errors import NoteError as NoteError
    from audit.errors import VerificationError as VerificationError
    from audit.errors import WitnessError as WitnessError
    from audit.export import Snapshot as Snapshot
    from audit.export import export_log as export_log
    from audit.export import load_export as load_export
    from audit.export import snapshot_log as snapshot_log
    from audit.export import write_export as write_export
    from audit.files import write_atomic as write_atomic
    from audit.files import write_secret as write_secret
    from audit.log import AuditLog as AuditLog
    from audit.log import LogOptions as LogOptions
    from audit.merkle import consistency_proof as consistency_proof
    from audit.merkle import inclusion_proof as inclusion_proof
    from audit.merkle import leaf_hash as leaf_hash
    from audit.merkle import verify_inclusion as verify_inclusion
    from audit.note import NoteSigner as NoteSigner
    from audit.note import NoteVerifier as NoteVerifier
    from audit.pending import PendingCosignatures as PendingCosignatures
    from audit.pending import TooManySubmissions as TooManySubmissions
    from audit.pending import cosignature_document as cosignature_document
    from audit.pending import parse_cosignature as parse_cosignature
    from audit.pg_log import PgAuditLog as PgAuditLog
    from audit.pg_reader import PgLogReader as PgLogReader
    from audit.pg_reader import snapshot_pg as snapshot_pg
    from audit.pg_store import PgStore as PgStore
    from audit.pg_store import drop_closed_connections as drop_closed_connections
    from audit.pg_store import server_identity as server_identity
    from audit.policy import AccessPolicy as AccessPolicy
    from audit.policy import ApprovalRecord as ApprovalRecord
    from audit.policy import ConsentRecord as ConsentRecord
    from audit.policy import RecordedPolicy as RecordedPolicy
    from audit.reader import LogReader as LogReader
    from audit.verify import Trust as Trust
    from audit.verify import Verdict as Verdict
    from audit.verify import verify_snapshot as verify_snapshot
    from audit.witness import BundleStore as BundleStore
    from audit.witness import Witness as Witness
    from audit.witness import witness_round as witness_round
    from audit.witnessing import RoundResult as RoundResult
    from audit.witnessing import aggregate_valid as aggregate_valid
    from audit.witnessing import anchor_pending as anchor_pending

_WHERE = {
    "AccessPolicy": "audit.policy",
    "AnchorError": "audit.errors",
    "ApprovalRecord": "audit.policy",
    "AuditEntry": "audit.entry",
    "AuditError": "audit.errors",
    "AuditLog": "audit.log",
    "BundleStore": "audit.witness",
    "Checkpoint": "audit.checkpoint",
    "CheckpointHistory": "audit.checkpoint",
    "Checkpoints": "audit.backend",
    "ConsentRecord": "audit.policy",
    "Cosignature": "audit.cosign",
    "CosignatureBundle": "audit.cosign",
    "CosignatureError": "audit.errors",
    "Decision": "audit.entry",
    "InMemoryAnchorer": "audit.anchor",
    "LogError": "audit.errors",
    "LogOptions": "audit.log",
    "LogReader": "audit.reader",
    "LogUnavailableError": "audit.errors",
    "MerkleLog": "audit.backend",
    "NoteError": "audit.errors",
    "NoteSigner": "audit.note",
    "NoteVerifier": "audit.note",
    "PendingCosignatures": "audit.pending",
    "PgAuditLog": "audit.pg_log",
    "PgLogReader": "audit.pg_reader",
    "PgStore": "audit.pg_store",
    "drop_closed_connections": "audit.pg_store",
    "server_identity": "audit.pg_store",
    "RecordedPolicy": "audit.policy",
    "RoundResult": "audit.witnessing",
    "SignedCheckpoint": "audit.checkpoint",
    "Snapshot": "audit.export",
    "TooManySubmissions": "audit.pending",
    "Trust": "audit.verify",
    "Verdict": "audit.verify",
    "VerificationError": "audit.errors",
    "Witness": "audit.witness",
    "WitnessError": "audit.errors",
    "WitnessPolicy": "audit.cosign",
    "WitnessPublicKey": "audit.cosign",
    "aggregate_valid": "audit.witnessing",
    "anchor_pending": "audit.witnessing",
    "consistency_proof": "audit.merkle",
    "cosignature_document": "audit.pending",
    "decode_entry": "audit.entry",
    "export_log": "audit.export",
    "inclusion_proof": "audit.merkle",
    "leaf_hash": "audit.merkle",
    "load_export": "audit.export",
    "parse_cosignature": "audit.pending",
    "snapshot_log": "audit.export",
    "snapshot_pg": "audit.pg_reader",
    "verify_inclusion": "audit.merkle",
    "verify_possession": "audit.cosign",
    "verify_snapshot": "audit.verify",
    "witness_round": "audit.witness",
    "write_atomic": "audit.files",
    "write_export": "audit.export",
    "write_secret": "audit.files",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value
