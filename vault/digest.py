"""Canonical, NULL-safe digests of stored rows: the Merkle leaves of a contribution.

A row is encoded as ``dexin.row.v1|<table>|`` followed, for each stored column in declared
order, by ``~`` for NULL or ``<n>:<text>`` where ``text`` is the value's canonical text and
``n`` its length in UTF-8 bytes. The length prefix makes the encoding injective, so
``('a', NULL, 'b')`` and ``('a', 'b')`` never collide (DuckDB's ``concat_ws`` drops NULLs).
Canonical text: strings as stored, integers in decimal, decimals with exactly the column's
scale, dates as YYYY-MM-DD, booleans as ``true``/``false``.

The row's digest is the RFC 6962 *leaf hash* of its encoding, SHA-256(0x00 || encoding):
the contribution's Merkle tree is built directly over these digests, so each row costs one
hash, not two.

`row_digest()` is the reference implementation (through `audit.merkle.leaf_hash`, the one
RFC 6962 leaf hash in Python); `sql_row_digest()` computes the same in DuckDB, where a
Python function cannot run at ingest speed (a test checks the two agree). docs/architecture.md repeats this definition for auditors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from audit import merkle
from vault.registry import Column, Table

PREFIX = "dexin.row.v1"


def canonical_text(column: Column, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if column.type == "decimal":
        quantum = Decimal(1).scaleb(-(column.scale or 0))
        return str(Decimal(str(value)).quantize(quantum))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def encode_row(table: Table, values: Sequence[object]) -> bytes:
    parts = [f"{PREFIX}|{table.name}|"]
    for column, value in zip(table.columns, values, strict=True):
        if value is None:
            parts.append("~")
        else:
            text = canonical_text(column, value)
            parts.append(f"{len(text.encode())}:{text}")
    return "".join(parts).encode()


def row_digest(table: Table, values: Sequence[object]) -> bytes:
    """The Merkle leaf hash of one stored row's canonical encoding (values in declared order)."""
    return merkle.leaf_hash(encode_row(table, values))


def _sql_text(column: Column) -> str:
    name = f'"{column.stored_name}"'
    if column.type == "boolean":
        return f"CASE WHEN {name} THEN 'true' WHEN NOT {name} THEN 'false' END"
    return f"CAST({name} AS VARCHAR)"


def sql_row_digest(table: Table) -> str:
    """A DuckDB expression (BLOB, 32 bytes) equal to `row_digest` over the stored columns.

    ``a || b`` is NULL when either side is, so ``coalesce(len || ':' || text, '~')`` encodes
    NULL as ``~`` without a CASE (measurably faster over millions of rows).
    """
    fields = [
        f"coalesce(CAST(strlen({t}) AS VARCHAR) || ':' || {t}, '~')"
        for t in (_sql_text(c) for c in table.columns)
    ]
    return f"unhex(sha256(concat(chr(0), '{PREFIX}|{table.name}|', {', '.join(fields)})))"
