"""Durable files, one way each: atomic replace, create-once secrets, directory fsync.

`write_atomic` is the one atomic file writer of the code base (vault, governance and the
application import it from ``audit``, the lowest package they may all import; the ledger,
which may import none of them, keeps its own). A secret is written with mode 0o600; every
other file names its mode too, so the umask never decides who may read what.
"""

from __future__ import annotations

import os
import tempfile
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


def write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    """Replace ``path`` with ``data``: after a crash at any moment it holds the old bytes or
    the new ones, never a mixture, and once this returns the new bytes survive a power cut.

    The data goes to a temporary file beside ``path`` (the same file system, so the rename is
    atomic), is fsynced, renamed over ``path`` with ``os.replace``, and the directory is
    fsynced so the rename itself is durable. ``mode`` is set exactly, whatever the umask
    (0o600 for secrets). The temporary file (``.<name>.<random>.tmp``) is removed if writing
    fails; only a process killed mid-write leaves one, and no reader looks at it.
    Raises OSError (the directory is missing or not writable, the disk is full).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_secret(path: Path, data: bytes) -> None:
    """Create a secret file with mode 0600 (folder 0700); never overwrites an existing one.

    Raises FileExistsError if ``path`` exists (a key is created once, then rotated by name).
    """
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
