"""Small durable-file helpers: atomic replace, secret key files (mode 0600), directory fsync."""

from __future__ import annotations

import os
from pathlib import Path

from audit.errors import NoteError

__all__ = ["check_secret", "fsync_dir", "write_atomic", "write_secret"]


def fsync_dir(directory: Path) -> None:
    """Make a rename or a file creation in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_secret(path: Path, data: bytes) -> None:
    """Create a secret file with mode 0600 (folder 0700); never overwrites an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)


def check_secret(path: Path) -> bytes:
    """Read a secret file; raise NoteError if missing or readable by group or others."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise NoteError(f"key file {path} not found") from None
    if mode & 0o077:
        raise NoteError(f"key file {path} is readable by others (chmod 600)")
    return path.read_bytes()
