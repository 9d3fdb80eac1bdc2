"""Sealed uploads: ciphertext at rest under a key held in memory, no name on disk, read back
exactly (at any offset), tampering detected, and ingested as a file would be."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from vault_builders import RESIDENT_HEADER, id_number, resident, write

from vault.ingest import ingest_file
from vault.sealed import CHUNK, SealedUpload
from vault.store import Vault


def _open_files_under(directory: Path) -> list[Path]:
    """This process's open files that live (or lived) in ``directory``: /proc/self/fd."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(fd)
    return found


def _sealed(directory: Path, data: bytes, piece: int = 7777) -> SealedUpload:
    upload = SealedUpload(directory, "csv")
    for i in range(0, len(data), piece):
        upload.write(data[i : i + piece])
    upload.seal()
    return upload


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_the_plaintext_reads_back_exactly_at_any_offset(tmp_path: Path, size: int) -> None:
    data = random.Random(size).randbytes(size)
    with _sealed(tmp_path, data) as upload:
        assert (upload.size, upload.sha256) == (size, hashlib.sha256(data).hexdigest())
        with upload.open() as f:
            assert f.read() == data
            for offset in random.Random(1).sample(range(size + 1), min(size + 1, 20)):
                f.seek(offset)
                assert f.read(CHUNK + 3) == data[offset : offset + CHUNK + 3]


def test_at_rest_it_is_ciphertext_without_a_name(tmp_path: Path) -> None:
    marker = id_number(42).encode()
    data = b"".join(marker + b",%d\n" % i for i in range(20_000))
    directory = tmp_path / "uploads"
    with _sealed(directory, data) as upload:
        assert list(directory.iterdir()) == []  # unnamed: a crash leaves nothing to find
        [fd] = _open_files_under(directory)
        at_rest = fd.read_bytes()
        assert len(at_rest) > len(data) and marker not in at_rest
        assert upload.name.endswith(".csv") and marker.decode() not in upload.name
    assert _open_files_under(directory) == []  # closed: the blocks are freed


def test_a_flipped_bit_at_rest_fails_to_decrypt(tmp_path: Path) -> None:
    with _sealed(tmp_path, b"x" * (2 * CHUNK)) as upload:
        [fd] = _open_files_under(tmp_path)
        with open(fd, "r+b") as raw:
            raw.seek(CHUNK + 100)
            byte = raw.read(1)
            raw.seek(CHUNK + 100)
            raw.write(bytes([byte[0] ^ 1]))
        with upload.open() as f, pytest.raises(InvalidTag):
            f.read()


def test_a_closed_upload_cannot_be_read_or_written(tmp_path: Path) -> None:
    upload = _sealed(tmp_path, b"abc")
    with pytest.raises(ValueError):
        upload.write(b"more")  # sealed
    upload.close()
    with pytest.raises(ValueError):
        upload.open().read()


def test_a_sealed_upload_ingests_like_the_file(vault: Vault, tmp_path: Path) -> None:
    rows = [resident(i, household=i) for i in range(50)] + ["not,a,row"]
    path = write(tmp_path / "r.csv", RESIDENT_HEADER, rows)
    with _sealed(tmp_path / "uploads", path.read_bytes()) as upload:
        receipt = ingest_file(vault, "public_security", "residents", upload)
    assert (receipt.accepted, receipt.rejected, receipt.format) == (50, 1, "csv")
    assert receipt.file_name == upload.name  # a random name, never the provider's
    again = ingest_file(vault, "public_security", "residents", path)
    assert again.already_loaded and again.merkle_root == receipt.merkle_root
    assert not any("dexinsealed" in fs for fs in vault.con.list_filesystems())  # gone


def test_a_sealed_parquet_upload_is_read_through_the_seal(vault: Vault, tmp_path: Path) -> None:
    csv_path = write(
        tmp_path / "r.csv", RESIDENT_HEADER, [resident(i, household=i) for i in range(3)]
    )
    parquet = tmp_path / "r.parquet"
    vault.con.execute(
        f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar=true)) TO '{parquet}'"
    )
    upload = SealedUpload(tmp_path / "uploads", "parquet")
    upload.write(parquet.read_bytes())
    upload.seal()
    with upload:
        receipt = ingest_file(vault, "public_security", "residents", upload)
    assert (receipt.format, receipt.submitted, receipt.accepted) == ("parquet", 3, 3)
