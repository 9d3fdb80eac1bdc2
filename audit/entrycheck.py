"""Per-entry checks of the verifier, on a chunk of entries: run in worker processes.

Kept apart from ``audit.verify`` so a worker imports only what it needs (no BLS, no
cryptography). ``check_chunk`` returns the chunk's leaf hashes up to its first problem and
that problem as plain data (exceptions with fields do not pickle).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from audit.entry import ID_NUMBER, AuditEntry, entry_from_object
from audit.errors import EntryError, PolicyViolation
from audit.merkle import HASH_SIZE, leaf_hash
from audit.policy import AccessPolicy

__all__ = ["Chunk", "Problem", "check_chunk", "fast_index", "reference_check"]


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
    if chunk.policy is None and fast_index(data) == index:
        return None
    return reference_check(chunk.policy, index, data)


def reference_check(policy: AccessPolicy | None, index: int, data: bytes) -> Problem | None:
    """The full check: parse, validate as ``AuditEntry``, compare with the canonical form."""
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
    return _policy(policy, index, entry)


def _canonical(data: bytes, obj: Any) -> bool:
    # For an object that passed entry_from_object, json.dumps in this form is RFC 8785
    # (see audit.entry.canonical_json).
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", errors="replace") == data


def _policy(policy: AccessPolicy | None, index: int, entry: AuditEntry) -> Problem | None:
    if policy is None:
        return None
    try:
        policy.check(index, entry)
    except PolicyViolation as exc:
        return Problem("policy", exc.reason, index)
    return None


# The exact layout of a canonical entry: keys in RFC 8785 order, strings with exactly the
# RFC 8785 escapes. One regular expression accepts a valid entry without parsing JSON. It is
# only an accelerator: whatever it does not accept goes through ``reference_check``, which
# decides, and tests check it never accepts what the reference rejects.
_S = r'"((?:[^"\\\x00-\x1f]++|\\["\\bfnrt]|\\u00(?:0[0-7bef]|1[0-9a-f]))++)"'
_OPT = rf"(?:null|{_S})"
_ENTRY = re.compile(
    rf'\{{"access_request":{_OPT},"action":{_S},"actor":{_S},"computation":{_OPT},'
    rf'"consent":{_OPT},"decision":"(?:allow|deny)","index":(0|[1-9][0-9]*),'
    rf'"purpose":{_OPT},"reason":{_OPT},"request_id":{_S},'
    r'"result_digest":(?:null|"[0-9a-f]{64}"),'
    rf'"role":{_S},"subject":(?:null|"(?:[0-9a-f]{{2}}){{16,32}}"),'
    r'"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z","v":1\}'
)
_TEXT_GROUPS = (1, 2, 3, 4, 5, 7, 8, 9, 10)
_MAX_TEXT = 1024


def fast_index(data: bytes) -> int | None:
    """The index of a valid canonical entry, or None if this quick check cannot tell."""
    try:
        match = _ENTRY.fullmatch(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    if match is None:
        return None
    texts = [t for t in match.group(*_TEXT_GROUPS) if t is not None]
    if max(map(len, texts)) > _MAX_TEXT:  # raw length bounds the text; else the reference
        return None
    joined = "\n".join(texts)
    if "\\" in joined:
        joined = "\n".join(map(_unescape, texts))
    return None if ID_NUMBER.search(joined) else int(match.group(6))


def _unescape(raw: str) -> str:
    return str(json.loads(f'"{raw}"')) if "\\" in raw else raw
