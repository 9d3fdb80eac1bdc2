"""`audit.write_atomic`, the one atomic file writer: content, exact mode, replace semantics,
a durable rename (the directory is fsynced after it), and all-or-nothing under ``kill -9``."""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit import write_atomic

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def umask() -> Iterator[None]:
    """Run with the most permissive umask, so only ``mode`` can make a file private."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o640])
def test_the_file_has_the_data_and_exactly_the_mode_asked(
    tmp_path: Path, umask: None, mode: int
) -> None:
    path = tmp_path / "keyring.json"
    write_atomic(path, b'{"keys": {}}', mode=mode)
    assert path.read_bytes() == b'{"keys": {}}'
    assert stat.S_IMODE(path.stat().st_mode) == mode
    os.umask(0o077)
    write_atomic(path, b"again", mode=0o644)  # a restrictive umask does not decide either
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_it_replaces_the_file_rather_than_rewriting_it_in_place(tmp_path: Path) -> None:
    path = tmp_path / "receipts.json"
    write_atomic(path, b"old", mode=0o644)
    with path.open("rb") as reader:  # a reader that opened the old file keeps the old bytes
        write_atomic(path, b"new and longer", mode=0o644)
        assert reader.read() == b"old"
    assert path.read_bytes() == b"new and longer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["receipts.json"]  # no temp file left


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    write_atomic(path, b"old", mode=0o600)
    with pytest.raises(TypeError):
        write_atomic(path, "not bytes", mode=0o600)  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.json"]
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing" / "x.json", b"x", mode=0o644)


def test_the_directory_is_fsynced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_atomic(tmp_path / "signing-keys.json", b"{}", mode=0o644)
    assert events == ["fsync file", "replace", "fsync dir"]


_WRITER = """
import sys
from pathlib import Path
from audit import write_atomic
path, a, b = Path(sys.argv[1]), b"A" * 1_000_000, b"B" * 2_000_000
write_atomic(path, a, mode=0o600)
print("ready", flush=True)
while True:
    write_atomic(path, b, mode=0o600)
    write_atomic(path, a, mode=0o600)
"""


@pytest.mark.parametrize("seed", range(4))
def test_a_kill_at_any_moment_leaves_the_old_or_the_new_file(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "keyring.json"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(random.Random(seed).uniform(0.01, 0.3))  # somewhere in a write
    finally:
        writer.kill()  # SIGKILL: no cleanup runs
        writer.communicate()
    assert path.read_bytes() in (b"A" * 1_000_000, b"B" * 2_000_000)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
