"""Key rotation without losing a row.

Rotating a provider's data key re-encrypts its database: a new key version is made, the
database is copied into a new file under the new key and checked row for row, then the
keyring switches to the new version (the commit point, an atomic file replace) and the old
file is deleted. Afterwards the old key opens nothing: no file under it remains. A crash
before the commit point leaves the old version current; after it, the new one; `Vault.open`
deletes whichever file the keyring does not name.

Rotating the master key re-wraps every data key under a new master key; the data files
are untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vault.engine import attach_encrypted
from vault.errors import VaultError
from vault.keys import KeyProvider, Keyring
from vault.store import DERIVED, DERIVED_KEY, Vault, alias, provider_key_name

_NEW = "rotating"


def _table_counts(vault: Vault, a: str) -> dict[str, int]:
    rows = vault.query("SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [a])
    return {name: vault.query(f"SELECT count(*) FROM {a}.{name}")[0][0] for (name,) in rows}


class RotationCheckFailed(VaultError):
    def __init__(self, key_name: str) -> None:
        super().__init__(f"rotation of {key_name}: the copy does not match; nothing was changed")
        self.key_name = key_name


def rotate_provider_key(vault: Vault, provider: str) -> int:
    """Re-encrypt ``provider``'s database under a new data key; returns the new version."""
    vault.registry.provider(provider)
    return _rotate(
        vault,
        provider_key_name(provider),
        alias(provider),
        vault.current_file(provider),
        lambda v: vault.config.provider_file(provider, v),
    )


def rotate_derived_key(vault: Vault) -> int:
    """Re-encrypt the derived tables' database under a new key; returns the new version."""
    return _rotate(vault, DERIVED_KEY, DERIVED, vault.derived_file(), vault.config.derived_file)


def _rotate(
    vault: Vault, name: str, src: str, old_file: Path, file_of: Callable[[int], Path]
) -> int:
    entry, key = vault.keyring.next_key(name)
    new_file = file_of(entry.version)
    new_file.unlink(missing_ok=True)
    attach_encrypted(vault.con, new_file, _NEW, key)
    vault.con.execute(f"COPY FROM DATABASE {src} TO {_NEW}")
    same = _table_counts(vault, src) == _table_counts(vault, _NEW)
    vault.con.execute(f"DETACH {_NEW}")
    if not same:
        new_file.unlink()
        raise RotationCheckFailed(name)
    vault.con.execute(f"DETACH {src}")
    vault.keyring.put(entry)
    vault.keyring.save()  # the commit point
    for f in (old_file, old_file.with_name(old_file.name + ".wal")):
        f.unlink(missing_ok=True)
    attach_encrypted(vault.con, new_file, src, key)
    return entry.version


def rotate_master_key(keyring: Keyring, new_provider: KeyProvider) -> Keyring:
    """Re-wrap every data key under ``new_provider``; the caller persists the new master key
    first and then calls `Keyring.save` on the result."""
    return keyring.rewrap(new_provider)
