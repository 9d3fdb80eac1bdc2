"""A provider's signed contribution and the vault's counter-signed receipt (issue 17).

The provider states what it sends — its client id and registry id, the table, the file's
SHA-256, the number of data rows, its own submission id and time — as a small JSON object
and signs it with its key (a detached ES256 JWS, ``typ`` ``dexin-contribution+jws``). The
upload carries the statement's exact bytes and the signature beside the file; the vault
refuses a contribution whose signature does not verify, or whose statement does not match
the file, before it reads a row.

The receipt is signed by the gateway (``receipt_signature``: a detached EdDSA JWS over
``receipt_document``, the canonical document whose SHA-256 is anchored on the ledger with
the Merkle root); `verified_receipt` checks the signature and that the document names this
file, this table and this statement and signature, so the provider can prove later what it
sent, and the operator cannot claim it sent something else.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexin_client._jose import SignatureError, compact_json, verify_detached
from dexin_client.keys import ClientKey

__all__ = ["PreparedContribution", "ReceiptError", "SignedReceipt", "count_rows",
           "prepare_contribution", "signed_answer", "signed_repair", "verified_receipt"]  # fmt: skip

STATEMENT_TYPE = "dexin-contribution+jws"
ANSWER_TYPE = "dexin-dispute-answer+jws"
REPAIR_TYPE = "dexin-credit-repair+jws"


class ReceiptError(SignatureError):
    """A receipt that is not the gateway's, or that names something else than was sent."""


@dataclass(frozen=True)
class PreparedContribution:
    table: str
    statement: bytes  # the exact bytes signed
    signature: str  # detached compact JWS over them
    file_sha256: str

    def form(self) -> dict[str, str]:
        return {"table": self.table, "statement": self.statement.decode("utf-8"),
                "signature": self.signature}  # fmt: skip


@dataclass(frozen=True)
class SignedReceipt:
    """The receipt as answered, the exact document the gateway signed, its signature."""

    body: dict[str, Any]
    document: bytes
    signature: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def count_rows(path: Path) -> int:
    """Data rows of a CSV (records after the header, blank lines not counted) or of a
    Parquet file (its footer; needs pyarrow, else pass ``rows``)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq  # optional: only a provider that sends Parquet needs it

        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open(encoding="utf-8", newline="") as f:
        return max(sum(1 for row in csv.reader(f) if row) - 1, 0)


def prepare_contribution(
    key: ClientKey, table: str, path: Path, *, rows: int | None = None,
    submission_id: str | None = None, dispute: str | None = None,
) -> PreparedContribution:  # fmt: skip
    """The statement about ``path`` for ``table``, signed with ``key``; a correction's
    statement names the ``dispute`` it answers."""
    sha = file_sha256(path)
    statement = compact_json({
        "v": 1, "client_id": key.client_id, "provider": key.name, "table": table,
        "file_sha256": sha, "rows": count_rows(path) if rows is None else rows,
        "submission_id": submission_id or str(uuid.uuid4()), "submitted_at": _now(),
    } | ({"dispute": dispute} if dispute else {}))  # fmt: skip
    return PreparedContribution(table, statement, key.sign_detached(statement, STATEMENT_TYPE), sha)


def signed_answer(key: ClientKey, dispute_id: str, outcome: str, note: str) -> dict[str, str]:
    """A provider's answer to a dispute with its signature: the body of ``POST
    /v1/disputes/{id}/answer`` (a detached JWS, ``typ`` `ANSWER_TYPE`, over the canonical
    answer: client, dispute, outcome, the time stated here and the note's SHA-256)."""
    at = _now()
    statement = compact_json({"v": 1, "client_id": key.client_id, "dispute": dispute_id,
                              "outcome": outcome, "answered_at": at,
                              "note_sha256": _sha(note.encode())})  # fmt: skip
    return {"outcome": outcome, "note": note, "answered_at": at,
            "signature": key.sign_detached(statement, ANSWER_TYPE)}  # fmt: skip


def signed_repair(
    key: ClientKey, *, repair: str | None, record: dict[str, Any] | None, decision: str,
    repaired_on: str | None, note: str,
) -> dict[str, Any]:  # fmt: skip
    """A provider's repair of ``record`` (``POST /v1/repairs``) or decision on the application
    ``repair`` (``POST /v1/repairs/{id}/decision``) with its signature: a detached JWS,
    ``typ`` `REPAIR_TYPE`, over the canonical repair (client, repair or record, decision, the
    date asked for, the time stated here and the note's SHA-256)."""
    at = _now()
    statement = compact_json({"v": 1, "client_id": key.client_id, "repair": repair,
                              "record": record, "decision": decision,
                              "repaired_on": repaired_on, "signed_at": at,
                              "note_sha256": _sha(note.encode())})  # fmt: skip
    return {"repaired_on": repaired_on, "note": note, "signed_at": at,
            "signature": key.sign_detached(statement, REPAIR_TYPE)}  # fmt: skip


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def verified_receipt(
    body: dict[str, Any], sent: PreparedContribution, jwks: dict[str, Any]
) -> SignedReceipt:
    """The receipt, once the gateway's signature over its document verifies and the document
    names this file, table and (unless the file was loaded before) this statement and
    signature. Raises `ReceiptError`."""
    document = str(body.get("receipt_document", "")).encode("utf-8")
    signature = str(body.get("receipt_signature", ""))
    try:
        verify_detached(signature, document, jwks)
        doc = json.loads(document)
    except (SignatureError, ValueError):
        raise ReceiptError("the receipt is not signed by the gateway") from None
    if doc.get("file_sha256") != sent.file_sha256 or doc.get("table") != sent.table:
        raise ReceiptError("the receipt names another file or table")
    if doc.get("origin") != "provider":
        raise ReceiptError("the receipt does not say the contribution was provider-signed")
    if not body.get("already_loaded") and (
        doc.get("statement_sha256") != _sha(sent.statement)
        or doc.get("signature_sha256") != _sha(sent.signature.encode("ascii"))
    ):
        raise ReceiptError("the receipt binds another statement or signature")
    return SignedReceipt(body, document, signature)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
