"""Providers sign their contributions; the vault keeps the signature, the ledger binds it.

A provider states what it sends — its client id and registry id, the table, the file's
SHA-256, the data rows, its own submission id and time (`Statement`) — and signs the
statement's exact bytes with its registered key: a detached JWS (RFC 7515 Appendix F),
``typ`` ``dexin-contribution+jws``. `check_signed_contribution` verifies it before a row is
read (`SignatureRefused` otherwise); the vault then keeps the statement, the signature and
the key's id with the contribution's record (`attestation_document`, verbatim), and the
receipt document anchored with the Merkle root names the ``origin`` and the SHA-256 of the
statement and of the signature (`attestation_fields`), so the anchor binds the operator to
exactly what the provider signed.

`verify_attestation` is the auditor's check (``dexin ledger verify``): the signature again,
against a key registered for that provider *when the vault received the contribution*
(`KeysAt`), and the statement against the record: provider, table, file, row count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from governance.client_keys import ALGORITHMS, PublicKey
from governance.errors import SignatureRefused

__all__ = ["STATEMENT_TYPE", "KeysAt", "SignedContribution", "Statement", "attestation_document",
           "attestation_fields", "check_signed_contribution", "verify_attestation"]  # fmt: skip

STATEMENT_TYPE = "dexin-contribution+jws"
MAX_STATEMENT_BYTES = 2048
MAX_SIGNATURE_BYTES = 2048
FRESHNESS = dt.timedelta(hours=1)
KeysAt = Callable[[str, dt.datetime], Sequence[PublicKey]]  # (client id, moment) -> its keys


@dataclass(frozen=True)
class Statement:
    """What the provider signed (the ``v`` 1 statement)."""

    client_id: str
    provider: str
    table: str
    file_sha256: str
    rows: int
    submission_id: str
    submitted_at: dt.datetime
    dispute: str | None = None  # a correction's statement names the dispute it answers


@dataclass(frozen=True)
class SignedContribution:
    """The statement's exact bytes and the detached JWS over them, as uploaded."""

    statement: bytes
    signature: str


_TEXTS = ("client_id", "provider", "table", "file_sha256", "submission_id")


def parse_statement(raw: bytes) -> Statement:
    """The statement in ``raw``; `SignatureRefused` (``contribution_statement_invalid``)."""
    try:
        doc = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_STATEMENT_BYTES else None
        if not isinstance(doc, dict) or doc.get("v") != 1:
            raise ValueError("not a v1 statement")
        texts = [doc[k] for k in _TEXTS]
        if not all(isinstance(t, str) and 1 <= len(t) <= 128 for t in texts):
            raise ValueError("a text field is missing or too long")
        rows, at = doc["rows"], _moment(doc["submitted_at"])
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise ValueError("rows")
        dispute = doc.get("dispute")
        if dispute is not None and not (isinstance(dispute, str) and 1 <= len(dispute) <= 40):
            raise ValueError("dispute")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise SignatureRefused("contribution_statement_invalid") from None
    client_id, provider, table, sha, submission = texts
    return Statement(client_id, provider, table, sha.lower(), rows, submission, at, dispute)


def _moment(value: Any) -> dt.datetime:
    at = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("a time zone is required")
    return at.astimezone(dt.UTC)


def verify_signature(
    signed: SignedContribution,
    keys: Sequence[PublicKey],
    typ: str = STATEMENT_TYPE,
    refusal: str = "contribution_signature_invalid",
) -> PublicKey:
    """The key among ``keys`` whose detached JWS over the statement's exact bytes verifies,
    with ``typ`` (`STATEMENT_TYPE` unless named) and that key's ``kid``. Raises
    `SignatureRefused` (``refusal``)."""
    parts = signed.signature.split(".")
    if len(signed.signature) > MAX_SIGNATURE_BYTES or len(parts) != 3 or parts[1]:
        raise SignatureRefused(refusal)
    for key in keys:
        if key.alg not in ALGORITHMS:
            continue
        try:
            header = jws.deserialize_compact(signed.signature, key.key(), algorithms=[key.alg],
                                             payload=signed.statement).headers()  # fmt: skip
        except (JoseError, ValueError):
            continue
        if header.get("typ") == typ and header.get("kid") == key.kid:
            return key
    raise SignatureRefused(refusal)


