"""What the application uses of an audit log, whichever backend keeps it.

Two backends implement `MerkleLog`: the file log (`audit.log.AuditLog`, one writer process,
the default) and the PostgreSQL log (`audit.pg_log.PgAuditLog`, any number of writer
processes). Both assign each entry its index, make it durable before acknowledging it, and
give the same RFC 9162 roots, proofs and C2SP checkpoints for the same entries.

``submit`` hands back a backend-specific pending value (the log is generic in it); the
caller waits on its ``batch`` (`audit.log.Batch`) and passes it back to ``receipt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from audit.checkpoint import SignedCheckpoint
from audit.entry import AuditEntry
from audit.log import AppendReceipt, Batch

__all__ = ["Checkpoints", "EntryReader", "MerkleLog", "Pending"]


class Pending(Protocol):
    """A submitted entry: durable (or failed) once ``batch`` is set."""

    @property
    def batch(self) -> Batch: ...


PendingT = TypeVar("PendingT", bound=Pending)


class Checkpoints(Protocol):
    """Every checkpoint a log issued, one per size (`audit.checkpoint.CheckpointHistory`)."""

    def sizes(self) -> list[int]:
        """Sizes of the issued checkpoints, ascending."""
        ...

    def load(self, size: int) -> SignedCheckpoint:
        """The checkpoint of ``size``; raises CheckpointError if there is none."""
        ...

    def latest(self) -> SignedCheckpoint | None: ...


class EntryReader(Protocol):
    """A read of the log's entries beside its writers (`audit.reader.LogReader`)."""

    def entries(self, limit: int | None = None) -> Iterator[bytes]: ...

    def __enter__(self) -> EntryReader: ...

    def __exit__(self, *exc: object) -> None: ...


class MerkleLog(Protocol[PendingT]):
    """An append-only RFC 9162 log of audit entries with signed checkpoints.

    ``directory`` holds this process's local files beside the log: ``log.vkey`` and the
    witnesses' cosignatures (``cosignatures/``).
    """

    @property
    def directory(self) -> Path: ...

    @property
    def origin(self) -> str: ...

    @property
    def size(self) -> int:
        """Number of durable entries."""
        ...

    def append(self, entry: AuditEntry) -> AppendReceipt: ...

    def submit(self, entry: AuditEntry) -> PendingT: ...

    def receipt(self, pending: PendingT) -> AppendReceipt: ...

    def entry(self, index: int) -> bytes: ...

    def root(self, size: int | None = None) -> bytes: ...

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]: ...

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]: ...

    def latest_checkpoint(self) -> SignedCheckpoint | None: ...

    def checkpoints(self) -> Checkpoints: ...

    def checkpoint_now(self) -> SignedCheckpoint | None: ...

    def reader(self) -> EntryReader:
        """A reader of every durable entry, in order."""
        ...

    def close(self) -> None: ...
