"""The read-only snapshot of the vault that answer workers read.

The vault has one owner process (`vault.store`): DuckDB lets one read-write process hold a
database file and no other process may read it meanwhile. So that other processes (the
gateway's answer workers) can score, pseudonymise and count, the owner *publishes* a copy:

- ``snapshots/<n>/``: ``providers/<provider>.v<N>.duckdb``, ``derived.v<N>.duckdb``, the
  ``keyring.json`` of that moment (wrapped keys only) and ``manifest.json``. The files are
  byte copies taken after a ``CHECKPOINT``: they stay encrypted under the same data keys and
  are never decrypted on disk. The directory is staged under a hidden name and renamed into
  place, so a reader sees a whole snapshot or none;
- ``snapshots/current``: the number of the newest snapshot, replaced atomically after the
  rename. The last two snapshots are kept (a reader still on the previous one keeps reading).

A reader opens a snapshot without the owner's lock: every file attached ``READ_ONLY``, so a
write through it raises `VaultReadOnly` (the write methods refuse before DuckDB does, and
DuckDB refuses any statement that would write). `SnapshotReader` follows ``current``: on its
next use after the owner publishes it opens the newer snapshot.

Publishing copies files while the owner holds the vault; writes from other threads of the
owner during a publish are not part of the copy, and a publish is refused when one lands
between the checkpoint and the copy (`SnapshotInconsistent`): publish after ingest or a
score refresh, from the thread that wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, cast

import duckdb

from audit import write_atomic
from vault.engine import Connection, EngineError, connect
from vault.errors import VaultError, WrongKeyError
from vault.keys import KeyProvider, Keyring
from vault.registry import Registry
from vault.store import DERIVED, DERIVED_KEY, Vault, VaultConfig, alias, provider_key_name

__all__ = ["SnapshotInconsistent", "SnapshotMissing", "SnapshotReader", "SnapshotVault",
           "VaultReadOnly", "current_snapshot", "open_snapshot", "publish_snapshot"]  # fmt: skip

SNAPSHOTS = "snapshots"
CURRENT = "current"
MANIFEST = "manifest.json"
KEEP = 2  # snapshots kept: the current one and the one before it


class VaultReadOnly(VaultError):
    """A write was attempted through a read-only snapshot of the vault."""

    advice = "Snapshots are read-only; write through the process that owns the vault."

    def __init__(self, action: str) -> None:
        super().__init__(f"the vault snapshot is read-only: {action} refused")
        self.action = action


class SnapshotMissing(VaultError):
    """No snapshot has been published (or the one named is gone)."""

    advice = "The process that owns the vault publishes a snapshot after ingest or scoring."

    def __init__(self, where: str) -> None:
        super().__init__(f"no published vault snapshot at {where}")
        self.where = where


class SnapshotInconsistent(VaultError):
    """A write landed between the checkpoint and the copy: nothing was published."""

    def __init__(self, name: str) -> None:
        super().__init__(f"database {name} changed while the snapshot was taken; not published")
        self.name = name


def snapshots_dir(config: VaultConfig) -> Path:
    return config.root / SNAPSHOTS


def current_snapshot(config: VaultConfig) -> int | None:
    """The number of the newest published snapshot, or None if none was published."""
    try:
        text = (snapshots_dir(config) / CURRENT).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _numbered(directory: Path) -> list[int]:
    if not directory.is_dir():
        return []
    return sorted(int(p.name) for p in directory.iterdir() if p.is_dir() and p.name.isdigit())


_publishing = threading.Lock()  # one publish at a time in the owner process


def _copy(source: Path, target: Path) -> None:
    wal = source.with_name(source.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise SnapshotInconsistent(source.name)
    before = source.stat()
    shutil.copyfile(source, target)
    after = source.stat()
    if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size):
        raise SnapshotInconsistent(source.name)
    with open(target, "rb") as f:
        os.fsync(f.fileno())


def publish_snapshot(vault: Vault) -> int:
    """Checkpoint every database of the open ``vault`` and publish a copy as the next
    snapshot; returns its number. Only the owner (the process holding `Vault.open`) calls it."""
    if isinstance(vault, SnapshotVault):
        raise VaultReadOnly("publishing a snapshot")
    config = vault.config
    base = snapshots_dir(config)
    with _publishing:
        base.mkdir(exist_ok=True, mode=0o700)
        number = max([current_snapshot(config) or 0, *_numbered(base)]) + 1
        staging = base / f".{number}.staging-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        (staging / "providers").mkdir(parents=True, mode=0o700)
        try:
            files: dict[str, str] = {}
            for p in vault.registry.providers:
                vault.con.execute(f"CHECKPOINT {alias(p.id)}")
                source = vault.current_file(p.id)
                _copy(source, staging / "providers" / source.name)
                files[p.id] = f"providers/{source.name}"
            vault.con.execute(f"CHECKPOINT {DERIVED}")
            derived = vault.derived_file()
            _copy(derived, staging / derived.name)
            shutil.copyfile(config.keyring, staging / "keyring.json")  # wrapped keys only
            os.chmod(staging / "keyring.json", 0o600)
            manifest = {
                "format": 1,
                "number": number,
                "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "as_of": vault.as_of.isoformat(),
                "providers": files,
                "derived": derived.name,
            }
            write_atomic(staging / MANIFEST, json.dumps(manifest, indent=1).encode(), mode=0o600)
            os.rename(staging, base / str(number))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        write_atomic(base / CURRENT, f"{number}\n".encode("ascii"), mode=0o644)
        for old in _numbered(base)[:-KEEP]:
            shutil.rmtree(base / str(old), ignore_errors=True)
    return number


def _attach_read_only(con: duckdb.DuckDBPyConnection, path: Path, name: str, key: bytes) -> None:
    if not path.exists():
        raise SnapshotMissing(str(path.parent))
    try:
        con.execute(f"ATTACH '{path}' AS {name} (ENCRYPTION_KEY '{key.hex()}', READ_ONLY)")
    except duckdb.Error as exc:
        text = str(exc).lower()
        if "encryption key" in text or "without a key" in text or "encrypted" in text:
            raise WrongKeyError(f"database {path.name}") from None
        raise EngineError(f"opening {path.name}", type(exc).__name__) from None


def _refused(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.InvalidInputException) and "read-only mode" in str(exc)


class _ReadOnlyConnection:
    """The snapshot's connection: DuckDB's refusal to write a ``READ_ONLY`` database becomes
    `VaultReadOnly` (for code that writes through ``vault.con`` itself: ingest, repairs,
    retention); everything else is DuckDB's connection unchanged."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def cursor(self) -> _ReadOnlyConnection:
        return _ReadOnlyConnection(self._con.cursor())

    def execute(self, query: object, parameters: object = None) -> _ReadOnlyConnection:
        return self._run(self._con.execute, query, parameters)

    def executemany(self, query: object, parameters: object = None) -> _ReadOnlyConnection:
        return self._run(self._con.executemany, query, parameters)

    def _run(self, call: Any, query: object, parameters: object) -> _ReadOnlyConnection:
        """``call`` (execute or executemany); DuckDB's read-only refusal as `VaultReadOnly`."""
        try:
            call(query, parameters)
        except duckdb.Error as exc:
            if _refused(exc):
                raise VaultReadOnly("a statement that writes") from None
            raise
        return self


