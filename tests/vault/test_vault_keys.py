"""Encryption at rest, keys, rotation: no plaintext on disk, wrong keys fail clearly."""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from vault_builders import RESIDENT_HEADER, id_number, resident, write

from dexin.app import open_vault, vault_config
from dexin.keys import ensure_master_key, key_provider, rotate_master_key
from dexin.settings import Settings
from vault.engine import attach_encrypted, connect
from vault.errors import (
    KeyFilePermissionsError,
    MasterKeyInvalid,
    MasterKeyMissing,
    VaultBusy,
    WrongKeyError,
)
from vault.ingest import ingest_file
from vault.registry import load_registry
from vault.rotation import rotate_provider_key
from vault.store import Vault


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix != ".csv"]


def _load_sample(v: Vault, tmp_path: Path, n: int = 400) -> list[str]:
    rows = [resident(i, year=1950 + i % 50, household=i // 3) for i in range(n)]
    ingest_file(v, "public_security", "residents", write(tmp_path / "r.csv", RESIDENT_HEADER, rows))
    return [id_number(i, 1950 + i % 50) for i in range(n)]


def test_no_plaintext_identifier_or_value_in_any_vault_file(
    settings: Settings, tmp_path: Path
) -> None:
    small = replace(settings, memory_limit="64MB")  # small enough that DuckDB spills to tmp/
    Vault.init(vault_config(small), load_registry(), key_provider(small))
    with open_vault(small) as v:
        ids = _load_sample(v, tmp_path, 3000)
        v.con.execute(
            "CREATE TEMP TABLE spill AS SELECT range AS i, 'T01V001G01' || range AS g "
            "FROM range(3000000) ORDER BY random()"
        )
        assert any(p.name.endswith(".wal") for p in _files(small.vault_dir)), "expected a WAL"
        spilled = _files(small.vault_dir / "tmp")
        assert spilled, "the test meant DuckDB to spill to its temp directory"
        on_disk_now = b"".join(p.read_bytes() for p in _files(small.vault_dir))
    on_disk = on_disk_now + b"".join(p.read_bytes() for p in _files(small.vault_dir))
    assert len(on_disk) > 100_000
    for needle in [*ids[::97], "T01V001G01", "H000000001", "registered_on"]:
        assert needle.encode() not in on_disk, needle


def test_only_one_owner_may_open_the_vault(settings: Settings, vault: Vault) -> None:
    del vault  # the fixture holds the vault open
    with pytest.raises(VaultBusy), open_vault(settings):
        pass


def test_wrong_and_missing_keys(settings: Settings) -> None:
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with (
        pytest.raises(WrongKeyError),
        open_vault(replace(settings, master_key_hex=secrets.token_hex(32))),
    ):
        pass
    with pytest.raises(MasterKeyMissing), open_vault(replace(settings, master_key_hex=None)):
        pass
    with pytest.raises(MasterKeyInvalid), open_vault(replace(settings, master_key_hex="abc")):
        pass


def test_a_provider_database_does_not_open_without_its_key(
    settings: Settings, tmp_path: Path
) -> None:
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    path = next((settings.vault_dir / "providers").glob("court.v1.duckdb"))
    con = duckdb.connect()
    with pytest.raises(duckdb.Error):
        con.execute(f"ATTACH '{path}' AS x")
    con2 = connect(tmp_path / "t", "256MB", 1)
    with pytest.raises(WrongKeyError):
        attach_encrypted(con2, path, "x", secrets.token_bytes(32))


def test_key_file_is_created_0600_and_a_readable_one_is_refused(tmp_path: Path) -> None:
    settings = Settings.from_env({"DEXIN_HOME": str(tmp_path / "h")})
    _, created = ensure_master_key(settings)
    assert created == settings.master_key_file
    assert (os.stat(created).st_mode & 0o777) == 0o600
    assert settings.vault_dir not in created.parents
    os.chmod(created, 0o644)
    with pytest.raises(KeyFilePermissionsError):
        key_provider(settings)


def test_rotating_a_provider_key_keeps_every_row_and_retires_the_old_key(
    settings: Settings, tmp_path: Path
) -> None:
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_vault(settings) as v:
        _load_sample(v, tmp_path, 50)
        before = v.query("SELECT * FROM src.residents ORDER BY row_no")
        old_file = v.current_file("public_security")
        old_key = v.keyring.unwrap("provider:public_security")
        assert rotate_provider_key(v, "public_security") == 2
        assert v.query("SELECT * FROM src.residents ORDER BY row_no") == before
        new_file = v.current_file("public_security")
    assert not old_file.exists() and new_file.exists()
    con = connect(tmp_path / "t", "256MB", 1)
    with pytest.raises(WrongKeyError):
        attach_encrypted(con, new_file, "x", old_key)
    with open_vault(settings) as v:
        assert v.query("SELECT * FROM src.residents ORDER BY row_no") == before


def test_an_interrupted_rotation_leaves_the_vault_usable(
    settings: Settings, tmp_path: Path
) -> None:
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    stray = settings.vault_dir / "providers" / "court.v2.duckdb"
    stray.write_bytes(b"half-written copy")
    with open_vault(settings) as v:
        assert not stray.exists()
        assert v.current_file("court").name == "court.v1.duckdb"


def test_rotating_the_master_key_rewraps_every_data_key(tmp_path: Path) -> None:
    settings = Settings.from_env({"DEXIN_HOME": str(tmp_path / "h"), "DEXIN_AS_OF": "2026-11-01"})
    provider, _ = ensure_master_key(settings)
    Vault.init(vault_config(settings), load_registry(), provider)
    old_hex = settings.master_key_file.read_text().strip()
    with open_vault(settings) as v:
        _load_sample(v, tmp_path, 20)
        rotate_master_key(settings, v.keyring)
    assert settings.master_key_file.read_text().strip() != old_hex
    with open_vault(settings) as v:
        assert v.query("SELECT count(*) FROM src.residents")[0][0] == 20
    with pytest.raises(WrongKeyError), open_vault(replace(settings, master_key_hex=old_hex)):
        pass
