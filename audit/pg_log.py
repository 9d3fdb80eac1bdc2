"""The audit log in PostgreSQL: any number of writer processes append to one log.

The same contract as the file log (`audit.log.AuditLog`), for answer workers that scale out:
``append`` returns only once the entry's transaction has committed (``synchronous_commit``
on), so no answer leaves before its entry is durable. Each process runs one committer
thread that writes every entry queued meanwhile in one transaction (group commit); the
transaction locks the single tree-head row, numbers the entries from the head's size and
moves the head (`audit.pg_store`), so indexes are contiguous and unique across processes.
A batch whose transaction fails is refused as a whole (`LogUnavailableError` from
``receipt``) and leaves no index behind; the log stays open for the next batch. A commit
whose acknowledgement is lost (the connection cut during COMMIT) is refused too although its
rows may be there: fail closed, such an entry records a request that was never answered.

Each process keeps the tree in memory (`audit.tree.StoredTree` over `MemoryLevels`, about
64 bytes an entry), caught up from the stored leaf hashes whenever it is asked for a size it
has not seen, so roots, proofs and checkpoints are the file log's bytes for the same entries.

Checkpoints: every process holds the log's one Ed25519 key (``$DEXIN_HOME/audit/log.key``,
the data authority's secret handed to each answer worker) and the head row records its
verifier key, so a worker holding another key refuses to open. A checkpoint is signed by
whichever process finds one due, one at a time (an advisory lock), over the committed head;
Ed25519 signatures are deterministic, so any process would sign the same note for a size.
Witnesses' cosignatures stay in ``directory/cosignatures`` (`governance.witnessing`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from audit.checkpoint import Checkpoint, SignedCheckpoint
from audit.entry import AuditEntry
from audit.errors import (
    CheckpointError,
    LogClosedError,
    LogCorruptError,
    LogUnavailableError,
    OutOfRangeError,
)
from audit.export import Snapshot
from audit.files import write_atomic
from audit.log import AppendReceipt, Batch, LogOptions
from audit.note import NoteSigner
from audit.pg_reader import PgCheckpoints, PgLogReader, snapshot_pg
from audit.pg_store import PgStore, server_identity
from audit.tree import MemoryLevels, StoredTree

__all__ = ["PgAuditLog", "PgPending"]

T = TypeVar("T")


@dataclass(eq=False)
class PgPending:
    """An entry queued by `PgAuditLog.submit`; its index exists once ``batch`` is set and
    its transaction committed (`PgAuditLog.receipt`)."""

    entry: AuditEntry
    batch: Batch
    index: int | None = None
    leaf_hash: bytes | None = None
    refused: bool = False  # its transaction failed


class PgAuditLog:
    """A writer of the shared log; thread-safe, and any number of processes may hold one."""

    def __init__(
        self, store: PgStore, signer: NoteSigner, options: LogOptions, directory: Path
    ) -> None:
        self.directory = directory
        self.origin = signer.name
        self._store = store
        self._signer = signer
        self._options = options
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._queue: list[PgPending] = []
        self._batch = self._inflight = Batch()  # the batch queued to, the one committing
        self._closing = False
        self._failed: BaseException | None = None
        self._commits = 0
        self._tree = StoredTree(MemoryLevels())
        self._tree_lock = threading.RLock()
        self._history = PgCheckpoints(store)
        self._last_look = 0.0
        self._opened = time.monotonic()  # the age of a log that has no checkpoint yet
        self._call(lambda: store.create(signer.name, signer.verifier().vkey()))
        directory.mkdir(parents=True, exist_ok=True)
        vkey = (signer.verifier().vkey() + "\n").encode()
        write_atomic(directory / "log.vkey", vkey, mode=0o644)
        self._catch_up(store.size())
        self._check_history()
        self._thread = threading.Thread(target=self._run, name="audit-pg-committer", daemon=True)
        self._thread.start()

    @classmethod
    def open(
        cls,
        url: str,
        signer: NoteSigner,
        options: LogOptions | None = None,
        *,
        directory: Path,
        schema: str | None = None,
    ) -> PgAuditLog:
        """Open (creating the tables if needed) the log in the database at ``url``; this
        process's local files go to ``directory``. Raises LogCorruptError (another key's
        log, or stored leaves that do not match the latest checkpoint), LogUnavailableError
        (the database cannot be reached)."""
        store = PgStore.connect(url, schema)
        try:
            return cls(store, signer, options or LogOptions(), directory)
        except BaseException:
            store.dispose()
            raise

    # -- the public surface (see audit.backend.MerkleLog) --------------------------------

    def server(self) -> int | None:
        """The database cluster the log's entries are committed to (`server_identity`)."""
        return server_identity(self._store.engine)

    @property
    def commits(self) -> int:
        """Number of transactions this process committed entries in."""
        return self._commits

    @property
    def size(self) -> int:
        """Number of durable entries, from every process (reads the head row)."""
        return self._catch_up(self._call(self._store.size))

    def append(self, entry: AuditEntry) -> AppendReceipt:
        """Append ``entry``; return once committed. Raises LogUnavailableError (not
        committed), LogClosedError, EntryError."""
        pending = self.submit(entry)
        pending.batch.wait()
        return self.receipt(pending)

    def submit(self, entry: AuditEntry) -> PgPending:
        """Queue ``entry`` for this process's next transaction without waiting; nothing is
        acknowledged until `receipt`. Raises EntryError at once for an entry that cannot be
        encoded, so it never fails the batch it would have joined."""
        entry.encode(0)
        with self._lock:
            self._check_open()
            pending = PgPending(entry, self._batch)
            self._queue.append(pending)
            self._work.notify()
        return pending

    def receipt(self, pending: PgPending) -> AppendReceipt:
        """The receipt of a submitted entry whose batch is set; LogUnavailableError if its
        transaction failed, LogClosedError if the log closed before it was written."""
        if pending.index is None or pending.leaf_hash is None:
            if pending.refused:
                raise LogUnavailableError(self._store.label)
            raise LogClosedError(self._store.label)
        return AppendReceipt(pending.index, pending.leaf_hash)

    def entry(self, index: int) -> bytes:
        """The exact leaf data of durable entry ``index``; raises OutOfRangeError."""
        if index < 0:
            raise OutOfRangeError(index, 0)
        self._bounded(index + 1)
        return self._call(lambda: list(self._store.payloads(index, index + 1)))[0]

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else self._bounded(size)
        with self._tree_lock:
            return self._tree.root(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) over durable entries (RFC 9162 §2.1.3.1)."""
        size = self.size if size is None else self._bounded(size)
        with self._tree_lock:
            return self._tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[size]) over durable entries (RFC 9162 §2.1.4.1)."""
        size = self.size if size is None else self._bounded(size)
        with self._tree_lock:
            return self._tree.consistency_proof(old_size, size)

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The newest checkpoint any process issued."""
        return self._call(self._history.latest)

    def checkpoints(self) -> PgCheckpoints:
        return self._history

    def checkpoint_now(self) -> SignedCheckpoint | None:
        """Sign a checkpoint of every committed entry (waiting for another signer) and
        return the latest checkpoint."""
        self._check_open()
        self._call(lambda: self._store.issue_checkpoint(self._sign, wait=True))
        return self.latest_checkpoint()

    def reader(self) -> PgLogReader:
        return PgLogReader(self._store, self.directory)

    def snapshot(self) -> Snapshot:
        """The auditor's snapshot of the log up to its latest checkpoint (`audit.verify`)."""
        return snapshot_pg(self._store, self.directory)

    def close(self) -> None:
        """Commit what is queued, checkpoint what is new, release the connections."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._work.notify()
        self._thread.join()
        self._store.dispose()

    def __enter__(self) -> PgAuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the committer thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            while self._step():
                pass
        except BaseException as exc:  # a bug, not a database error: refuse from now on
            with self._lock:
                self._failed = exc
                self._queue = []
                self._inflight.set()  # their receipts raise LogClosedError
                self._batch.set()

    def _step(self) -> bool:
        """Commit one batch, look after checkpoints; False once closed and drained."""
        with self._lock:
            while not (self._queue or self._closing):
                if not self._work.wait(timeout=self._wait_time()):
                    break
            items, self._queue = self._queue, []
            batch = self._inflight = self._batch
            if items:
                self._batch = Batch()
            closing = self._closing
        if items:
            self._commit(items, batch)
        self._look_after_checkpoints(closing)
        return not closing

    def _commit(self, items: list[PgPending], batch: Batch) -> None:
        try:
            start, hashes = self._store.append([pending.entry for pending in items])
        except Exception:  # driver, network, constraint: nothing committed, no index used
            for pending in items:
                pending.refused = True
            batch.set()
            return
        self._commits += 1
        for offset, pending in enumerate(items):
            pending.index, pending.leaf_hash = start + offset, hashes[offset]
        batch.set()  # durable: the answers may leave; the tree follows
        with contextlib.suppress(Exception):  # else caught up from the table at the next read
            self._advance(start, hashes)

    def _advance(self, start: int, hashes: list[bytes]) -> None:
        with self._tree_lock:
            self._catch_up(start)
            have = self._tree.size
            self._tree.extend(hashes[have - start :])

    def _look_after_checkpoints(self, closing: bool) -> None:
        now = time.monotonic()
        if not closing and now - self._last_look < self._wait_time():
            return
        self._last_look = now
        try:
            head, latest, age = self._store.checkpoint_state()
            self._catch_up(head)
            grown = head - (latest or 0)
            age = now - self._opened if age is None else age
            due = grown >= self._options.checkpoint_every or (
                grown > 0 and age >= self._options.checkpoint_interval
            )
            if due or (closing and (grown > 0 or latest is None)):
                self._store.issue_checkpoint(self._sign, wait=closing)
        except Exception:  # the database is away: checkpoint once it is back
            pass

    def _wait_time(self) -> float:
        return max(0.01, min(1.0, self._options.checkpoint_interval / 4))

    # -- the tree ---------------------------------------------------------------------------

    def _catch_up(self, size: int) -> int:
        """Extend the in-memory tree with stored leaf hashes up to ``size``; its size."""
        with self._tree_lock:
            have = self._tree.size
            if size > have:
                self._tree.extend(self._call(lambda: list(self._store.leaf_hashes(have, size))))
            return self._tree.size

    def _sign(self, size: int) -> str:
        with self._tree_lock:
            self._catch_up(size)
            root = self._tree.root(size)
        return Checkpoint(self.origin, size, root).sign(self._signer).render()

    def _check_history(self) -> None:
        latest = self._call(self._history.latest)
        if latest is None:
            return
        cp = latest.checkpoint
        with self._tree_lock:
            if cp.size > self._tree.size or self._tree.root(cp.size) != cp.root:
                reason = f"checkpoint at size {cp.size} does not match the stored entries"
                raise LogCorruptError(self._store.label, cp.size, reason)

    # -- helpers ------------------------------------------------------------------------------

    def _call(self, read: Callable[[], T]) -> T:
        """Run a read; a database error becomes LogUnavailableError (an AuditError)."""
        try:
            return read()
        except (LogCorruptError, CheckpointError, OutOfRangeError):
            raise
        except Exception:
            raise LogUnavailableError(self._store.label) from None

    def _check_open(self) -> None:
        if self._failed is not None or self._closing:
            raise LogClosedError(self._store.label)

    def _bounded(self, size: int) -> int:
        """``size`` if at most the durable size (caught up); else OutOfRangeError."""
        with self._tree_lock:
            known = self._tree.size
        if size > known:
            known = self.size
        if not 0 <= size <= known:
            raise OutOfRangeError(size, known + 1)
        return size
