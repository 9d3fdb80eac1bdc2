"""Pseudonymisation of identifiers with a keyed HMAC (RFC 2104, SHA-256).

A pseudonym is the first 16 bytes (32 hex characters) of HMAC-SHA256(key, tag || value),
where the tag separates kinds of identifier (an ID number and a household number never share
a pseudonym). ID numbers have too little entropy for a plain hash: without the key a
pseudonym cannot be reversed by enumerating numbers.

`pseudonymise()` is the reference implementation. `sql_pseudonym()` computes the same value
inside DuckDB (vectorised, in parallel) from the standard HMAC construction
H((K ^ opad) || H((K ^ ipad) || m)); the key's pads are bound as query parameters, never
written into SQL text. Tests check that both agree.
"""

from __future__ import annotations

import hashlib
import hmac

HEX_CHARS = 32
BLOCK = 64  # SHA-256 block size in bytes


def tag(kind: str) -> str:
    return f"dexin.pseudonym.v1:{kind}:"


def pseudonymise(key: bytes, kind: str, value: str) -> str:
    """The pseudonym of ``value`` (e.g. an ID number) for identifier ``kind``."""
    mac = hmac.new(key, (tag(kind) + value).encode(), hashlib.sha256)
    return mac.hexdigest()[:HEX_CHARS]


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(K ^ ipad, K ^ opad) for a key of at most one block (RFC 2104 §2)."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(BLOCK, b"\x00")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


def sql_pseudonym(value_sql: str, kind: str, ipad_param: str, opad_param: str) -> str:
    """A DuckDB expression equal to `pseudonymise(key, kind, value)`; NULL stays NULL.

    ``ipad_param``/``opad_param`` name prepared-statement parameters (e.g. ``$ipad``) bound
    to `hmac_pads(key)`.
    """
    message = f"encode('{tag(kind)}' || {value_sql})"
    inner = f"unhex(sha256({ipad_param} || {message}))"
    return f"left(sha256({opad_param} || {inner}), {HEX_CHARS})"
