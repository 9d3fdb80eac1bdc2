"""Reading the PostgreSQL audit log: its checkpoints, its entries, an auditor's snapshot.

The counterparts of `audit.checkpoint.CheckpointHistory`, `audit.reader.LogReader` and
`audit.export.snapshot_log` for `audit.pg_log.PgAuditLog`. Rows are committed before anyone
reads them, so every read sees a consistent prefix of the log; a snapshot stops at the
latest checkpoint, like the file log's, and exports to the same ``dexin-audit-export/1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from audit.checkpoint import SignedCheckpoint
from audit.errors import CheckpointError, NoteError, OutOfRangeError
from audit.export import Snapshot, signers_of
from audit.note import NoteVerifier
from audit.pg_store import PgStore
from audit.witness import BundleStore

__all__ = ["PgCheckpoints", "PgLogReader", "snapshot_pg"]


class PgCheckpoints:
    """The ``audit_checkpoints`` table as a checkpoint history (`audit.backend.Checkpoints`)."""

    def __init__(self, store: PgStore) -> None:
        self._store = store
        self._parsed: dict[str, SignedCheckpoint] = {}

    def sizes(self) -> list[int]:
        return self._store.checkpoint_sizes()

    def load(self, size: int) -> SignedCheckpoint:
        """Parse (without verifying) the checkpoint of ``size``; raises CheckpointError."""
        note = self._store.checkpoint_note(size)
        if note is None:
            raise CheckpointError(size, "no checkpoint of this size")
        signed = self._parse(note, size)
        if signed.checkpoint.size != size:
            raise CheckpointError(size, "stored size and tree size differ")
        return signed

    def latest(self) -> SignedCheckpoint | None:
        note = self._store.checkpoint_note(None)
        return None if note is None else self._parse(note, None)

    def _parse(self, note: str, size: int | None) -> SignedCheckpoint:
        signed = self._parsed.get(note)
        if signed is None:
            try:
                signed = SignedCheckpoint.parse(note)
            except NoteError as exc:
                raise CheckpointError(size, f"malformed note: {exc.reason}") from None
            self._parsed = {note: signed}  # the latest one is asked for again and again
        return signed


class PgLogReader:
    """Entries, checkpoints and leaf hashes of the log (`audit.backend.EntryReader`)."""

    def __init__(self, store: PgStore, directory: Path) -> None:
        self.directory = directory
        self.history = PgCheckpoints(store)
        self._store = store

    def __enter__(self) -> PgLogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: the log owns the connections."""

    def log_key(self) -> NoteVerifier:
        """The log's verifier key recorded in the head row (pin it; do not trust it)."""
        return NoteVerifier.from_vkey(self._store.vkey())

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        return self.history.latest()

    def entries(self, limit: int | None = None) -> Iterator[bytes]:
        """Every committed entry's leaf data in order (at most ``limit``)."""
        size = self._store.size()
        yield from self._store.payloads(0, size if limit is None else min(size, limit))

    def entry(self, index: int, size: int) -> bytes:
        """Entry ``index`` (< ``size``, a size the caller knows is committed)."""
        if not 0 <= index < size:
            raise OutOfRangeError(index, size)
        return next(self._store.payloads(index, index + 1))

    def leaf_hashes(self, size: int) -> bytes:
        """The stored leaf hashes of the first ``size`` entries, concatenated."""
        return b"".join(self._store.leaf_hashes(0, size))


def snapshot_pg(store: PgStore, directory: Path) -> Snapshot:
    """A snapshot of the log up to its latest checkpoint, with the bundles of witnesses'
    cosignatures kept in ``directory/cosignatures``."""
    reader = PgLogReader(store, directory)
    notes = store.notes(store.size())
    count = max(notes, default=0)
    bundle_store = BundleStore(directory / "cosignatures")
    bundles = {
        s: (bundle_store.directory / f"{s:020d}.json").read_bytes()
        for s in bundle_store.sizes()
        if s <= count
    }
    return Snapshot(
        entries=lambda: store.payloads(0, count),
        count=count,
        leaf_hashes=reader.leaf_hashes(count),
        checkpoints={size: note.encode() for size, note in notes.items()},
        bundles=bundles,
        log_key=reader.log_key(),
        witness_keys=signers_of(bundles),
    )
