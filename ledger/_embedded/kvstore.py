"""A py-evm atomic database over SQLite: every atomic batch is one SQLite transaction.

py-evm 0.12 ships only an in-memory database. Its stock ``AtomicDB`` applies a batch key by
key, so a crash between the canonical-head pointer and the transaction index would leave a
head whose transactions cannot be found. Here a batch commits as a single SQLite
transaction (WAL journal), so a killed process leaves the last committed block or the one
before it, never half of one.

Writes made outside a batch (py-evm writes trie nodes while it executes a pending block)
are buffered in memory and committed with the next batch: they only matter once a block
that refers to them is persisted, and that happens in a batch.

:class:`ReadOnlySqliteDB` is the view other processes get while one process owns the chain:
the file opened with ``mode=ro`` (no lock), each request read inside one SQLite read
transaction, so it sees one committed state (WAL snapshot isolation) even while the owner
commits blocks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth.abc import AtomicWriteBatchAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB
from eth.db.diff import DBDiff

from ..errors import LedgerReadOnlyError

_SCHEMA = "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"
_DELETED = None


class SqliteAtomicDB(BaseAtomicDB):
    """Key-value store for one chain. Not thread-safe: callers serialise access."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._conn.execute(_SCHEMA)
        self._unbatched: dict[bytes, bytes | None] = {}

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._unbatched:
            value = self._unbatched[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._unbatched[key] = value

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._unbatched[key] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        with _SqliteWriteBatch._commit_unless_raises(self) as batch:
            yield batch

    def apply(self, diff: DBDiff) -> None:
        """Commit buffered writes and ``diff`` in one SQLite transaction."""
        changes = dict(self._unbatched)
        changes.update(diff.pending_items())
        changes.update(dict.fromkeys(diff.deleted_keys(), _DELETED))
        self._write(changes)
        self._unbatched.clear()

    def flush(self) -> None:
        """Make buffered writes durable (used on close)."""
        self._write(dict(self._unbatched))
        self._unbatched.clear()

    def close(self) -> None:
        self.flush()
        self._conn.close()

    def _write(self, changes: dict[bytes, bytes | None]) -> None:
        upserts = [(k, v) for k, v in changes.items() if v is not None]
        deletes = [(k,) for k, v in changes.items() if v is None]
        with self._conn:  # BEGIN ... COMMIT, or ROLLBACK on error
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", upserts)
            self._conn.executemany("DELETE FROM kv WHERE k = ?", deletes)


class _SqliteWriteBatch(AtomicDBWriteBatch):
    def _commit(self) -> None:
        target = self._write_target_db
        assert isinstance(target, SqliteAtomicDB)
        target.apply(self._diff())


class ReadOnlySqliteDB(SqliteAtomicDB):
    """A read-only view of a chain another process may be writing.

    Call :meth:`snapshot` around each request: reads inside it see one committed state.
    Writes py-evm makes while executing a call stay in memory and are dropped afterwards;
    committing anything raises LedgerReadOnlyError.
    """

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(path)
        uri = f"file:{path}?mode=ro"
        self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        self._unbatched = {}

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")
            self._unbatched.clear()

    def flush(self) -> None:
        self._unbatched.clear()

    def _write(self, changes: dict[bytes, bytes | None]) -> None:
        raise LedgerReadOnlyError("commit a block")
