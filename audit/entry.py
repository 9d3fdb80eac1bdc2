"""Audit entries: what one access (allowed or denied) leaves in the log, and its bytes.

An entry is validated when it is built (fail closed: a bad entry is refused, so the access
it records must not happen) and encoded as RFC 8785 canonical JSON together with its
position in the log. Those exact bytes are the Merkle leaf data (RFC 9162 §2.1.1).

Fields, in the canonical encoding (``null`` where absent):

- ``v`` format version (1 or 2, below); ``index`` position in the log, from 0;
- ``time`` RFC 3339 UTC with microseconds (``2026-11-01T08:00:00.000000Z``);
- ``actor`` and ``role``: who asked; ``action`` and ``computation``: what was asked;
- ``purpose``; ``access_request`` (the approval's id); ``consent`` (the consent's id);
- ``subject``: the subject's pseudonym (lowercase hex, 32 to 64 characters) — never an ID
  number;
- ``decision`` ``allow`` or ``deny`` and ``reason``;
- ``result_digest`` (lowercase hex SHA-256 of the answer, if one left); ``request_id``;
- ``parameters`` (format version 2 only): the computation's parameters as the RFC 8785
  canonical JSON text of an object of strings (``{"town":"T01"}``), so an auditor can check
  them against the approval's scope.

An entry without parameters is format version 1, exactly as before version 2 existed (no
``parameters`` key); an entry with parameters is version 2 and has the key, never ``null``.
So every entry ever written keeps its bytes, and ``decode_entry`` reads both.

No text field may contain anything that looks like an 18-digit resident ID number
(17 digits then a digit or X); such an entry is refused with ``IdentifierInEntryError``.

>>> e = AuditEntry.create(actor="bank:demo", role="requester", action="score",
...     decision="deny", reason="no consent", request_id="r-1",
...     time=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
>>> e.encode(7)[:60]
b'{"access_request":null,"action":"score","actor":"bank:demo",'
>>> AuditEntry.create(actor="x", role="r", action="a", decision="allow",
...     request_id="330281199001011234")
Traceback (most recent call last):
...
audit.errors.IdentifierInEntryError: audit entry refused: a field looks like a resident ID number
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from audit.errors import EntryError, IdentifierInEntryError

__all__ = [
    "FORMAT_VERSION",
    "ID_NUMBER",
    "AuditEntry",
    "Decision",
    "canonical_json",
    "decode_entry",
    "encode_time",
    "entry_from_object",
]

FORMAT_VERSION = 2  # the newest; version 1 is still written for entries without parameters
Decision = Literal["allow", "deny"]

ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_HEX = re.compile(r"[0-9a-f]+")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_MAX_TEXT = 1024
_TEXT_FIELDS = ("actor", "role", "action", "computation", "purpose", "access_request",
                "consent", "reason", "request_id")  # fmt: skip
_REQUIRED = ("actor", "role", "action", "request_id")
_KEYS = frozenset(("v", "index", "time", "subject", "decision", "result_digest", *_TEXT_FIELDS))
_KEYS_BY_VERSION = {1: _KEYS, 2: _KEYS | {"parameters"}}


def encode_time(moment: dt.datetime) -> str:
    """RFC 3339 UTC with exactly six fractional digits; raises EntryError if naive."""
    if moment.tzinfo is None:
        raise EntryError("time", "must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One validated audit entry (without its index, which the log assigns)."""

    time: str
    actor: str
    role: str
    action: str
    decision: Decision
    request_id: str
    computation: str | None = None
    purpose: str | None = None
    access_request: str | None = None
    consent: str | None = None
    subject: str | None = None
    reason: str | None = None
    result_digest: str | None = None
    parameters: str | None = None  # canonical JSON text of an object of strings (version 2)

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def create(cls, *, time: dt.datetime | None = None, **fields: Any) -> AuditEntry:
        """Build an entry stamped ``time`` (now, UTC, by default); ``parameters`` may be given
        as a mapping of strings (encoded here) or as its canonical text. Raises EntryError."""
        if isinstance(fields.get("parameters"), Mapping):
            fields["parameters"] = encode_parameters(fields["parameters"])
        return cls(time=encode_time(time or dt.datetime.now(dt.UTC)), **fields)

    def as_dict(self, index: int) -> dict[str, Any]:
        """The entry's JSON object at position ``index`` (the canonical field set of its
        version: 1 without parameters, 2 with)."""
        values = {name: getattr(self, name) for name in _FIELDS}
        if self.parameters is None:
            del values["parameters"]
            return {"v": 1, "index": index, **values}
        return {"v": 2, "index": index, **values}

    @property
    def parameters_value(self) -> dict[str, str] | None:
        """``parameters`` as a dict (None if the entry has none)."""
        return None if self.parameters is None else dict(json.loads(self.parameters))

    def encode(self, index: int) -> bytes:
        """RFC 8785 canonical JSON of the entry at ``index``: the Merkle leaf data."""
        return canonical_json(self.as_dict(index))

    @property
    def time_value(self) -> dt.datetime:
        """``time`` as an aware datetime."""
        return dt.datetime.strptime(self.time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def canonical_json(obj: dict[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of an entry object, computed fast.

    For objects whose keys are ASCII and whose values are strings, safe integers and null —
    every entry — ``json.dumps`` with sorted keys, no whitespace and ``ensure_ascii=False``
    produces exactly the RFC 8785 bytes (same key order, same string escapes: ``\\b \\f
    \\n \\r \\t``, other controls as lowercase ``\\u00xx``, everything else literal);
    tests check it against the ``rfc8785`` package. It is about ten times faster, which matters
    under the log's lock. Raises EntryError for text that is not valid Unicode (a lone
    surrogate), which RFC 8785 refuses too.
    """
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise EntryError("json", "text is not valid Unicode") from None


def encode_parameters(parameters: Mapping[str, str]) -> str:
    """The canonical text of a parameters object (RFC 8785: for an object of strings with
    ASCII keys, sorted keys, no whitespace, the same escapes as `canonical_json`). Raises
    EntryError if a key is not ASCII (RFC 8785 orders keys by UTF-16 code units, Python by
    code points: they differ beyond the BMP) or a key or value is not a string."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in parameters.items()):
        raise EntryError("parameters", "keys and values must be strings")
    if not all(k.isascii() for k in parameters):
        raise EntryError("parameters", "keys must be ASCII")
    return canonical_json(dict(parameters)).decode("utf-8")


def decode_entry(data: bytes) -> tuple[int, AuditEntry]:
    """Parse leaf data back into ``(index, entry)``, re-validating every field.

    Raises ``EntryError`` (field ``json``, ``v``, ``index`` or the bad field) if the bytes
    are not an entry of this format. Canonical form is checked by the verifier, not here.
    """
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise EntryError("json", "not valid JSON") from None
    return entry_from_object(obj)


def entry_from_object(obj: Any) -> tuple[int, AuditEntry]:
    """``decode_entry`` for an already parsed JSON value."""
    if not isinstance(obj, dict):
        raise EntryError("json", "not an audit entry object")
    version = obj.get("v")
    keys = _KEYS_BY_VERSION.get(version) if type(version) is int else None
    if keys is None:
        raise EntryError("v", "unknown format version")
    if set(obj) != keys:
        raise EntryError("json", "not an audit entry object (wrong set of fields)")
    obj = dict(obj)  # the caller's object stays as parsed
    del obj["v"]
    if version == 2 and obj["parameters"] is None:
        raise EntryError("parameters", "version 2 entries carry parameters")
    index = obj.pop("index")
    if type(index) is not int or index < 0:
        raise EntryError("index", "not a non-negative integer")
    try:
        return index, AuditEntry(**obj)
    except TypeError:
        raise EntryError("json", "wrong field types") from None


def _validate(entry: AuditEntry) -> None:
    if not isinstance(entry.time, str) or not _TIME.fullmatch(entry.time):
        raise EntryError("time", "not RFC 3339 UTC with microseconds")
    for name in _TEXT_FIELDS:
        _check_text(name, getattr(entry, name), required=name in _REQUIRED)
    _check_parameters(entry.parameters)
    texts = [getattr(entry, name) for name in _SCANNED]
    # One scan over all text fields (newline-separated, so no match spans two fields).
    if ID_NUMBER.search("\n".join(t for t in texts if t is not None)):
        raise IdentifierInEntryError(next(n for n, t in zip(_SCANNED, texts, strict=True)
                                          if t is not None and ID_NUMBER.search(t)))  # fmt: skip
    if entry.decision not in ("allow", "deny"):
        raise EntryError("decision", "must be 'allow' or 'deny'")
    _check_hex("subject", entry.subject, 32, 64)
    _check_hex("result_digest", entry.result_digest, 64, 64)


def _check_text(name: str, value: object, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value:
        raise EntryError(name, "must be a non-empty string")
    if len(value) > _MAX_TEXT:
        raise EntryError(name, f"longer than {_MAX_TEXT} characters")


def _check_parameters(value: object) -> None:
    """None, or the canonical text of a JSON object of strings, at most ``_MAX_TEXT`` long
    (its ID-number scan is the other text fields' one)."""
    if value is None:
        return
    _check_text("parameters", value, required=True)
    try:
        parsed = json.loads(str(value))
    except ValueError:
        raise EntryError("parameters", "not JSON") from None
    if not isinstance(parsed, dict):
        raise EntryError("parameters", "not a JSON object")
    if encode_parameters(parsed) != value:
        raise EntryError("parameters", "not the canonical text of an object of strings")


def _check_hex(name: str, value: object, shortest: int, longest: int) -> None:
    # Pseudonyms and digests are hash outputs: checked by shape, never scanned for ID
    # numbers (a run of 18 decimal digits occurs by chance in about 1% of SHA-256 hex).
    if value is None:
        return
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise EntryError(name, "must be lowercase hex")
    if not shortest <= len(value) <= longest or len(value) % 2:
        raise EntryError(name, f"must be {shortest} to {longest} hex characters")


_FIELDS = tuple(f.name for f in fields(AuditEntry))
_SCANNED = (*_TEXT_FIELDS, "parameters")
