"""Arrow arrays from numpy draws, typed as the registry declares (see `arrow_type`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from vault import Column


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type a registry column is written as (decimals keep their declared scale)."""
    if column.type == "decimal":
        return pa.decimal128(18, column.scale or 0)
    return {
        "integer": pa.int64(),
        "date": pa.date32(),
        "boolean": pa.bool_(),
    }.get(column.type, pa.string())


def _validity(null: npt.NDArray[np.bool_] | None) -> pa.Buffer | None:
    if null is None or not null.any():
        return None
    return pa.py_buffer(np.packbits(~null, bitorder="little"))


def dates(days: npt.NDArray[np.integer], null: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """date32 values from day numbers; ``null`` marks empty values."""
    values = np.ascontiguousarray(days, dtype=np.int32)
    return pa.Array.from_buffers(pa.date32(), values.size, [_validity(null), pa.py_buffer(values)])


def decimals(
    units: npt.NDArray[np.integer], scale: int, null: npt.NDArray[np.bool_] | None = None
) -> pa.Array:
    """decimal128(18, scale) values from integers counted in units of 10^−scale."""
    low = np.ascontiguousarray(units, dtype=np.int64)
    words = np.empty((low.size, 2), dtype=np.int64)
    words[:, 0], words[:, 1] = low, low >> 63
    buffers = [_validity(null), pa.py_buffer(words)]
    return pa.Array.from_buffers(pa.decimal128(18, scale), low.size, buffers)


def integers(values: npt.NDArray[np.integer]) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), type=pa.int64())


def booleans(values: npt.NDArray[np.bool_]) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.bool_), type=pa.bool_())


def take(values: pa.Array, index: npt.NDArray[np.integer]) -> pa.Array:
    """``values[index]`` for Arrow arrays (ID numbers, codes of households and places)."""
    return pc.take(values, pa.array(np.asarray(index, dtype=np.int64)))
