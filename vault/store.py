"""The vault: one encrypted DuckDB database per provider, opened by one process at a time.

Layout under the vault directory (``$DEXIN_HOME/vault``):

- ``keyring.json``: every data key, wrapped by the master key (`vault.keys`);
- ``providers/<provider>.v<N>.duckdb``: a provider's tables (each row with its digest, the
  Merkle leaf), contributions, purge records and the leaves of purged rows, encrypted under
  version N of that provider's data key;
- ``reports/<contribution_id>.csv``: row-level rejection reports (row, column, reason; never values);
- ``tmp/``: DuckDB's spill directory (temp files encrypted);
- ``.lock``: held (flock) by the one process that has the vault open.

DuckDB lets one read-write process hold a database file, and no other process may even read
it meanwhile, so the vault is opened by a single owner: a CLI command for its duration, or
the gateway while it runs. `Vault.open` takes the lock and raises `VaultBusy` otherwise.
Other processes read a published copy instead (``snapshots/``: `Vault.publish_snapshot`,
`Vault.open_snapshot`, `vault.snapshots`).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from audit import write_atomic
from vault import idnumber, windows
from vault.engine import Connection, attach_encrypted, connect
from vault.errors import (
    ContributionNotFound,
    InvalidIdNumber,
    VaultAlreadyInitialised,
    VaultBusy,
    VaultNotInitialised,
)
from vault.keys import KeyProvider, Keyring
from vault.limits import IngestLimits
from vault.pseudonym import pseudonymise
from vault.registry import Registry, Table

PSEUDONYM_KEY = "pseudonym"
DERIVED_KEY = "derived"  # the database of derived tables (features, scores)
DERIVED = "derived"  # its alias
APP_SECRET_PREFIX = "app:"  # secrets the application keeps here, e.g. "app:ledger"


def provider_key_name(provider: str) -> str:
    return f"provider:{provider}"


def alias(provider: str) -> str:
    return f"p_{provider}"


@dataclass(frozen=True)
class VaultConfig:
    """Where the vault lives and how hard DuckDB may work. Built once by the application."""

    root: Path
    memory_limit: str = "3GB"
    threads: int = 2
    as_of: dt.date | None = None  # the day retention is computed against; today if None
    limits: IngestLimits = field(default_factory=IngestLimits)  # per contribution

    @property
    def keyring(self) -> Path:
        return self.root / "keyring.json"

    @property
    def providers_dir(self) -> Path:
        return self.root / "providers"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def temp_dir(self) -> Path:
        return self.root / "tmp"

    def provider_file(self, provider: str, version: int) -> Path:
        return self.providers_dir / f"{provider}.v{version}.duckdb"

    def derived_file(self, version: int) -> Path:
        return self.root / f"derived.v{version}.duckdb"


RECEIPTS_FILE = "receipts.json"
RECEIPT_FIELDS = ("contribution_id", "provider", "table_name", "file_sha256", "submitted",
                  "accepted", "rejected", "status", "merkle_root", "schema_digest",
                  "received_at", "anchor", "origin", "attestation")  # fmt: skip

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS {a}.contributions (
    contribution_id VARCHAR PRIMARY KEY, provider VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, format VARCHAR NOT NULL,
    submitted BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,
    status VARCHAR NOT NULL, refusal VARCHAR, merkle_root VARCHAR NOT NULL,
    schema_digest VARCHAR NOT NULL, received_at VARCHAR NOT NULL, anchor VARCHAR,
    UNIQUE (table_name, file_sha256));
CREATE TABLE IF NOT EXISTS {a}.purged_leaves (
    contribution_id VARCHAR NOT NULL, leaf_index BIGINT NOT NULL, digest BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS {a}.purges (
    purged_at VARCHAR NOT NULL, table_name VARCHAR NOT NULL, contribution_id VARCHAR NOT NULL,
    rows BIGINT NOT NULL, cutoff DATE NOT NULL);
ALTER TABLE {a}.contributions ADD COLUMN IF NOT EXISTS origin VARCHAR;
ALTER TABLE {a}.contributions ADD COLUMN IF NOT EXISTS attestation VARCHAR;
CREATE TABLE IF NOT EXISTS {a}.row_changes (
    table_name VARCHAR NOT NULL, contribution_id VARCHAR NOT NULL, row_no BIGINT NOT NULL,
    change VARCHAR NOT NULL, effective DATE NOT NULL, reference VARCHAR NOT NULL,
    by_contribution VARCHAR, recorded_at VARCHAR NOT NULL);
"""


