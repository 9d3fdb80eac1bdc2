"""Output files: CSV or Parquet, written under a hidden partial name and renamed when complete.

CSV: UTF-8, a header row, comma-separated, unquoted (no generated value contains a comma, a
quote or a line break), "\\n" line ends, empty fields for NULL, dates YYYY-MM-DD, booleans
true/false, decimals with their declared scale. Parquet: the same columns typed as Arrow
types (date32, decimal128(18, s), int64, bool, string), zstd-compressed, one row group per
chunk. A crash leaves ``.<name>.partial`` files, never a truncated file under the real name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

Format = Literal["csv", "parquet"]
_CSV = pa_csv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536)


def encode(table: pa.Table, fmt: Format) -> bytes | pa.Table:
    """What a worker sends back: CSV bytes without a header, or the table itself for Parquet."""
    if fmt == "parquet":
        return table
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, _CSV)
    return bytes(sink.getvalue())


class Sink(Protocol):
    def write(self, payload: bytes | pa.Table) -> None: ...

    def close(self) -> None: ...


class _Partial:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")


class CsvSink(_Partial):
    """A CSV file: the header from the schema, then the encoded chunks in order."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        super().__init__(path)
        self._file = self.partial.open("wb")
        self._file.write((",".join(schema.names) + "\n").encode("utf-8"))

    def write(self, payload: bytes | pa.Table) -> None:
        if not isinstance(payload, bytes):
            raise TypeError("a CSV sink takes encoded bytes")
        self._file.write(payload)

    def close(self) -> None:
        self._file.close()
        self.partial.replace(self.path)


class ParquetSink(_Partial):
    """A Parquet file: one row group per chunk."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        super().__init__(path)
        self._writer = pq.ParquetWriter(self.partial, schema, compression="zstd")

    def write(self, payload: bytes | pa.Table) -> None:
        if not isinstance(payload, pa.Table):
            raise TypeError("a Parquet sink takes Arrow tables")
        self._writer.write_table(payload)

    def close(self) -> None:
        self._writer.close()
        self.partial.replace(self.path)


def open_sink(path_without_suffix: Path, schema: pa.Schema, fmt: Format) -> Sink:
    """A sink for ``<path>.csv`` or ``<path>.parquet``."""
    path = path_without_suffix.with_name(f"{path_without_suffix.name}.{fmt}")
    return CsvSink(path, schema) if fmt == "csv" else ParquetSink(path, schema)


def write_table(path_without_suffix: Path, table: pa.Table, fmt: Format) -> None:
    """Write one whole table (the truth files)."""
    sink = open_sink(path_without_suffix, table.schema, fmt)
    sink.write(encode(table, fmt))
    sink.close()
