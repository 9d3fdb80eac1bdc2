"""The append-only audit log: durable appends with group commit, crash recovery, proofs.

One directory (the application passes ``$DEXIN_HOME/audit``) holds::

    .lock              flock held by the one writer process (readers never take it)
    entries.log        the source of truth: framed, checksummed records (audit.records)
    offsets.bin        derived: u64 offset of every record
    tree/level-NN.bin  derived: every complete Merkle node, level by level (audit.tree)
    derived.json       {"size", "offset"}: derived files are fsynced for entries [0, size)
    checkpoints/       signed checkpoints, one per size (audit.checkpoint)
    cosignatures/      witnesses' aggregate cosignatures and anchors (audit.witness)
    log.vkey           the log's public verifier key (C2SP vkey)

Durability contract: ``append`` returns only after the entry's record is in
``entries.log`` and ``fdatasync`` has returned. One flusher thread writes every entry
queued meanwhile with one ``write`` and one ``fdatasync`` (group commit), so concurrent
appenders share the cost. A checkpoint is signed only over fsynced entries, after the
derived files are fsynced up to its size.

Recovery (``open``): derived files are cut back to ``derived.json``'s size and rebuilt from
``entries.log``; a damaged tail of ``entries.log`` (a partial record or a checksum mismatch,
which only a crash during an unacknowledged write can leave) is moved to
``entries.log.torn-<offset>`` and truncated. An acknowledged entry is never in that tail.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from audit.checkpoint import Checkpoint, CheckpointHistory, SignedCheckpoint
from audit.entry import AuditEntry
from audit.errors import LogBusyError, LogClosedError, LogCorruptError, OutOfRangeError
from audit.files import fsync_dir, write_atomic
from audit.merkle import leaf_hash
from audit.note import NoteSigner
from audit.reader import LogReader
from audit.records import HEADER_SIZE, MAGIC, OffsetIndex, ScanEnd, encode_record, read_record, scan
from audit.tree import FileLevels, StoredTree

__all__ = ["AppendReceipt", "AuditLog", "Batch", "LogOptions", "PendingAppend"]


class Batch(threading.Event):
    """A group commit's event: set once its entries are durable (or the log failed), and
    calling back whoever asked (`add_done_callback`), e.g. an event loop's future."""

    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callable[[], None]] = []
        self._guard = threading.Lock()

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from the flusher thread) once set; at once if it is."""
        with self._guard:
            if not self.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def set(self) -> None:
        with self._guard:
            super().set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


@dataclass(frozen=True)
class PendingAppend:
    """An entry queued by `AuditLog.submit`: durable once ``batch`` is set and `receipt`
    returns (rather than raising `LogClosedError`)."""

    index: int
    payload: bytes
    batch: Batch


@dataclass(frozen=True)
class AppendReceipt:
    """Where an acknowledged (durable) entry sits: its ``index`` and Merkle ``leaf_hash``."""

    index: int
    leaf_hash: bytes


@dataclass(frozen=True)
class LogOptions:
    """Checkpoint cadence: every ``checkpoint_every`` entries or ``checkpoint_interval``
    seconds (whichever comes first), only when the log has grown."""

    checkpoint_every: int = 4096
    checkpoint_interval: float = 10.0


class AuditLog:
    """The writer. Thread-safe; one per directory across processes (``LogBusyError``)."""

    def __init__(self, directory: Path, signer: NoteSigner, options: LogOptions) -> None:
        self.directory = directory
        self.origin = signer.name
        self._signer = signer
        self._options = options
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._done = threading.Condition(self._lock)
        self._queue: list[bytes] = []
        # Appenders of one batch wait on its own event, so a commit wakes only them.
        self._batch = self._inflight = Batch()
        self._failed: BaseException | None = None
        self._closing = False
        self._requested = self._served = self._commits = 0
        self._lock_fd = _take_lock(directory)
        self._history = CheckpointHistory(directory / "checkpoints")
        self._open_files()
        self._thread = threading.Thread(target=self._run, name="audit-log-flusher", daemon=True)
        self._thread.start()

    @classmethod
    def open(
        cls, directory: Path, signer: NoteSigner, options: LogOptions | None = None
    ) -> AuditLog:
        """Open (creating if needed) and recover the log; raises LogBusyError, LogCorruptError."""
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory, signer, options or LogOptions())

    # -- the public surface ---------------------------------------------------------

    @property
    def commits(self) -> int:
        """Number of group commits (``fdatasync`` calls on entries) since open."""
        return self._commits

    @property
    def size(self) -> int:
        """Number of durable entries (indices ``0 .. size-1``)."""
        return self._durable

    def append(self, entry: AuditEntry) -> AppendReceipt:
        """Append ``entry``; return once it is durable. Raises LogClosedError."""
        pending = self.submit(entry)
        pending.batch.wait()  # set once this batch is durable, or the log failed
        return self.receipt(pending)

    def submit(self, entry: AuditEntry) -> PendingAppend:
        """Queue ``entry`` for the next group commit without waiting: for callers that wait
        on ``batch`` their own way (an event loop). Nothing is acknowledged until `receipt`."""
        with self._lock:
            self._check_open()
            index = self._next
            self._next += 1
            payload = entry.encode(index)
            self._queue.append(payload)
            batch = self._batch
            self._work.notify()
        return PendingAppend(index, payload, batch)

    def receipt(self, pending: PendingAppend) -> AppendReceipt:
        """The receipt of a submitted entry whose batch is set; LogClosedError if the log
        failed or closed before the entry became durable."""
        if self._durable <= pending.index:
            raise LogClosedError(str(self.directory))
        return AppendReceipt(pending.index, leaf_hash(pending.payload))

    def entry(self, index: int) -> bytes:
        """The exact leaf data (canonical JSON) of durable entry ``index``."""
        self._check_index(index, self._durable)
        return read_record(self._fd, self._offsets.get(index))

    def root(self, size: int | None = None) -> bytes:
        return self._tree.root(self._durable if size is None else self._bounded(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) over durable entries (RFC 9162 §2.1.3.1)."""
        size = self._durable if size is None else self._bounded(size)
        return self._tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[size]) over durable entries (RFC 9162 §2.1.4.1)."""
        size = self._durable if size is None else self._bounded(size)
        return self._tree.consistency_proof(old_size, size)

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        return self._latest

    def checkpoints(self) -> CheckpointHistory:
        return self._history

    def reader(self) -> LogReader:
        """A reader of this log's directory beside the writer (no lock; `audit.reader`)."""
        return LogReader(self.directory)

    def checkpoint_now(self) -> SignedCheckpoint | None:
        """Ask the flusher for a checkpoint of every durable entry and wait for it."""
        with self._lock:
            self._check_open()
            self._requested += 1
            ticket = self._requested
            self._work.notify()
            while self._served < ticket:
                self._check_open()
                self._done.wait()
        return self._latest

    def close(self) -> None:
        """Flush, checkpoint what is new, fsync derived files, release the lock."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._work.notify()
        self._thread.join()
        self._offsets.close()
        self._levels.close()
        os.close(self._fd)
        os.close(self._lock_fd)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening and recovery ---------------------------------------------------------

    def _open_files(self) -> None:
        path = self.directory / "entries.log"
        _ensure_header(path)
        self._fd = os.open(path, os.O_RDWR | os.O_APPEND)
        synced, offset = _read_derived(self.directory / "derived.json")
        self._levels = FileLevels(self.directory / "tree", writable=True)
        self._offsets = OffsetIndex(self.directory / "offsets.bin", writable=True)
        if len(self._offsets) < synced or self._levels.count(0) < synced:
            synced, offset = 0, HEADER_SIZE  # derived files damaged: rebuild them all
        self._levels.truncate(synced)
        self._offsets.truncate(synced)
        self._tree = StoredTree(self._levels)
        self._end = self._replay(path, offset)
        self._durable = self._next = self._checkpointed = self._tree.size
        self._save_derived()
        (self.directory / "log.vkey").write_text(self._signer.verifier().vkey() + "\n")
        self._latest = self._history.latest()
        self._check_history()
        self._last_checkpoint_time = time.monotonic()

    def _replay(self, path: Path, offset: int) -> int:
        """Re-derive offsets and tree nodes for records after ``offset``; cut a torn tail."""
        size = os.fstat(self._fd).st_size
        if size < offset:
            raise LogCorruptError(str(path), size, "entries.log is shorter than fsynced")
        if size == offset:
            return offset
        end = ScanEnd(offset)
        with mmap.mmap(self._fd, size, prot=mmap.PROT_READ) as data:
            for start, payload in scan(memoryview(data), offset, end):
                self._offsets.append(start)
                self._tree.append(leaf_hash(payload))
            if end.reason is not None:
                _save_torn_tail(path, data[end.offset :], end.offset)
        if end.reason is not None:
            os.ftruncate(self._fd, end.offset)
            os.fsync(self._fd)
        return end.offset

    def _check_history(self) -> None:
        if self._latest is None:
            return
        cp = self._latest.checkpoint
        if cp.size > self._tree.size or self._tree.root(cp.size) != cp.root:
            reason = f"checkpoint at size {cp.size} does not match the entries on disk"
            raise LogCorruptError(str(self.directory), cp.size, reason)
        self._checkpointed = cp.size

    def _save_derived(self) -> None:
        self._levels.sync()
        self._offsets.sync()
        document = {"size": self._tree.size, "offset": self._end}
        write_atomic(self.directory / "derived.json", json.dumps(document).encode(), mode=0o644)

    # -- the flusher thread -----------------------------------------------------------

    def _run(self) -> None:
        try:
            while self._step():
                pass
        except BaseException as exc:
            with self._lock:
                self._failed = exc
                self._inflight.set()
                self._batch.set()
                self._done.notify_all()
            return

    def _step(self) -> bool:
        """Commit one batch and maybe a checkpoint; False once closed and drained."""
        with self._lock:
            while not (self._queue or self._closing or self._requested > self._served):
                if not self._work.wait(timeout=self._wait_time()):
                    break
            batch, self._queue = self._queue, []
            if batch:
                self._inflight, self._batch = self._batch, Batch()
            closing, requested = self._closing, self._requested
        if batch:
            self._commit(batch)
        if requested > self._served or closing or self._checkpoint_due():
            self._checkpoint(requested)
        if closing:
            self._save_derived()
        return not closing

    def _commit(self, batch: list[bytes]) -> None:
        records = b"".join(encode_record(payload) for payload in batch)
        _write_all(self._fd, records)
        os.fdatasync(self._fd)
        self._commits += 1
        offset = self._end
        for payload in batch:
            self._offsets.append(offset)
            self._tree.append(leaf_hash(payload))
            offset += 8 + len(payload)
        self._levels.flush()
        self._offsets.flush()
        self._end = offset
        with self._lock:
            self._durable += len(batch)
        self._inflight.set()

    def _checkpoint(self, requested: int) -> None:
        size = self._durable
        if size > self._checkpointed or (self._latest is None and size == 0):
            self._save_derived()
            signed = Checkpoint(self.origin, size, self._tree.root(size)).sign(self._signer)
            self._history.store(signed)
            self._latest = signed
        self._last_checkpoint_time = time.monotonic()
        with self._lock:
            self._checkpointed = size
            self._served = requested
            self._done.notify_all()

    def _checkpoint_due(self) -> bool:
        grown = self._durable - self._checkpointed
        elapsed = time.monotonic() - self._last_checkpoint_time
        return grown >= self._options.checkpoint_every or (
            grown > 0 and elapsed >= self._options.checkpoint_interval
        )

    def _wait_time(self) -> float:
        return max(0.01, min(1.0, self._options.checkpoint_interval / 4))

    # -- helpers ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._failed is not None or self._closing:
            raise LogClosedError(str(self.directory))

    def _bounded(self, size: int) -> int:
        self._check_index(size, self._durable + 1)
        return size

    def _check_index(self, index: int, limit: int) -> None:
        if not 0 <= index < limit:
            raise OutOfRangeError(index, limit)


def _take_lock(directory: Path) -> int:
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LogBusyError(str(directory)) from None
    return fd


def _ensure_header(path: Path) -> None:
    """Create ``entries.log`` with its magic, or check an existing one's."""
    if path.exists():
        with path.open("rb") as f:
            head = f.read(HEADER_SIZE)
        if head == MAGIC:
            return
        if not MAGIC.startswith(head):  # a crash while creating leaves a prefix of MAGIC
            raise LogCorruptError(str(path), 0, "not an audit log (bad magic)")
    write_atomic(path, MAGIC, mode=0o644)


def _read_derived(path: Path) -> tuple[int, int]:
    if not path.exists():
        return 0, HEADER_SIZE
    document = json.loads(path.read_bytes())
    return int(document["size"]), int(document["offset"])


def _save_torn_tail(path: Path, tail: bytes, offset: int) -> None:
    keep = path.with_name(f"{path.name}.torn-{offset}")
    keep.write_bytes(tail)
    fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
