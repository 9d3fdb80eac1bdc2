"""Where a contribution's bytes come from: a file the operator names, or a sealed upload.

The ingest reads a contribution only through this interface: `open` for the header, the
Parquet footer and counting lines; `readable_by` for the location DuckDB reads while the
rows are staged. `FileSource` is a file on disk (``dexin vault ingest``);
`vault.sealed.SealedUpload` (the gateway's uploads) keeps its bytes encrypted at rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from vault.engine import Connection
from vault.errors import InputFileError

Format = Literal["csv", "parquet"]


class ContributionSource(Protocol):
    """A contribution's bytes. ``name`` is the file name recorded with it."""

    @property
    def name(self) -> str: ...

    @property
    def fmt(self) -> Format: ...

    @property
    def size(self) -> int: ...

    @property
    def sha256(self) -> str: ...

    def open(self) -> BinaryIO: ...

    def readable_by(self, con: Connection) -> AbstractContextManager[str]: ...


class FileSource:
    """A ``.csv`` or ``.parquet`` file; `InputFileError` if it is not a readable file."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise InputFileError(str(path), "not a readable file")
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise InputFileError(str(path), "unknown format (expected .csv or .parquet)")
        self.path = path
        self.name = path.name
        self.fmt: Format = "csv" if suffix == ".csv" else "parquet"
        self.size = path.stat().st_size
        self._sha256: str | None = None

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            h = hashlib.sha256()
            with self.path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            self._sha256 = h.hexdigest()
        return self._sha256

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    @contextmanager
    def readable_by(self, con: Connection) -> Iterator[str]:
        del con  # DuckDB reads the file itself
        yield str(self.path)


def as_source(source: Path | ContributionSource) -> ContributionSource:
    return FileSource(source) if isinstance(source, Path) else source
