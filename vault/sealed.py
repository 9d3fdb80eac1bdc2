"""Sealed uploads: a contribution received over the network rests on disk only as ciphertext.

A provider's upload is streamed into an unnamed temporary file (``O_TMPFILE``: it has no
path, so a process that dies, even by ``kill -9``, leaves no file behind) as AES-256-GCM
chunks under a random key that exists only in this object's memory. Chunk ``i`` holds
plaintext bytes ``[i * CHUNK, (i + 1) * CHUNK)``, is sealed with nonce ``i`` (a fresh key per
upload, so a counter never repeats under one key) and with whether it is the last chunk as
associated data (a truncated or reordered file fails to decrypt).

The ingest reads the plaintext back through `SealedUpload.open` (a seekable reader that
decrypts one chunk at a time) and DuckDB reads it through `SealedUpload.readable_by`, which
registers an fsspec filesystem serving that reader on the connection for the duration of
the read. Plaintext exists only in memory, a chunk (64 KiB) at a time, plus whatever DuckDB
holds (its spill files are encrypted, `vault.engine`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Literal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fsspec import AbstractFileSystem

from vault.engine import Connection

CHUNK = 1 << 16
TAG = 16  # AES-GCM's tag, appended to each chunk's ciphertext


class SealedUpload:
    """One upload in flight: `write` its bytes, `seal` it, read it back, `close` it.

    ``name`` is a random file name for the record (never the client's); ``fmt`` the format
    the caller declared. Closing drops the key: what remains on disk (only until the file
    is closed: it has no name) cannot be read by anyone.
    """

    def __init__(self, directory: Path, fmt: Literal["csv", "parquet"]) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.fmt: Literal["csv", "parquet"] = fmt
        self.name = f"{secrets.token_hex(12)}.{fmt}"
        self.size = 0
        self.created = dt.datetime.now(dt.UTC)
        # closed by `close`; unnamed on Linux (O_TMPFILE), so it never has a path to leave
        self._file: BinaryIO | None = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115
        self._aead: AESGCM | None = AESGCM(AESGCM.generate_key(bit_length=256))
        self._hash = hashlib.sha256()
        self._pending = bytearray()
        self._chunks = 0
        self._sealed = False

    def __enter__(self) -> SealedUpload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def sha256(self) -> str:
        """The plaintext's SHA-256 (hex), computed as it was written."""
        return self._hash.hexdigest()

    def write(self, data: bytes) -> None:
        """Append plaintext; full chunks are encrypted and written at once."""
        if self._sealed:
            raise ValueError("the upload is sealed")
        self._hash.update(data)
        self.size += len(data)
        self._pending += data
        while len(self._pending) > CHUNK:  # keep the last chunk back: it may be the final one
            self._put(bytes(self._pending[:CHUNK]), final=False)
            del self._pending[:CHUNK]

    def seal(self) -> None:
        """Write the final chunk (possibly empty); the upload is read-only from now on."""
        if not self._sealed:
            self._put(bytes(self._pending), final=True)
            self._pending.clear()
            self._live()[1].flush()  # reads go to the file descriptor (pread)
            self._sealed = True

    def open(self) -> BinaryIO:
        """A seekable reader of the plaintext (decrypted a chunk at a time)."""
        if not self._sealed:
            raise ValueError("seal the upload before reading it")
        return io.BufferedReader(_Reader(self), buffer_size=CHUNK)

    @contextmanager
    def readable_by(self, con: Connection) -> Iterator[str]:
        """A location DuckDB reads this upload's plaintext from, on ``con``, until exit."""
        protocol = f"dexinsealed{secrets.token_hex(8)}"
        con.register_filesystem(_SealedFileSystem(self, protocol))
        try:
            yield f"{protocol}://{self.name}"
        finally:
            con.unregister_filesystem(protocol)

    def close(self) -> None:
        """Forget the key and close (so free) the file."""
        self._aead = None
        self._pending.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    def _put(self, plain: bytes, final: bool) -> None:
        aead, file = self._live()
        nonce = self._chunks.to_bytes(12, "big")
        file.write(aead.encrypt(nonce, plain, b"\x01" if final else b"\x00"))
        self._chunks += 1

    def _chunk(self, index: int) -> bytes:
        """Plaintext of chunk ``index`` (raises `cryptography.exceptions.InvalidTag` if the
        ciphertext was altered)."""
        aead, file = self._live()
        final = index == self._chunks - 1
        sealed = os.pread(file.fileno(), CHUNK + TAG, index * (CHUNK + TAG))
        return aead.decrypt(index.to_bytes(12, "big"), sealed, b"\x01" if final else b"\x00")

    def _live(self) -> tuple[AESGCM, BinaryIO]:
        if self._aead is None or self._file is None:
            raise ValueError("the upload is closed")
        return self._aead, self._file


class _Reader(io.RawIOBase):
    """Random access to a sealed upload's plaintext, one decrypted chunk cached."""

    def __init__(self, upload: SealedUpload) -> None:
        super().__init__()
        self._upload = upload
        self._pos = 0
        self._cached: tuple[int, bytes] = (-1, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._upload.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._upload.size:
            index, offset = divmod(self._pos, CHUNK)
            if self._cached[0] != index:
                self._cached = (index, self._upload._chunk(index))
            piece = self._cached[1][offset : offset + len(view) - done]
            view[done : done + len(piece)] = piece
            done += len(piece)
            self._pos += len(piece)
        return done


class _SealedFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """An fsspec filesystem with one file, the upload, for DuckDB's Python file reads.

    Not cached by fsspec (its instance cache would keep the upload, and its key, alive).
    """

    cachable = False

    def __init__(self, upload: SealedUpload, protocol: str) -> None:
        super().__init__()
        self.protocol = protocol
        self._upload = upload

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> BinaryIO:
        if "r" not in mode or "+" in mode:
            raise PermissionError("a sealed upload is read-only")
        return self._upload.open()

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return {"name": self._upload.name, "size": self._upload.size, "type": "file"}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        return [self.info(path)] if detail else [self._upload.name]

    def modified(self, path: str) -> dt.datetime:
        """DuckDB's Parquet reader keys its metadata cache on this."""
        return self._upload.created