def check_signed_contribution(
    signed: SignedContribution | None,
    *,
    client_id: str,
    provider: str,
    table: str,
    file_sha256: str,
    keys: Sequence[PublicKey],
    now: dt.datetime | None = None,
    dispute: str | None = None,
) -> tuple[Statement, PublicKey]:
    """Verify a provider's signed statement for the upload it came with, before any row is
    read. Raises `SignatureRefused`: ``contribution_unsigned``,
    ``contribution_statement_invalid``, ``contribution_signature_invalid`` (no key of the
    provider's verifies it), ``contribution_statement_mismatch`` (another client, provider,
    table or file, or a statement made more than `FRESHNESS` from now, or one that does not
    name ``dispute``: a correction's statement names the dispute it answers, an ordinary
    contribution's names none)."""
    if signed is None:
        raise SignatureRefused("contribution_unsigned")
    statement = parse_statement(signed.statement)
    key = verify_signature(signed, keys)
    now = now or dt.datetime.now(dt.UTC)
    same = (statement.client_id, statement.provider, statement.table, statement.file_sha256)
    if same != (client_id, provider, table, file_sha256.lower()) or statement.dispute != dispute:
        raise SignatureRefused("contribution_statement_mismatch")
    if abs(statement.submitted_at - now) > FRESHNESS:
        raise SignatureRefused("contribution_statement_mismatch")
    return statement, key


def attestation_document(signed: SignedContribution, key: PublicKey) -> str:
    """What the vault keeps with the record: the statement (its exact text), the signature
    and the key's id — JSON, so an auditor can verify it again."""
    return json.dumps({"statement": signed.statement.decode("utf-8"),
                       "signature": signed.signature, "kid": key.kid},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))  # fmt: skip


def attestation_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a receipt of ``record``'s origin adds to the anchored document: ``origin``,
    and for a provider-signed one ``signer_kid``, ``statement_sha256`` and
    ``signature_sha256`` (hex); {} for a record from before issue 17 (no origin)."""
    origin = record.get("origin")
    if origin is None:
        return {}
    fields: dict[str, Any] = {"origin": origin, "signer_kid": None, "statement_sha256": None,
                              "signature_sha256": None}  # fmt: skip
    if record.get("attestation"):
        kept = json.loads(record["attestation"])
        fields.update(signer_kid=kept["kid"], statement_sha256=_sha(kept["statement"]),
                      signature_sha256=_sha(kept["signature"]))  # fmt: skip
    return fields


def verify_attestation(
    record: Mapping[str, Any], keys_at: KeysAt, provider_of: Callable[[str], str | None]
) -> list[str]:
    """The auditor's check of one provider-signed contribution record: what is wrong with
    it (empty: its statement's client is this record's provider, the signature verifies with
    the key it names, registered for that client when the vault received the contribution,
    and the statement names this record's provider, table, file and row count)."""
    try:
        kept = json.loads(record["attestation"])
        signed = SignedContribution(kept["statement"].encode("utf-8"), kept["signature"])
        statement = parse_statement(signed.statement)
        received = _moment(record["received_at"])
    except (ValueError, KeyError, TypeError, SignatureRefused):
        return ["provider signature: the kept statement cannot be read"]
    if provider_of(statement.client_id) != record["provider"]:
        return ["provider signature: the statement's client is not this record's provider"]
    try:
        key = verify_signature(signed, keys_at(statement.client_id, received))
    except SignatureRefused:
        return ["provider signature: no key registered for the provider then verifies it"]
    if key.kid != kept.get("kid"):
        return ["provider signature: made with another key than the record names"]
    return _statement_matches(statement, record)


def _statement_matches(statement: Statement, record: Mapping[str, Any]) -> list[str]:
    expected = (
        record["provider"],
        record["table_name"],
        record["file_sha256"],
        record["submitted"],
    )
    stated = (statement.provider, statement.table, statement.file_sha256, statement.rows)
    if stated != expected:
        return ["provider signature: the statement does not name this record's file"]
    return []


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