@dataclass(frozen=True)
class _SnapshotConfig(VaultConfig):
    """The live vault's configuration, but nothing is written beside it: only ingest writes
    rejection reports, and it must not leave one in the owner's directory before its INSERT
    is refused."""

    @property
    def reports_dir(self) -> Path:
        raise VaultReadOnly("writing a rejection report")


class SnapshotVault(Vault):
    """A published snapshot opened read-only: the read methods of `Vault` work (queries over
    the ``src`` views, derived tables, pseudonyms, statistics); every write is refused."""

    def __init__(
        self, config: VaultConfig, registry: Registry, keyring: Keyring, directory: Path
    ) -> None:
        self.directory = directory
        self.number = int(directory.name)
        self.manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text("utf-8"))
        self.config = _SnapshotConfig(**{f.name: getattr(config, f.name) for f in fields(config)})
        self.registry = registry
        self.keyring = keyring
        self._publish_lock = threading.Lock()
        # a temp directory of this process: DuckDB names its spill files alike in every process
        self.temp_dir = config.temp_dir / f"reader-{os.getpid()}-{self.number}"
        self._raw = connect(self.temp_dir, config.memory_limit, config.threads)
        self.con = cast(Connection, _ReadOnlyConnection(self._raw))
        self.as_of = config.as_of or dt.date.today()

    def _attach_all(self) -> None:
        providers: dict[str, str] = self.manifest["providers"]
        for p in self.registry.providers:
            if p.id not in providers:
                raise SnapshotMissing(f"{self.directory.name} (provider {p.id})")
            key = self.keyring.unwrap(provider_key_name(p.id))
            _attach_read_only(self._raw, self.directory / providers[p.id], alias(p.id), key)
        key = self.keyring.unwrap(DERIVED_KEY)
        _attach_read_only(self._raw, self.directory / self.manifest["derived"], DERIVED, key)

    # every write of `Vault` is refused before it reaches DuckDB
    def attach_provider(self, provider: str, path: Path, a: str, key: bytes | None = None) -> None:
        raise VaultReadOnly("attaching a database")

    def publish_receipts(self) -> Path:
        raise VaultReadOnly("publishing receipts")

    def materialise(self, name: str, select_sql: str, key: str | None = None) -> int:
        raise VaultReadOnly("materialising a derived table")

    def define_view(self, name: str, select_sql: str) -> None:
        raise VaultReadOnly("defining a derived view")

    def record_anchor(self, contribution_id: str, anchor: str) -> None:
        raise VaultReadOnly("recording an anchor")