def table_ddl(a: str, table: Table) -> str:
    columns = ", ".join(f'"{c.stored_name}" {c.sql_type}' for c in table.columns)
    return (
        f"CREATE TABLE IF NOT EXISTS {a}.{table.name} "
        f"(contribution_id VARCHAR NOT NULL, row_no BIGINT NOT NULL, row_digest BLOB NOT NULL, "
        f"{columns})"
    )


class Vault:
    """An open vault. Use `Vault.init` once, then `Vault.open` (a context manager)."""

    def __init__(self, config: VaultConfig, registry: Registry, keyring: Keyring) -> None:
        self.config = config
        self.registry = registry
        self.keyring = keyring
        self._publish_lock = threading.Lock()
        self.con: Connection = connect(config.temp_dir, config.memory_limit, config.threads)
        self.as_of = config.as_of or dt.date.today()

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def init(cls, config: VaultConfig, registry: Registry, provider: KeyProvider) -> None:
        """Create a new, empty vault: a key per provider, the pseudonym key, empty databases."""
        if config.keyring.exists():
            raise VaultAlreadyInitialised(str(config.root))
        config.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for sub in (config.providers_dir, config.reports_dir, config.temp_dir):
            sub.mkdir(exist_ok=True, mode=0o700)
        keyring = Keyring(config.keyring, provider)
        names = (
            PSEUDONYM_KEY,
            DERIVED_KEY,
            f"{APP_SECRET_PREFIX}ledger",
            *(provider_key_name(p.id) for p in registry.providers),
        )
        for name in names:
            keyring.put(keyring.next_key(name)[0])
        keyring.save()  # first: a crash after this leaves a vault that `open` completes
        vault = cls(config, registry, keyring)
        with vault._locked():
            vault._attach_all()
            vault.con.close()

    @classmethod
    @contextmanager
    def open(
        cls, config: VaultConfig, registry: Registry, provider: KeyProvider
    ) -> Iterator[Vault]:
        """Open the vault for this process; `VaultBusy` if another process has it open."""
        if not config.keyring.exists():
            raise VaultNotInitialised(str(config.root))
        keyring = Keyring.load(config.keyring, provider)
        vault = cls(config, registry, keyring)
        with vault._locked():
            try:
                vault._remove_stray_files()
                vault._attach_all()
                vault._create_views()
                vault.publish_receipts()  # heals a file a crash left behind the databases
                yield vault
            finally:
                vault.con.close()

    @classmethod
    @contextmanager
    def open_snapshot(
        cls, config: VaultConfig, registry: Registry, provider: KeyProvider
    ) -> Iterator[Vault]:
        """Open the newest published snapshot read-only, without the owner's lock (any
        number of processes at once, beside the owner); `vault.snapshots` says how."""
        from vault.snapshots import open_snapshot

        with open_snapshot(config, registry, provider) as snapshot:
            yield snapshot

    def publish_snapshot(self) -> int:
        """Publish a read-only, still encrypted copy of this open vault for answer workers
        (`vault.snapshots`); returns the snapshot's number."""
        from vault.snapshots import publish_snapshot

        return publish_snapshot(self)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        path = self.config.root / ".lock"
        with open(path, "a+", encoding="ascii") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise VaultBusy(str(self.config.root)) from None
            lock.seek(0)
            lock.truncate()
            lock.write(str(os.getpid()))
            lock.flush()
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _remove_stray_files(self) -> None:
        """Delete database files of key versions the keyring no longer names (an
        interrupted rotation leaves one behind; the keyring decides which file is current)."""
        current = {self.current_file(p.id).name for p in self.registry.providers}
        current.add(self.derived_file().name)
        for f in [
            *self.config.providers_dir.glob("*.duckdb*"),
            *self.config.root.glob("derived.*"),
        ]:
            base = f.name.removesuffix(".wal")
            if base not in current:
                f.unlink()

    def derived_file(self) -> Path:
        return self.config.derived_file(self.keyring.version(DERIVED_KEY))

    def current_file(self, provider: str) -> Path:
        version = self.keyring.version(provider_key_name(provider))
        return self.config.provider_file(provider, version)

    def _attach_all(self) -> None:
        for p in self.registry.providers:
            self.attach_provider(p.id, self.current_file(p.id), alias(p.id))
        attach_encrypted(self.con, self.derived_file(), DERIVED, self.keyring.unwrap(DERIVED_KEY))

    def attach_provider(self, provider: str, path: Path, a: str, key: bytes | None = None) -> None:
        key = key if key is not None else self.keyring.unwrap(provider_key_name(provider))
        attach_encrypted(self.con, path, a, key)
        self.con.execute(_BOOKKEEPING.format(a=a))
        for t in self.registry.tables_of(provider):
            self.con.execute(table_ddl(a, t))

    # -- read access ----------------------------------------------------------------------

    @property
    def retention_cutoff(self) -> dt.date:
        """Negative rows whose conduct ended before this day are excluded from every use."""
        years = self.registry.retention_years
        try:
            return self.as_of.replace(year=self.as_of.year - years)
        except ValueError:  # 29 February
            return self.as_of.replace(year=self.as_of.year - years, day=28)

    def expired_predicate(self, table: Table) -> str:
        """SQL that is true for a stored row of ``table`` past the retention limit."""
        if table.negative_predicate is None or table.conduct_end is None:
            return "FALSE"
        end = f'"{table.column(table.conduct_end).stored_name}"'
        return f"coalesce(({table.negative_predicate}) AND {end} < DATE '{self.retention_cutoff}', FALSE)"

    def _create_views(self) -> None:
        """``src.<table>``: every provider's rows of a table that count on the as-of day:
        without expired negative rows, nor (`vault.windows`) rows whose publication window
        has ended or that were repaired. ``ended.<table>`` (tables with windows): the rows
        that stopped counting by their window or a repair, still within retention."""
        self.con.execute("CREATE SCHEMA IF NOT EXISTS src")
        self.con.execute("CREATE SCHEMA IF NOT EXISTS ended")
        for t in self.registry.tables:
            cols = ", ".join(f'r."{c.stored_name}"' for c in t.columns)
            parts = [
                f"SELECT '{p}' AS provider, r.contribution_id, r.row_no, {cols} "
                f"FROM {alias(p)}.{t.name} AS r WHERE NOT {self.expired_predicate(t)}"
                f"{windows.counting_filter_sql(alias(p), t, self.as_of)}"
                for p in t.providers
            ]
            self.con.execute(f"CREATE OR REPLACE VIEW src.{t.name} AS {' UNION ALL '.join(parts)}")
            if t.windows:
                ended = [windows.ended_sql(alias(p), p, t, self.expired_predicate(t), self.as_of)
                         for p in t.providers]  # fmt: skip
                self.con.execute(
                    f"CREATE OR REPLACE VIEW ended.{t.name} AS {' UNION ALL '.join(ended)}"
                )

    def query(
        self, sql: str, params: list[Any] | dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run a read-only query over the ``src`` views (the credit model's features use this).

        On its own cursor: a query from another thread (an aggregate, a console page) never
        runs inside, nor takes the result of, whatever the main connection is doing."""
        cur = self.con.cursor()
        try:
            return cur.execute(sql, params or []).fetchall()
        finally:
            cur.close()

    def contributions(self) -> list[dict[str, Any]]:
        """Every provider's contribution records, oldest first (on its own cursor: ingest
        workers call it from their threads)."""
        parts = [f"SELECT * FROM {alias(p.id)}.contributions" for p in self.registry.providers]
        cur = self.con.cursor()
        try:
            res = cur.execute(" UNION ALL ".join(parts) + " ORDER BY received_at, contribution_id")
            names = [d[0] for d in res.description]
            return [dict(zip(names, row, strict=True)) for row in res.fetchall()]
        finally:
            cur.close()

    def publish_receipts(self) -> Path:
        """Write ``receipts.json`` beside the vault: every contribution's public receipt (the
        fields its anchor binds, its status and where it is anchored; no file name, no row),
        replaced atomically. Other processes read it while this one holds the vault, so an
        auditor can check every listed root on the ledger while the gateway runs."""
        with self._publish_lock:
            rows = [{k: c[k] for k in RECEIPT_FIELDS} for c in self.contributions()]
            path = self.config.root / RECEIPTS_FILE
            document = json.dumps({"receipts": rows}, indent=1) + "\n"
            write_atomic(path, document.encode("utf-8"), mode=0o644)
        return path

    def contribution(self, contribution_id: str) -> dict[str, Any] | None:
        return next(
            (c for c in self.contributions() if c["contribution_id"] == contribution_id), None
        )

    # -- derived tables and identifiers ------------------------------------------------------

    def materialise(self, name: str, select_sql: str, key: str | None = None) -> int:
        """Replace derived table ``name`` with the result of ``select_sql`` (run over the
        ``src`` views), with a unique index on ``key`` if given (for point look-ups: building
        it costs about as much as writing a narrow table); returns its row count."""
        self.con.execute(f"CREATE OR REPLACE TABLE {DERIVED}.{name} AS {select_sql}")
        if key is not None:
            self.con.execute(f'CREATE UNIQUE INDEX {name}_{key} ON {DERIVED}.{name} ("{key}")')
        (count,) = self.con.execute(f"SELECT count(*) FROM {DERIVED}.{name}").fetchone() or (0,)
        return int(count)

    def define_view(self, name: str, select_sql: str) -> None:
        """Replace derived view ``name`` with ``select_sql`` (over derived tables): a table
        of that name left by an earlier version is dropped first."""
        (kind,) = self.con.execute(
            "SELECT coalesce(any_value(table_type), '') FROM information_schema.tables "
            "WHERE table_catalog = ? AND table_name = ?",
            [DERIVED, name],
        ).fetchone() or ("",)
        if kind == "BASE TABLE":
            self.con.execute(f"DROP TABLE {DERIVED}.{name}")
        self.con.execute(f"CREATE OR REPLACE VIEW {DERIVED}.{name} AS {select_sql}")

    def lookup(self, name: str, key: str, value: object) -> dict[str, Any] | None:
        """The row of derived table ``name`` whose ``key`` equals ``value`` (an index look-up
        if ``materialise`` built one on ``key``, else a filtered scan)."""
        cur = self.con.cursor()
        try:
            res = cur.execute(f'SELECT * FROM {DERIVED}.{name} WHERE "{key}" = ?', [value])
            row = res.fetchone()
            return (
                None
                if row is None
                else dict(zip([d[0] for d in res.description], row, strict=True))
            )
        finally:
            cur.close()

    def has_derived(self, name: str) -> bool:
        """Whether derived table ``name`` has been materialised."""
        rows = self.query(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
            [DERIVED, name],
        )
        return bool(rows)

    def derived_rows(
        self, name: str, key: str, value: object, order_by: str
    ) -> list[dict[str, Any]]:
        """Every row of derived table ``name`` whose ``key`` equals ``value`` (a scan)."""
        cur = self.con.cursor()
        try:
            res = cur.execute(
                f'SELECT * FROM {DERIVED}.{name} WHERE "{key}" = ? ORDER BY "{order_by}"', [value]
            )
            names = [d[0] for d in res.description]
            return [dict(zip(names, row, strict=True)) for row in res.fetchall()]
        finally:
            cur.close()

    def derived_arrow(self, name: str, columns: list[str], order_by: str) -> pa.Table:
        """Columns of derived table ``name`` as one Arrow table (for a long-running process
        that holds them in memory); `VaultError` subclasses as for any query."""
        cur = self.con.cursor()
        try:
            selected = ", ".join(f'"{c}"' for c in columns)
            result = cur.execute(
                f'SELECT {selected} FROM {DERIVED}.{name} ORDER BY "{order_by}"'
            ).arrow()
        finally:
            cur.close()
        if isinstance(result, pa.RecordBatchReader):  # newer DuckDB returns a reader
            return result.read_all()
        return result

    def subject_pseudonym(self, id_number: str) -> str:
        """The pseudonym under which ``id_number``'s rows are stored (`vault.pseudonym`).

        Raises `InvalidIdNumber` (which never repeats the number) for a malformed number.
        """
        reason = idnumber.problem(id_number)
        if reason is not None:
            raise InvalidIdNumber(reason)
        return pseudonymise(self.keyring.unwrap(PSEUDONYM_KEY), "subject", id_number)

    def app_secret(self, name: str) -> bytes:
        """A random secret kept (wrapped) in this vault's keyring for the application."""
        return self.keyring.unwrap(f"{APP_SECRET_PREFIX}{name}")

    def record_anchor(self, contribution_id: str, anchor: str) -> None:
        """The seam for the ledger: the application anchors a receipt's root and records where."""
        c = self.contribution(contribution_id)
        if c is None:
            raise ContributionNotFound(contribution_id)
        self.con.execute(
            f"UPDATE {alias(c['provider'])}.contributions SET anchor = ? WHERE contribution_id = ?",
            [anchor, contribution_id],
        )
        self.publish_receipts()
