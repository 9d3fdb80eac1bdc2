"""The PostgreSQL tables of the shared audit log, and every statement run on them.

Three tables (in the connection's search path, so tests isolate a run in its own schema)::

    audit_tree_head    one row (id 0): size, the number of sequenced entries; origin and
                       vkey of the log key, so a worker holding another key cannot sign
    audit_entries      idx (primary key), payload (the exact leaf data), leaf_hash
    audit_checkpoints  size (primary key), note (the signed checkpoint), created_at

Sequencing follows the integrated design of Tessera's MySQL driver rather than Trillian's
queue-then-sequence one: a batch takes the tree-head row ``FOR UPDATE``, numbers its entries
from the head's size, inserts them and moves the head, all in one transaction. Indexes are
therefore contiguous and unique across any number of writer processes, and a transaction that
fails or whose process dies leaves neither rows nor a hole. Trillian's separate sequencer
would acknowledge an entry before its index exists; here the entry's bytes embed its index
(the leaf is its RFC 8785 encoding with ``index``), so the index is assigned at commit.

``synchronous_commit`` is forced on for the append transaction: a server configured with
it off would otherwise acknowledge an entry that a crash can still lose.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import InvalidatePoolError

from audit.entry import AuditEntry
from audit.errors import LogCorruptError
from audit.merkle import leaf_hash

__all__ = ["CheckpointState", "PgStore", "drop_closed_connections", "engine_url", "server_identity"]

CheckpointState = tuple[int, int | None, float | None]
"""``(head size, latest checkpoint size or None, seconds since it was stored or None)``."""

_CHUNK = 50_000

_TABLES = """
CREATE TABLE IF NOT EXISTS audit_tree_head (
    id smallint PRIMARY KEY CHECK (id = 0),
    size bigint NOT NULL CHECK (size >= 0),
    origin text NOT NULL,
    vkey text NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_entries (
    idx bigint PRIMARY KEY CHECK (idx >= 0),
    payload bytea NOT NULL,
    leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    size bigint PRIMARY KEY CHECK (size >= 0),
    note text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

# One round trip each: lock the head (forcing synchronous_commit for this transaction), then
# insert the batch and move the head.
_LOCK_HEAD = text(
    "SELECT size, set_config('synchronous_commit', 'on', true) "
    "FROM audit_tree_head WHERE id = 0 FOR UPDATE"
)
_INSERT = text(
    "WITH batch AS (INSERT INTO audit_entries (idx, payload, leaf_hash) SELECT * FROM unnest("
    "CAST(:idx AS bigint[]), CAST(:payload AS bytea[]), CAST(:leaf AS bytea[]))) "
    "UPDATE audit_tree_head SET size = :size WHERE id = 0"
)
# One key per schema: two test runs in one database do not wait on each other.
_LOCK = "hashtext(current_schema() || '.dexin-audit-{}')"


def engine_url(url: str) -> str:
    """``postgresql://…`` with the psycopg (3) driver named, as SQLAlchemy needs it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def drop_closed_connections(engine: Engine) -> Engine:
    """Check each pooled connection as it is taken, without a round trip: a live idle
    connection has nothing to read. A server that restarted or ended the session has sent
    it an error and closed it: every pooled connection is then dropped and new ones opened,
    so the first statement after a restart does not fail. SQLAlchemy's pre-ping does the
    same with a query, a round trip more for every statement on the answer path (a tenth of
    a worker's event loop, py-spy). Nothing here LISTENs, so nothing else arrives unasked;
    a connection that dies between the check and its statement still fails the statement,
    as it would after a ping."""

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed:
            raise InvalidatePoolError("the connection is closed")
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
        if readable:
            raise InvalidatePoolError("the server sent an idle connection something (a restart)")

    return engine


def server_identity(engine: Engine) -> int | None:
    """The database cluster ``engine`` writes to (``pg_control_system().system_identifier``:
    one write-ahead log per value); None when it cannot be read (then nothing may be assumed
    about two engines sharing a log)."""
    try:
        with engine.connect() as conn:
            value = conn.execute(text("SELECT system_identifier FROM pg_control_system()")).scalar()
    except Exception:  # a permission or a server without the function: assume nothing
        return None
    return None if value is None else int(value)


class PgStore:
    """Statements on the log's tables; every method runs its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        url = engine.url
        self.label = f"postgresql://{url.host or ''}/{url.database or ''}"  # no credentials

    @classmethod
    def connect(cls, url: str, schema: str | None = None) -> PgStore:
        """A store on its own small pool; ``schema`` sets the search path (tests)."""
        args: dict[str, Any] = {"options": f"-csearch_path={schema}"} if schema else {}
        engine = create_engine(engine_url(url), connect_args=args, pool_size=4, max_overflow=8)
        drop_closed_connections(engine)
        return cls(engine)

    def create(self, origin: str, vkey: str) -> None:
        """Create the tables and the head row if absent; raises LogCorruptError if the log in
        this database belongs to another origin or key."""
        with self.engine.begin() as conn:
            conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK.format('create')})"))
            conn.exec_driver_sql(_TABLES)
            conn.execute(
                text("INSERT INTO audit_tree_head VALUES (0, 0, :origin, :vkey) "
                     "ON CONFLICT (id) DO NOTHING"), {"origin": origin, "vkey": vkey},
            )  # fmt: skip
            row = conn.execute(text("SELECT origin, vkey FROM audit_tree_head")).one()
        if (row.origin, row.vkey) != (origin, vkey):
            raise LogCorruptError(self.label, 0, "the log here was created with another key")

    def append(self, entries: Sequence[AuditEntry]) -> tuple[int, list[bytes]]:
        """Sequence and commit ``entries`` in one transaction; return the first index and
        the leaf hashes. Raises what the driver raises (nothing is then committed)."""
        with self.engine.begin() as conn:
            start = int(conn.execute(_LOCK_HEAD).one()[0])
            payloads = [entry.encode(start + i) for i, entry in enumerate(entries)]
            hashes = [leaf_hash(payload) for payload in payloads]
            end = start + len(entries)
            rows = {"idx": list(range(start, end)), "payload": payloads, "leaf": hashes}
            conn.execute(_INSERT, rows | {"size": end})
        return start, hashes

    def size(self) -> int:
        """The number of committed entries."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT size FROM audit_tree_head")).scalar_one())

    def vkey(self) -> str:
        """The verifier key of the log's signing key, as the head row records it."""
        with self.engine.connect() as conn:
            return str(conn.execute(text("SELECT vkey FROM audit_tree_head")).scalar_one())

    def leaf_hashes(self, lo: int, hi: int) -> Iterator[bytes]:
        """The stored leaf hashes of entries ``[lo, hi)``, in order; raises LogCorruptError
        if one is missing (a hole the sequencing cannot leave)."""
        for start in range(lo, hi, _CHUNK):
            stop = min(start + _CHUNK, hi)
            rows = self._rows("SELECT leaf_hash FROM audit_entries", start, stop)
            if len(rows) != stop - start:
                raise LogCorruptError(self.label, start, "an entry below the head is missing")
            yield from (bytes(row[0]) for row in rows)

    def payloads(self, lo: int, hi: int) -> Iterator[bytes]:
        """The leaf data of entries ``[lo, hi)``, in order (LogCorruptError on a hole)."""
        for start in range(lo, hi, _CHUNK // 10):
            stop = min(start + _CHUNK // 10, hi)
            rows = self._rows("SELECT payload FROM audit_entries", start, stop)
            if len(rows) != stop - start:
                raise LogCorruptError(self.label, start, "an entry below the head is missing")
            yield from (bytes(row[0]) for row in rows)

    def _rows(self, select: str, lo: int, hi: int) -> list[Any]:
        query = text(f"{select} WHERE idx >= :lo AND idx < :hi ORDER BY idx")
        with self.engine.connect() as conn:
            return list(conn.execute(query, {"lo": lo, "hi": hi}).all())

    # -- checkpoints -----------------------------------------------------------------------

    def checkpoint_state(self) -> CheckpointState:
        with self.engine.connect() as conn:
            row = conn.execute(
                text("SELECT (SELECT size FROM audit_tree_head), c.size, "
                     "extract(epoch FROM now() - c.created_at) FROM (SELECT 1) AS one "
                     "LEFT JOIN (SELECT size, created_at FROM audit_checkpoints "
                     "ORDER BY size DESC LIMIT 1) AS c ON true")
            ).one()  # fmt: skip
        age = None if row[2] is None else float(row[2])
        return int(row[0]), row[1], age

    def checkpoint_sizes(self) -> list[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT size FROM audit_checkpoints ORDER BY size"))
            return [int(row[0]) for row in rows]

    def checkpoint_note(self, size: int | None) -> str | None:
        """The note of checkpoint ``size`` (the latest if None), or None."""
        query = "SELECT note FROM audit_checkpoints "
        query += "ORDER BY size DESC LIMIT 1" if size is None else "WHERE size = :size"
        with self.engine.connect() as conn:
            note = conn.execute(text(query), {"size": size}).scalar_one_or_none()
        return None if note is None else str(note)

    def notes(self, up_to: int) -> dict[int, str]:
        """Every checkpoint note of a size up to ``up_to``."""
        query = text("SELECT size, note FROM audit_checkpoints WHERE size <= :n ORDER BY size")
        with self.engine.connect() as conn:
            return {int(r[0]): str(r[1]) for r in conn.execute(query, {"n": up_to})}

    def issue_checkpoint(self, sign: Callable[[int], str], *, wait: bool) -> bool:
        """Sign the committed head (``sign(size) -> note``) and store it, unless a checkpoint
        of that size or larger exists. One signer at a time (an advisory lock): with
        ``wait`` False, return False at once if another process is signing."""
        with self.engine.begin() as conn:
            if not self._checkpoint_lock(conn, wait):
                return False
            size = conn.execute(text("SELECT size FROM audit_tree_head")).scalar_one()
            latest = conn.execute(text("SELECT max(size) FROM audit_checkpoints")).scalar()
            if latest is not None and latest >= size:
                return True
            conn.execute(
                text("INSERT INTO audit_checkpoints (size, note) VALUES (:size, :note)"),
                {"size": size, "note": sign(size)},
            )
        return True

    def _checkpoint_lock(self, conn: Connection, wait: bool) -> bool:
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        found = conn.execute(text(f"SELECT {function}({_LOCK.format('checkpoint')})")).scalar()
        return wait or bool(found)

    def dispose(self) -> None:
        self.engine.dispose()