@contextmanager
def open_snapshot(
    config: VaultConfig, registry: Registry, provider: KeyProvider, number: int | None = None
) -> Iterator[SnapshotVault]:
    """Open snapshot ``number`` (default: the current one) read-only, without the owner's
    lock; `SnapshotMissing` if none is published (or it has been removed)."""
    number = current_snapshot(config) if number is None else number
    if number is None:
        raise SnapshotMissing(str(snapshots_dir(config)))
    directory = snapshots_dir(config) / str(number)
    try:
        keyring = Keyring.load(directory / "keyring.json", provider)
        vault = SnapshotVault(config, registry, keyring, directory)
    except (FileNotFoundError, VaultError) as exc:
        if isinstance(exc, WrongKeyError):
            raise
        raise SnapshotMissing(str(directory)) from None
    try:
        vault._attach_all()
        vault._create_views()
        yield vault
    finally:
        vault._raw.close()
        shutil.rmtree(vault.temp_dir, ignore_errors=True)


class SnapshotReader:
    """A worker's handle on the newest snapshot: `vault()` returns the open snapshot, and
    opens the newer one first when the owner has published since. The snapshot before is
    kept open until the next switch (a query another thread began on it can finish)."""

    def __init__(self, config: VaultConfig, registry: Registry, provider: KeyProvider) -> None:
        self.config = config
        self.registry = registry
        self.provider = provider
        self._lock = threading.Lock()
        self._open: list[tuple[ExitStack, SnapshotVault]] = []
        self._seen: tuple[tuple[int, ...], int | None] | None = None  # CURRENT's stat, its number

    def __enter__(self) -> SnapshotReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def number(self) -> int | None:
        """The number of the snapshot `vault()` last returned."""
        return self._open[-1][1].number if self._open else None

    def vault(self) -> SnapshotVault:
        with self._lock:
            newest = self._newest()
            if self._open and (newest is None or newest == self._open[-1][1].number):
                return self._open[-1][1]
            stack = ExitStack()
            try:
                snapshot = stack.enter_context(
                    open_snapshot(self.config, self.registry, self.provider, newest)
                )
            except BaseException:
                stack.close()
                raise
            self._open.append((stack, snapshot))
            while len(self._open) > KEEP:
                self._open.pop(0)[0].close()
            return snapshot

    def _newest(self) -> int | None:
        """`current_snapshot`, read again only when ``CURRENT``'s stat changed: every
        attribute an answer reads from the vault asks (`dexin.app._FollowingSnapshot`), and
        a stat is a tenth of an open and a read. A publish renames a new file over it (a new
        inode, a new change time)."""
        try:
            st = (snapshots_dir(self.config) / CURRENT).stat()
            stamp: tuple[int, ...] = (
                st.st_ino,
                st.st_dev,
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
            )
        except FileNotFoundError:
            stamp = ()
        if self._seen is not None and self._seen[0] == stamp:
            return self._seen[1]
        number = current_snapshot(self.config)
        self._seen = (stamp, number)
        return number

    def close(self) -> None:
        with self._lock:
            while self._open:
                self._open.pop()[0].close()
