"""The framing of ``entries.log``: a header, then length-prefixed, checksummed records.

File layout::

    MAGIC (8 bytes: b"DXAUDIT1")
    record*   where record = u32 length n (big-endian) || u32 CRC-32 || payload (n bytes)

The CRC-32 (zlib) covers the four length bytes and the payload, so a torn length is caught
too. ``n`` is at least 1 and at most ``MAX_RECORD``. A crash can leave only the *tail*
damaged (a partial record, or zeros after the last fsync); ``scan`` stops at the first
record that is incomplete or fails its checksum and reports where.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "HEADER_SIZE",
    "MAGIC",
    "MAX_RECORD",
    "OffsetIndex",
    "ScanEnd",
    "encode_record",
    "read_record",
    "scan",
]

MAGIC = b"DXAUDIT1"
HEADER_SIZE = len(MAGIC)
MAX_RECORD = 1 << 20
_PREFIX = struct.Struct(">II")


def encode_record(payload: bytes) -> bytes:
    """Frame one payload: length, CRC-32 of (length || payload), payload."""
    length = len(payload).to_bytes(4, "big")
    return length + zlib.crc32(payload, zlib.crc32(length)).to_bytes(4, "big") + payload


@dataclass
class ScanEnd:
    """Where a scan stopped: ``offset`` just past the last good record, ``count`` records,
    and ``reason`` (``None`` at a clean end of data)."""

    offset: int
    count: int = 0
    reason: str | None = None


def scan(data: bytes | memoryview, offset: int, end: ScanEnd) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, payload)`` of every intact record from ``offset`` on.

    Updates ``end`` as it goes; when the generator finishes, ``end.offset`` is the offset
    after the last intact record and ``end.reason`` says why scanning stopped early.
    """
    view = memoryview(data)
    size, unpack, crc32 = len(view), _PREFIX.unpack_from, zlib.crc32  # hot loop: locals
    end.offset = offset
    while offset < size:
        reason = _check(view, offset) if size - offset < 8 else None
        if reason is None:
            length, crc = unpack(view, offset)
            stop = offset + 8 + length
            payload = view[offset + 8 : stop]
            intact = 0 < length <= MAX_RECORD and stop <= size
            if intact and crc32(payload, crc32(view[offset : offset + 4])) == crc:
                yield offset, payload.tobytes()
                offset = end.offset = stop
                end.count += 1
                continue
            reason = _check(view, offset)
        end.reason = reason
        return


def read_record(fd: int, offset: int) -> bytes:
    """Read and check the record at ``offset`` of an open ``entries.log``; raises ValueError."""
    head = os.pread(fd, 8, offset)
    if len(head) < 8:
        raise ValueError("partial record header")
    data = head + os.pread(fd, int.from_bytes(head[:4], "big"), offset + 8)
    reason = _check(memoryview(data), 0)
    if reason is not None:
        raise ValueError(reason)
    return data[8:]


def _check(view: memoryview, offset: int) -> str | None:
    if len(view) - offset < 8:
        return "partial record header"
    length, crc = _PREFIX.unpack_from(view, offset)
    if not 0 < length <= MAX_RECORD:
        return "record length out of range"
    if len(view) - offset - 8 < length:
        return "partial record"
    payload = view[offset + 8 : offset + 8 + length]
    if zlib.crc32(payload, zlib.crc32(view[offset : offset + 4])) != crc:
        return "checksum mismatch"
    return None


class OffsetIndex:
    """``offsets.bin``: the byte offset in ``entries.log`` of every record, as u64 BE.

    Appends are buffered until ``flush``; like the tree's level files it is derived data,
    rebuilt from ``entries.log`` after a crash (see ``audit.log``).
    """

    def __init__(self, path: Path, *, writable: bool) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND if writable else os.O_RDONLY
        self._fd = os.open(path, flags, 0o644)
        self._flushed = os.fstat(self._fd).st_size // 8
        self._pending = bytearray()

    def __len__(self) -> int:
        return self._flushed + len(self._pending) // 8

    def get(self, index: int) -> int:
        """Offset of record ``index``; precondition ``index < len(self)``."""
        if index < self._flushed:
            return int.from_bytes(os.pread(self._fd, 8, index * 8), "big")
        start = (index - self._flushed) * 8
        return int.from_bytes(self._pending[start : start + 8], "big")

    def append(self, offset: int) -> None:
        self._pending += offset.to_bytes(8, "big")

    def flush(self) -> None:
        if self._pending:
            os.write(self._fd, self._pending)
            self._flushed += len(self._pending) // 8
            self._pending.clear()

    def sync(self) -> None:
        self.flush()
        os.fsync(self._fd)

    def truncate(self, count: int) -> None:
        self.flush()
        count = min(count, self._flushed)
        if os.fstat(self._fd).st_size != count * 8:  # also a torn offset
            os.ftruncate(self._fd, count * 8)
        self._flushed = count

    def close(self) -> None:
        os.close(self._fd)
