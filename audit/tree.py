"""A stored Merkle tree: every complete node, level by level, so proofs need no rehashing.

Level 0 holds the leaf hashes; node ``j`` of level ``k`` is the root of the perfect subtree
of leaves ``[j·2^k, (j+1)·2^k)`` (RFC 9162 §2.1.1), appended as soon as it is complete.
A tree of ``n`` leaves stores ``n >> k`` nodes at level ``k`` (about ``2n`` hashes in all).
Any RFC 6962 subtree ``[lo, hi)`` that occurs in a proof is a run of at most ``log2 n``
aligned perfect subtrees, so an inclusion or consistency proof reads O(log² n) stored hashes.

Two stores: ``MemoryLevels`` (the verifier, tests) and ``FileLevels`` (``level-NN.bin``
files of 32-byte hashes in a directory: the log). Proofs are checked in the tests against
the linear-time ``audit.merkle`` functions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from audit.errors import OutOfRangeError
from audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    _consistency_ranges,
    _inclusion_ranges,
    node_hash,
)

__all__ = ["FileLevels", "Levels", "MemoryLevels", "StoredTree"]


class Levels(Protocol):
    """Where the nodes of a ``StoredTree`` live: append-only arrays of 32-byte hashes."""

    def count(self, level: int) -> int:
        """Number of nodes stored at ``level`` (0 for a level never written)."""
        ...

    def read(self, level: int, index: int) -> bytes:
        """Node ``index`` of ``level``; precondition ``index < count(level)``."""
        ...

    def append(self, level: int, node: bytes) -> None:
        """Append one node at ``level``."""
        ...


class MemoryLevels:
    """Levels held in memory, one ``bytearray`` per level."""

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    def count(self, level: int) -> int:
        return len(self._levels[level]) // HASH_SIZE if level < len(self._levels) else 0

    def read(self, level: int, index: int) -> bytes:
        start = index * HASH_SIZE
        return bytes(self._levels[level][start : start + HASH_SIZE])

    def append(self, level: int, node: bytes) -> None:
        if level == len(self._levels):
            self._levels.append(bytearray())
        self._levels[level] += node


class FileLevels:
    """Levels in ``directory/level-NN.bin``; appends are buffered until ``flush``.

    A reader in another process may open the same directory with ``writable=False``;
    it must only ask for trees no larger than what the writer had flushed (a checkpoint's
    size, which the log writes after flushing).
    """

    def __init__(self, directory: Path, *, writable: bool) -> None:
        self._dir = directory
        self._writable = writable
        self._fds: dict[int, int] = {}
        self._flushed: list[int] = []
        self._pending: list[bytearray] = []
        if writable:
            directory.mkdir(parents=True, exist_ok=True)
        level = 0
        while self._path(level).exists():
            self._open(level)
            level += 1

    def count(self, level: int) -> int:
        if level >= len(self._flushed):
            return 0
        return self._flushed[level] + len(self._pending[level]) // HASH_SIZE

    def read(self, level: int, index: int) -> bytes:
        flushed = self._flushed[level]
        if index < flushed:
            return os.pread(self._fds[level], HASH_SIZE, index * HASH_SIZE)
        start = (index - flushed) * HASH_SIZE
        return bytes(self._pending[level][start : start + HASH_SIZE])

    def append(self, level: int, node: bytes) -> None:
        if level == len(self._flushed):
            self._open(level)
        self._pending[level] += node

    def flush(self) -> None:
        """Write buffered nodes to the files (into the page cache; not yet durable)."""
        for level, buffer in enumerate(self._pending):
            if buffer:
                os.write(self._fds[level], buffer)
                self._flushed[level] += len(buffer) // HASH_SIZE
                buffer.clear()

    def sync(self) -> None:
        """Flush, then fsync every level file."""
        self.flush()
        for fd in self._fds.values():
            os.fsync(fd)

    def truncate(self, size: int) -> None:
        """Keep exactly the nodes of a tree of ``size`` leaves (``size >> k`` at level k)."""
        self.flush()
        for level in range(len(self._flushed)):
            keep = min(size >> level, self._flushed[level])
            if os.fstat(self._fds[level]).st_size != keep * HASH_SIZE:  # also a torn hash
                os.ftruncate(self._fds[level], keep * HASH_SIZE)
            self._flushed[level] = keep

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def _path(self, level: int) -> Path:
        return self._dir / f"level-{level:02d}.bin"

    def _open(self, level: int) -> None:
        path = self._path(level)
        if self._writable:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        else:
            fd = os.open(path, os.O_RDONLY)
        self._fds[level] = fd
        self._flushed.append(os.fstat(fd).st_size // HASH_SIZE)
        self._pending.append(bytearray())


class StoredTree:
    """An append-only Merkle tree over a ``Levels`` store (RFC 9162 §2.1).

    ``size`` is the number of leaves, taken from level 0. Appending keeps every level
    complete: after ``append`` the store holds ``size >> k`` nodes at each level ``k``.
    """

    def __init__(self, levels: Levels) -> None:
        self.levels = levels
        self._size = levels.count(0)
        self._last: list[bytes] = [
            levels.read(k, levels.count(k) - 1) if levels.count(k) else b""
            for k in range(max(self._size.bit_length(), 1))
        ]

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash and every node it completes (one node hash on average)."""
        node, level, position = leaf_hash, 0, self._size
        while True:
            self.levels.append(level, node)
            if level == len(self._last):
                self._last.append(node)
            if not position & 1:
                self._last[level] = node
                break
            node = node_hash(self._last[level], node)
            level, position = level + 1, position >> 1
        self._size += 1

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        for leaf in leaf_hashes:
            self.append(leaf)

    def leaf(self, index: int) -> bytes:
        """The stored leaf hash at ``index``; raises OutOfRangeError."""
        if not 0 <= index < self._size:
            raise OutOfRangeError(index, self._size)
        return self.levels.read(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all by default); raises OutOfRangeError."""
        size = self._size if size is None else size
        if not 0 <= size <= self._size:
            raise OutOfRangeError(size, self._size)
        return self._range_root(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) (RFC 9162 §2.1.3.1) from stored nodes.

        Raises OutOfRangeError unless ``0 <= index < size <= self.size``.
        """
        size = self._size if size is None else size
        if not 0 <= index < size <= self._size:
            raise OutOfRangeError(index, size)
        return [self._range_root(lo, hi) for lo, hi in _inclusion_ranges(index, size)]

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[size]) (RFC 9162 §2.1.4.1); empty if old is 0 or ``size``.

        Raises OutOfRangeError unless ``0 <= old_size <= size <= self.size``.
        """
        size = self._size if size is None else size
        if not 0 <= old_size <= size <= self._size:
            raise OutOfRangeError(old_size, size)
        if old_size in (0, size):
            return []
        return [self._range_root(lo, hi) for lo, hi in _consistency_ranges(old_size, size)]

    def _range_root(self, lo: int, hi: int) -> bytes:
        # Precondition: [lo, hi) is an RFC 6962 subtree, so lo is aligned to a power of two
        # at least hi - lo and the range splits into perfect subtrees by the bits of hi - lo.
        parts = []
        while lo < hi:
            height = (hi - lo).bit_length() - 1
            if lo:
                height = min(height, (lo & -lo).bit_length() - 1)
            parts.append(self.levels.read(height, lo >> height))
            lo += 1 << height
        result = parts.pop()
        while parts:
            result = node_hash(parts.pop(), result)
        return result
