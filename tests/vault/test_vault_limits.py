"""Ingest limits (rows, columns, expanded bytes) on the CLI's path: checked from the header or
the Parquet footer before any row is read, then Parquet's decoded size, nothing recorded."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner
from vault_builders import RESIDENT_HEADER, id_number, resident, write

from dexin.app import open_vault, vault_config
from dexin.cli import app as dexin_cli
from dexin.keys import key_provider
from dexin.settings import Settings
from vault.errors import ContributionRefused
from vault.ingest import Receipt, ingest_file
from vault.limits import ContributionTooLarge, IngestLimits
from vault.registry import load_registry
from vault.store import Vault

LIMITS = {"DEXIN_MAX_ROWS": "100", "DEXIN_MAX_COLUMNS": "12",
          "DEXIN_MAX_EXPANDED_BYTES": str(4 << 20)}  # fmt: skip


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DEXIN_HOME": str(tmp_path / "home"), "DEXIN_MASTER_KEY": secrets.token_hex(32),
            "DEXIN_AS_OF": "2026-11-01", "DEXIN_MEMORY_LIMIT": "1GB"} | LIMITS  # fmt: skip


@pytest.fixture
def limited(env: dict[str, str]) -> Iterator[Vault]:
    """A vault opened as `dexin vault ingest` opens it, with small limits from the environment."""
    settings = Settings.from_env(env)
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_vault(settings) as v:
        yield v


def _refused(v: Vault, path: Path, table: str = "residents") -> str:
    provider = "public_security" if table == "residents" else "court"
    with pytest.raises(ContributionTooLarge) as info:
        ingest_file(v, provider, table, path)
    assert v.contributions() == []  # nothing recorded: the file was never read
    assert str(info.value.limit) in str(info.value)
    return info.value.reason_code


def _residents(rows: int) -> pa.Table:
    lines = [resident(i, household=i).split(",") for i in range(rows)]
    return pa.table(
        {name: [r[i] for r in lines] for i, name in enumerate(RESIDENT_HEADER.split(","))}
    )


def _destroy_pages(path: Path) -> None:
    """Overwrite everything between the magic number and the footer."""
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8
    data[4 : len(data) - footer] = b"\xff" * (len(data) - footer - 4)
    path.write_bytes(data)


def test_the_environment_sets_the_vault_limits(limited: Vault) -> None:
    assert limited.config.limits == IngestLimits(100, 12, 4 << 20)
    defaults = Settings.from_env({"DEXIN_HOME": "/nowhere"}).gateway
    assert IngestLimits() == IngestLimits(
        defaults.max_rows, defaults.max_columns, defaults.max_expanded_bytes
    )


def test_a_csv_is_refused_by_its_lines_and_header_before_staging(
    limited: Vault, tmp_path: Path
) -> None:
    rows = [resident(i, household=i) for i in range(101)]
    assert _refused(limited, write(tmp_path / "r.csv", RESIDENT_HEADER, rows)) == "too_many_rows"
    wide = RESIDENT_HEADER + "".join(f",x{i}" for i in range(4))
    assert _refused(limited, write(tmp_path / "w.csv", wide, [])) == "too_many_columns"
    big = [resident(i, household=i, registered_on="2010-01-01" + " " * 60_000) for i in range(80)]
    assert (
        _refused(limited, write(tmp_path / "b.csv", RESIDENT_HEADER, big))
        == "too_many_expanded_bytes"
    )
    within = ingest_file(limited, "public_security", "residents",
                         write(tmp_path / "ok.csv", RESIDENT_HEADER, rows[:100]))  # fmt: skip
    assert within.accepted == 100


def test_the_parquet_footer_refuses_before_any_page_is_read(limited: Vault, tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(_residents(101), path, compression="none")
    _destroy_pages(path)
    assert _refused(limited, path) == "too_many_rows"  # had a page been read, it would fail
    wide = _residents(1).append_column("extra", pa.array(["x"]))
    for i in range(12):
        wide = wide.append_column(f"more{i}", pa.array(["x"]))
    pq.write_table(wide, tmp_path / "w.parquet")
    assert _refused(limited, tmp_path / "w.parquet") == "too_many_columns"


def test_a_compression_bomb_is_refused_from_the_footer(limited: Vault, tmp_path: Path) -> None:
    """8 MiB of one repeated byte per column value, zstd: a file of a few KiB."""
    table = _residents(8).set_column(
        8, "registered_on", pa.array(["2010-01-01" + "x" * (1 << 20)] * 8)
    )
    path = tmp_path / "bomb.parquet"
    pq.write_table(table, path, compression="zstd", use_dictionary=False)
    assert path.stat().st_size < 64 << 10
    _destroy_pages(path)  # a refusal that read a page would say "not readable" instead
    assert _refused(limited, path) == "too_many_expanded_bytes"


def test_a_dictionary_bomb_is_refused_by_its_decoded_size(limited: Vault, tmp_path: Path) -> None:
    """One 64 KiB value, dictionary-encoded, in 100 rows: the footer declares ~64 KiB, the
    values decode to 6.4 MiB. Counted by a streaming pass; staged, they would have been
    validated and recorded."""
    table = _residents(100).set_column(8, "registered_on", pa.array(["y" * (64 << 10)] * 100))
    path = tmp_path / "dict.parquet"
    pq.write_table(table, path, compression="zstd", use_dictionary=True)
    meta = pq.ParquetFile(path).metadata
    declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    assert declared < 1 << 20 and path.stat().st_size < 16 << 10  # the footer alone would pass
    started = time.monotonic()
    assert _refused(limited, path) == "too_many_expanded_bytes"  # not staged, not recorded
    assert time.monotonic() - started < 10


def test_a_nested_column_refuses_the_contribution(limited: Vault, tmp_path: Path) -> None:
    table = _residents(2).set_column(8, "registered_on", pa.array([["a"] * 1000, ["b"]]))
    pq.write_table(table, tmp_path / "nested.parquet")
    with pytest.raises(ContributionRefused, match="nested") as info:
        ingest_file(limited, "public_security", "residents", tmp_path / "nested.parquet")
    receipt = info.value.receipt
    assert isinstance(receipt, Receipt) and (receipt.status, receipt.submitted) == ("refused", 2)


def test_limits_passed_in_take_precedence(limited: Vault, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", RESIDENT_HEADER, [resident(i, household=i) for i in range(5)])
    tight = dataclasses.replace(limited.config.limits, max_rows=4)
    with pytest.raises(ContributionTooLarge):
        ingest_file(limited, "public_security", "residents", path, limits=tight)
    assert ingest_file(limited, "public_security", "residents", path).accepted == 5


def test_dexin_vault_ingest_refuses_past_a_limit(env: dict[str, str], tmp_path: Path) -> None:
    settings = Settings.from_env(env)
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    rows = [f"{resident(i, household=i)}" for i in range(101)]
    path = write(tmp_path / "r.csv", RESIDENT_HEADER, rows)
    args = ["vault", "ingest", str(path), "--provider", "public_security", "--table", "residents"]
    result = CliRunner().invoke(dexin_cli, args, env=env)
    assert result.exit_code == 2, result.output
    assert "max_rows" in result.output and id_number(1) not in result.output
