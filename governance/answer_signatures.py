"""Providers sign their answers to disputes (征信业管理条例 第二十五条; issue 18).

A provider proves its own part with a key only it holds: its answer to a dispute of its
record is signed like its contributions (`governance.contribution_signatures`).

- ``confirmed`` or ``deleted``: a detached JWS (``typ`` `ANSWER_TYPE`) over the canonical
  answer (`answer_statement`: RFC 8785 JSON of the provider's client id, the dispute, the
  outcome, the time the provider states and the SHA-256 of its note). The gateway rebuilds
  those bytes from the request, so the signature covers exactly what is recorded.
- ``corrected``: the correcting contribution's own signed statement, which names the
  dispute it answers (``dispute``) beside the file it sends.

`check_signed_answer` refuses an unsigned or wrongly signed answer (`SignatureRefused`:
``answer_unsigned``, ``answer_statement_invalid``, ``answer_signature_invalid``,
``answer_statement_mismatch``) before anything changes; the signed statement, the signature
and the key's id are kept with the dispute (``answer_attestation``), and the dispute log's
``answered`` leaf binds the SHA-256 of the signature (`answer_fields`).
`answer_signature_problems` is the auditor's check of every provider's answer in the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import rfc8785
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from governance.client_keys import PublicKey
from governance.contribution_signatures import (
    FRESHNESS,
    STATEMENT_TYPE,
    SignedContribution,
    parse_statement,
    verify_signature,
)
from governance.db import session_factory
from governance.dispute_models import Dispute, DisputeEvent
from governance.errors import SignatureRefused

if TYPE_CHECKING:
    from governance.anchoring import ProviderKeys

__all__ = ["ANSWER_TYPE", "SignedAnswer", "answer_fields", "answer_signature_problems",
           "answer_statement", "check_detached", "check_signed_answer", "signed_moment"]  # fmt: skip

ANSWER_TYPE = "dexin-dispute-answer+jws"
MAX_TIME_CHARS = 40


@dataclass(frozen=True)
class SignedAnswer:
    """What the provider sends beside its outcome and note: the time it states (exactly as
    it signed it) and the detached JWS over `answer_statement`."""

    answered_at: str
    signature: str


def answer_statement(
    client_id: str, dispute_id: str, outcome: str, answered_at: str, note: str
) -> bytes:
    """The canonical answer a provider signs (RFC 8785)."""
    return rfc8785.dumps({"v": 1, "client_id": client_id, "dispute": dispute_id,
                          "outcome": outcome, "answered_at": answered_at,
                          "note_sha256": _sha(note.encode())})  # fmt: skip


def check_signed_answer(
    signed: SignedAnswer | None, *, client_id: str, dispute_id: str, outcome: str, note: str,
    keys: Sequence[PublicKey], now: dt.datetime,
) -> str:  # fmt: skip
    """Verify the provider's signature over its answer; the attestation to keep (JSON: the
    statement, the signature, the key's id). Raises `SignatureRefused` (module docstring)."""

    def statement(at: str) -> bytes:
        return answer_statement(client_id, dispute_id, outcome, at, note)

    return check_detached(signed, statement, typ=ANSWER_TYPE, prefix="answer", keys=keys,
                          now=now)  # fmt: skip


def check_detached(
    signed: SignedAnswer | None, statement: Callable[[str], bytes], *, typ: str, prefix: str,
    keys: Sequence[PublicKey], now: dt.datetime,
) -> str:  # fmt: skip
    """The shared check of a provider's detached signature over a canonical statement the
    gateway rebuilds (``statement(time stated)``): answers here, credit repairs
    (`governance.repair_signatures`). The attestation to keep; raises `SignatureRefused`
    (``{prefix}_unsigned``, ``{prefix}_statement_invalid``: no readable time,
    ``{prefix}_statement_mismatch``: more than `FRESHNESS` from ``now``,
    ``{prefix}_signature_invalid``)."""
    if signed is None:
        raise SignatureRefused(f"{prefix}_unsigned")
    at = signed_moment(signed.answered_at)
    if at is None:
        raise SignatureRefused(f"{prefix}_statement_invalid")
    if abs(at - now) > FRESHNESS:
        raise SignatureRefused(f"{prefix}_statement_mismatch")
    document = statement(signed.answered_at)
    pair = SignedContribution(document, signed.signature)
    key = verify_signature(pair, keys, typ, f"{prefix}_signature_invalid")
    return attestation(document, signed.signature, key)


