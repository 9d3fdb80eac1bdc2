"""Conversions between Python values and the contract's ABI values."""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from .models import ApprovalTerms


def code32(text: str) -> bytes:
    """A short code (organisation, computation, model id) as a right-padded bytes32."""
    raw = text.encode("utf-8")
    if not raw or len(raw) > 32 or b"\x00" in raw:
        raise ValueError("a code is 1 to 32 bytes of UTF-8 without NUL")
    return raw.ljust(32, b"\x00")


def uncode32(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("utf-8")


def hash32(value: bytes, name: str) -> bytes:
    """Check that ``value`` is a 32-byte hash (root, digest, id)."""
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise ValueError(f"{name} must be 32 bytes")
    return bytes(value)


def topic(value: bytes) -> str:
    return "0x" + value.hex()


def terms_tuple(terms: ApprovalTerms) -> tuple[Any, ...]:
    """The ``Terms`` struct in ABI order."""
    return (
        code32(terms.requester),
        code32(terms.computation_id),
        hash32(terms.content_hash, "content_hash"),
        hash32(terms.scope, "scope"),
        terms.purpose,
        terms.quota,
        terms.valid_from,
        terms.valid_until,
    )


def terms_from_tuple(raw: tuple[Any, ...]) -> ApprovalTerms:
    requester, computation, content, scope, purpose, quota, start, end = raw
    return ApprovalTerms(
        requester=uncode32(requester),
        computation_id=uncode32(computation),
        content_hash=bytes(content),
        scope=bytes(scope),
        purpose=purpose,
        quota=quota,
        valid_from=start,
        valid_until=end,
    )


def officer_address(officer_id: str) -> str:
    """The address that stands for officer ``officer_id`` on the ledger: the last 20 bytes
    of keccak256("dexin.officer:" || id). Nobody holds a private key for it (none can be
    found for a hash), so the officer acts only through the keys registered to it."""
    if not officer_id:
        raise ValueError("an officer id is not empty")
    return to_checksum_address(keccak(b"dexin.officer:" + officer_id.encode("utf-8"))[-20:])
