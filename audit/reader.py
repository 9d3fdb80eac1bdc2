"""Read-only access to a log directory while its writer runs (no lock is taken).

A reader sees a consistent prefix: checkpoints are written only after the entries and tree
nodes they cover are on disk, so for any checkpoint it has listed, entries, leaf hashes and
proofs up to that size are complete. Records the writer is still appending are skipped
(``entries`` stops at the first incomplete record).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path

from audit.checkpoint import CheckpointHistory, SignedCheckpoint
from audit.errors import LogError, OutOfRangeError
from audit.note import NoteVerifier
from audit.records import HEADER_SIZE, MAGIC, OffsetIndex, ScanEnd, read_record, scan
from audit.tree import FileLevels, StoredTree

__all__ = ["LogReader"]


class LogReader:
    """Reads entries, checkpoints and proofs of the log in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        path = directory / "entries.log"
        if not path.exists():
            raise LogError(str(directory))
        self._fd = os.open(path, os.O_RDONLY)
        self.history = CheckpointHistory(directory / "checkpoints")
        self._levels: list[FileLevels] = []

    def close(self) -> None:
        for levels in self._levels:
            levels.close()
        os.close(self._fd)

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_key(self) -> NoteVerifier:
        """The log's verifier key as the operator published it (pin it; do not trust it)."""
        return NoteVerifier.from_vkey((self.directory / "log.vkey").read_text())

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        return self.history.latest()

    def entries(self, limit: int | None = None) -> Iterator[bytes]:
        """Every complete entry's leaf data in order (at most ``limit``), from a snapshot."""
        size = os.fstat(self._fd).st_size
        if size < HEADER_SIZE or os.pread(self._fd, HEADER_SIZE, 0) != MAGIC:
            raise LogError(str(self.directory))
        if size == HEADER_SIZE or limit == 0:
            return
        with mmap.mmap(self._fd, size, prot=mmap.PROT_READ) as data:
            view = memoryview(data)
            try:
                yield from _take(scan(view, HEADER_SIZE, ScanEnd(HEADER_SIZE)), limit)
            finally:
                view.release()

    def entry(self, index: int, size: int) -> bytes:
        """Entry ``index`` (< ``size``, a size the caller knows is complete, e.g. a
        checkpoint's)."""
        if not 0 <= index < size:
            raise OutOfRangeError(index, size)
        offsets = OffsetIndex(self.directory / "offsets.bin", writable=False)
        try:
            return read_record(self._fd, offsets.get(index))
        finally:
            offsets.close()

    def tree(self) -> StoredTree:
        """The stored tree; use only sizes up to a listed checkpoint's (see module doc)."""
        levels = FileLevels(self.directory / "tree", writable=False)
        self._levels.append(levels)
        return StoredTree(levels)

    def leaf_hashes(self, size: int) -> bytes:
        """The stored leaf hashes of the first ``size`` entries, concatenated."""
        path = self.directory / "tree" / "level-00.bin"
        if size == 0 or not path.exists():  # an empty log has no level file yet
            return b""
        with path.open("rb") as f:
            return f.read(32 * size)


def _take(records: Iterator[tuple[int, bytes]], limit: int | None) -> Iterator[bytes]:
    for count, (_, payload) in enumerate(records):
        if limit is not None and count >= limit:
            return
        yield payload
