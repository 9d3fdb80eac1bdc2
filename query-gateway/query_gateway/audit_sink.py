"""`AuditSink`: where the gateway records every request *before* answering it.

`append(entry)` returns only once the entry is durable, with its position; it raises
`AuditAppendError` otherwise, and the gateway then answers 503 with no answer. The audit
issue's Merkle log (`audit/`) will implement the same interface; until then
`JsonlAuditSink` is a durable append-only file: one RFC 8785 canonical JSON line per entry,
written with ``O_APPEND`` and ``fsync``, with group commit (one fsync per batch of concurrent
appends, leader/follower), a torn last line dropped on open, and, after any write error,
every later append refused (fail closed: the file's tail is then unknown).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

import anyio
import rfc8785


class AuditAppendError(Exception):
    """The entry is not durable; the request it records must not be answered."""


@dataclass(frozen=True)
class AuditEntry:
    """One access, allowed or denied (field names follow `audit.entry.AuditEntry`).

    ``subject`` is a pseudonym, never an ID number; ``reason`` a code, never a raw value.
    """

    time: str
    actor: str
    role: str
    action: str
    decision: Literal["allow", "deny"]
    request_id: str
    computation: str | None = None
    purpose: str | None = None
    access_request: str | None = None
    consent: str | None = None
    subject: str | None = None
    reason: str | None = None
    result_digest: str | None = None

    @staticmethod
    def now() -> str:
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditReceipt:
    """Where the entry sits in the log and the SHA-256 leaf hash of its exact bytes."""

    index: int
    leaf_hash: str


class AuditSink(Protocol):
    def append(self, entry: AuditEntry) -> AuditReceipt: ...
    def close(self) -> None: ...


async def append_durably(sink: AuditSink, entry: AuditEntry) -> AuditReceipt:
    """Append from the event loop: awaited on the loop if the sink can (``append_async``),
    else in a worker thread. Raises what ``append`` raises."""
    native = getattr(sink, "append_async", None)
    if native is not None:
        receipt: AuditReceipt = await native(entry)
        return receipt
    return await anyio.to_thread.run_sync(sink.append, entry)


def encode_entry(entry: AuditEntry, index: int) -> bytes:
    return rfc8785.dumps({"v": 1, "index": index, **asdict(entry)})


def leaf_hash(data: bytes) -> str:
    return hashlib.sha256(b"\x00" + data).hexdigest()  # RFC 6962 leaf hash


class JsonlAuditSink:
    """The interim durable sink (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._next = _recover(path)
        self._path = path
        self._read_lock = threading.Lock()
        self._starts: array[int] = array("q")  # where each line starts, scanned on demand
        self._scanned = 0
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._cond = threading.Condition()
        self._buffer: list[bytes] = []
        self._open_batch = 1
        self._durable = 0
        self._writing = False
        self._broken = False

    def append(self, entry: AuditEntry) -> AuditReceipt:
        with self._cond:
            if self._broken:
                raise AuditAppendError("the audit log refused an earlier write")
            index = self._next
            self._next += 1
            line = encode_entry(entry, index)
            self._buffer.append(line + b"\n")
            batch = self._open_batch
            while self._durable < batch:
                if self._broken:
                    raise AuditAppendError("the audit log write failed")
                if self._writing:
                    self._cond.wait()
                else:
                    self._lead()
        return AuditReceipt(index, leaf_hash(line))

    def _lead(self) -> None:
        """Write and fsync the whole open batch; called with the condition held."""
        self._writing = True
        lines, self._buffer = self._buffer, []
        batch = self._open_batch
        self._open_batch += 1
        self._cond.release()
        try:
            _write_all(self._fd, b"".join(lines))
            os.fsync(self._fd)
            ok = True
        except OSError:
            ok = False
        finally:
            self._cond.acquire()
        self._writing = False
        if ok:
            self._durable = batch
        else:
            self._broken = True
        self._cond.notify_all()

    def entry(self, index: int) -> bytes:
        """Entry ``index`` as written (its line without the newline); IndexError if absent."""
        with self._read_lock:
            with open(self._path, "rb") as f:
                f.seek(self._scanned)
                fresh = f.read()
            complete = fresh[: fresh.rfind(b"\n") + 1]
            at = self._scanned
            for line in complete.splitlines(keepends=True):
                self._starts.append(at)
                at += len(line)
            self._scanned = at
            if not 0 <= index < len(self._starts):
                raise IndexError(index)
            start = self._starts[index]
            end = self._starts[index + 1] if index + 1 < len(self._starts) else self._scanned
        with open(self._path, "rb") as f:
            f.seek(start)
            return f.read(end - start).rstrip(b"\n")

    def entries(self) -> Iterator[bytes]:
        """Every entry written so far, in order."""
        with open(self._path, "rb") as f:
            data = f.read()
        yield from data[: data.rfind(b"\n") + 1].splitlines()

    def close(self) -> None:
        with self._cond:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
                self._broken = True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _recover(path: Path) -> int:
    """Drop a torn last line (a crash mid-write; never acknowledged) and count entries."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep != len(data):
        with open(path, "r+b") as f:
            f.truncate(keep)
            os.fsync(f.fileno())
    return data[:keep].count(b"\n")