def attestation(statement: bytes, signature: str, key: PublicKey) -> str:
    """The document kept with the dispute."""
    return json.dumps({"statement": statement.decode("utf-8"), "signature": signature,
                       "kid": key.kid}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))  # fmt: skip


def answer_fields(kept: str | None) -> dict[str, Any]:
    """What the ``answered`` leaf binds of the provider's signature (None for officers')."""
    if kept is None:
        return {"signer_kid": None, "signature_sha256": None}
    doc = json.loads(kept)
    return {"signer_kid": doc["kid"], "signature_sha256": _sha(doc["signature"].encode())}


# -- the auditor's check ----------------------------------------------------------------------


def answer_signature_problems(engine: Engine, keys: ProviderKeys) -> tuple[int, list[str]]:
    """(provider answers checked, problems): every ``answered`` event of the dispute log
    made by a provider must have its signed statement kept with the dispute, whose signature
    is the one the leaf binds, verifies with a key registered for a client of the record's
    provider when the answer was made, and states this dispute and this outcome."""
    if "dispute_events" not in inspect(engine).get_table_names():
        return 0, []
    with session_factory(engine)() as s:
        events = list(s.scalars(select(DisputeEvent).where(DisputeEvent.event == "answered")
                                .order_by(DisputeEvent.seq)))  # fmt: skip
        rows = {r.id: r for r in s.scalars(select(Dispute).where(Dispute.status == "answered"))}
    answers = [(json.loads(e.entry), rows.get(e.dispute_id)) for e in events]
    answers = [(entry, row) for entry, row in answers if entry.get("by") == "provider"]
    problems = [f"dispute {entry['dispute']}: {p}" for entry, row in answers
                for p in _problems(entry, row, keys)]  # fmt: skip
    return len(answers), problems


def _problems(entry: dict[str, Any], row: Dispute | None, keys: ProviderKeys) -> list[str]:
    if row is None or row.answer_attestation is None:
        return ["the provider's answer is not signed"]
    kept = json.loads(row.answer_attestation)
    if entry.get("signature_sha256") != _sha(kept["signature"].encode()):
        return ["the kept signature is not the one the dispute log binds"]
    statement = kept["statement"].encode("utf-8")
    stated = _stated(statement, entry["outcome"])
    if stated is None or stated[1] != entry["dispute"]:
        return ["the signed statement names another dispute or outcome"]
    client_id = stated[0]
    if keys.provider_of(client_id) != row.provider:
        return ["the signed statement's client is not the record's provider"]
    typ = STATEMENT_TYPE if entry["outcome"] == "corrected" else ANSWER_TYPE
    at = signed_moment(entry["at"])
    assert at is not None
    try:
        key = verify_signature(SignedContribution(statement, kept["signature"]),
                               keys.keys_at(client_id, at), typ)  # fmt: skip
    except SignatureRefused:
        return ["no key registered for the provider then verifies its answer"]
    return [] if key.kid == kept["kid"] else ["made with another key than the one it names"]


def _stated(statement: bytes, outcome: str) -> tuple[str, str | None] | None:
    """(client id, dispute) the statement names, if it states ``outcome``."""
    if outcome == "corrected":
        try:
            parsed = parse_statement(statement)
        except SignatureRefused:
            return None
        return parsed.client_id, parsed.dispute
    try:
        doc = json.loads(statement)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("outcome") != outcome:
        return None
    return str(doc.get("client_id")), doc.get("dispute")


def signed_moment(value: str) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > MAX_TIME_CHARS or not value.isascii():
        return None
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at.astimezone(dt.UTC) if at.tzinfo is not None else None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
