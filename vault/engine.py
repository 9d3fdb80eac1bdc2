"""DuckDB connections for the vault: encryption on, temp files encrypted, OpenSSL loaded.

Writing an encrypted DuckDB database needs the httpfs extension's OpenSSL (without it DuckDB
refuses to write, and the only alternative, ``force_mbedtls_unsafe``, is never used here).
Extensions cannot be downloaded on our machines, so the extension is loaded from the PyPI
wheel ``duckdb-extension-httpfs``, pinned to the same version as ``duckdb``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import duckdb_extension_httpfs

from vault.errors import VaultError, WrongKeyError

Connection = duckdb.DuckDBPyConnection
DuckDBError = duckdb.Error


class EngineError(VaultError):
    """DuckDB failed; the message is fixed because DuckDB's own may quote row data."""

    def __init__(self, action: str, kind: str) -> None:
        super().__init__(f"the vault's database engine failed while {action} ({kind})")
        self.action = action
        self.kind = kind


def httpfs_extension_path() -> Path:
    base = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if not path.exists():
        raise EngineError(
            "loading the httpfs extension", f"missing for DuckDB {duckdb.__version__}"
        )
    return path


def connect(temp_dir: Path, memory_limit: str, threads: int) -> Connection:
    """An in-memory DuckDB connection ready to attach encrypted databases."""
    temp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    con = duckdb.connect(
        ":memory:",
        config={
            "temp_directory": str(temp_dir),
            "memory_limit": memory_limit,
            "threads": threads,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    con.execute(f"LOAD '{httpfs_extension_path()}'")
    con.execute("SET temp_file_encryption = true")
    return con


def attach_encrypted(con: Connection, path: Path, alias: str, key: bytes) -> None:
    """Attach an encrypted database file (created if missing); a wrong key raises `WrongKeyError`."""
    try:
        con.execute(f"ATTACH '{path}' AS {alias} (ENCRYPTION_KEY '{key.hex()}')")
    except duckdb.Error as exc:
        text = str(exc).lower()
        if "encryption key" in text or "without a key" in text or "encrypted" in text:
            raise WrongKeyError(f"database {path.name}") from None
        raise EngineError(f"opening {path.name}", type(exc).__name__) from None
