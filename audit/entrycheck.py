"""Per-entry checks of the verifier, on a chunk of entries: run in worker processes.

Kept apart from ``audit.verify`` so a worker imports only what it needs (no BLS, no
cryptography). ``check_chunk`` returns the chunk's leaf hashes up to its first problem and
that problem as plain data (exceptions with fields do not pickle).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from audit.entry import AuditEntry, entry_from_object
from audit.errors import EntryError, PolicyViolation
from audit.merkle import HASH_SIZE, leaf_hash
from audit.policy import AccessPolicy

__all__ = ["Chunk", "Problem", "check_chunk"]


@dataclass(frozen=True)
class Problem:
    """The first problem of a chunk (the fields of a ``VerificationError``)."""

    check: str
    detail: str
    entry: int
    expected: str | None = None
    actual: str | None = None


@dataclass(frozen=True)
class Chunk:
    """Entries ``start .. start+len(entries)-1``, the leaf hashes the log stored for them
    (possibly fewer, or none), the number of entries the checkpoints cover, the policy."""

    start: int
    entries: Sequence[bytes]
    stored: bytes
    covered: int
    policy: AccessPolicy | None


def check_chunk(chunk: Chunk) -> tuple[bytes, Problem | None]:
    """Check each entry in order; return the leaf hashes before the first problem, and it."""
    leaves = bytearray()
    for offset, data in enumerate(chunk.entries):
        problem = _check(chunk, chunk.start + offset, data)
        if problem is not None:
            return bytes(leaves), problem
        leaf = leaf_hash(data)
        stored = chunk.stored[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
        if len(stored) == HASH_SIZE and stored != leaf:
            return bytes(leaves), Problem(
                "leaf", "entry differs from the leaf hash the log recorded",
                chunk.start + offset, stored.hex(), leaf.hex(),
            )  # fmt: skip
        leaves += leaf
    return bytes(leaves), None


def _check(chunk: Chunk, index: int, data: bytes) -> Problem | None:
    if index >= chunk.covered:
        return Problem("uncovered", "entry beyond the latest checkpoint (appended or inserted)",
                       index, f"{chunk.covered} entries", f"entry {index}")  # fmt: skip
    try:
        obj = json.loads(data)
        claimed, entry = entry_from_object(obj)
    except (ValueError, UnicodeDecodeError):
        return Problem("entry", "not valid JSON", index)
    except EntryError as exc:
        return Problem("entry", f"not a valid entry ({exc.field}: {exc.reason})", index)
    if claimed != index:
        return Problem("entry-order", "entry is out of place (deleted, inserted or reordered)",
                       index, f"index {index}", f"index {claimed}")  # fmt: skip
    if not _canonical(data, obj):
        return Problem("entry-canonical", "entry is not RFC 8785 canonical JSON", index)
    return _policy(chunk.policy, index, entry)


def _canonical(data: bytes, obj: Any) -> bool:
    # For an object that passed entry_from_object, json.dumps in this form is RFC 8785
    # (see audit.entry.canonical_json).
    return (
        json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == data
    )


def _policy(policy: AccessPolicy | None, index: int, entry: AuditEntry) -> Problem | None:
    if policy is None:
        return None
    try:
        policy.check(index, entry)
    except PolicyViolation as exc:
        return Problem("policy", exc.reason, index)
    return None
