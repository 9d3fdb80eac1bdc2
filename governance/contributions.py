"""A provider's contribution through the gateway: check its signature, ingest, anchor,
refresh the scores, countersign the receipt.

The provider's signed statement is verified before a row is read
(`governance.contribution_signatures`); the vault validates the contribution row by row and issues a receipt; the receipt's Merkle
root is anchored on the ledger under the provider's account; the credit model's features
and scores are recomputed so the next answer sees the new rows. One ingest at a time
(``Services.ingest_lock``, a writers' lock): the rows are loaded on a cursor of their own,
and readers (the API's answers, the console's pages) read on cursors of their own, so
nothing that only reads needs this lock or waits for an ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from governance.anchoring import anchor_receipt, signed_receipt
from governance.contribution_signatures import (
    SignedContribution,
    attestation_document,
    check_signed_contribution,
)
from governance.errors import InvalidRequest, NotFound, PayloadTooLarge
from ledger import LedgerError
from vault import (
    Attestation,
    ContributionTooLarge,
    IngestLimits,
    Receipt,
    SealedUpload,
    ingest_file,
)
from vault import errors as verr

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["AcceptedContribution", "RefusedContribution", "accept_contribution"]


class RefusedContribution(Exception):
    """The contribution was refused as a whole; ``receipt`` says why (None: only a reason)."""

    def __init__(self, receipt: Receipt | None, reason: str) -> None:
        super().__init__(reason)
        self.receipt = receipt
        self.reason = reason


@dataclass(frozen=True)
class AcceptedContribution:
    """The vault's receipt and the gateway's countersignature: ``document`` is the canonical
    receipt document anchored with the root, ``signature`` a detached JWS over it."""

    receipt: Receipt
    document: str
    signature: str


def accept_contribution(
    services: Services,
    client_id: str,
    provider: str,
    table: str,
    upload: SealedUpload,
    signed: SignedContribution | None,
) -> AcceptedContribution:
    """Verify the provider's signed statement for ``upload`` (before a row is read), ingest it
    for ``provider``'s ``table`` within the gateway's limits with the statement kept beside
    it, anchor its root with the signature's digests (a ledger that cannot be reached leaves
    it unanchored, for `dexin ledger anchor`), refresh the scores, countersign the receipt.
    Raises `SignatureRefused` (nothing read or recorded), `PayloadTooLarge` (``reason`` names
    the limit: ``too_many_rows``, ``too_many_columns``, ``too_many_expanded_bytes``; nothing
    was read or recorded), `RefusedContribution`, `NotFound` (a table the provider does not
    contribute), `InvalidRequest` (an unreadable file)."""
    services.require_vault_owner("a contribution")
    keys = services.control.keys.keys_at(client_id)
    statement, key = check_signed_contribution(signed, client_id=client_id, provider=provider,
                                               table=table, file_sha256=upload.sha256, keys=keys)  # fmt: skip
    assert signed is not None
    attestation = Attestation(statement.rows, attestation_document(signed, key))
    with services.ingest_lock:
        receipt = _ingest(services, provider, table, upload, attestation)
        try:
            anchor = anchor_receipt(services.ledger, services.vault, receipt)
        except LedgerError:
            anchor = None  # recorded unanchored; `dexin ledger anchor` completes it later
        if receipt.accepted and not receipt.already_loaded:
            services.scores.refresh()  # the next score sees the new rows
    receipt = receipt.model_copy(update={"anchor": anchor or receipt.anchor})
    return AcceptedContribution(receipt, *signed_receipt(services.signer, receipt))


def _ingest(
    services: Services, provider: str, table: str, upload: SealedUpload, attestation: Attestation
) -> Receipt:
    s = services.settings
    limits = IngestLimits(s.max_rows, s.max_columns, s.max_expanded_bytes)
    try:  # on a cursor of its own: readers never wait for it nor see it half-done
        return ingest_file(services.vault, provider, table, upload, limits=limits,
                           attestation=attestation)  # fmt: skip
    except ContributionTooLarge as exc:
        raise PayloadTooLarge(exc.reason_code) from None
    except verr.ContributionRefused as exc:
        refused = exc.receipt if isinstance(exc.receipt, Receipt) else None
        raise RefusedContribution(refused, exc.reason) from None
    except (verr.UnknownTableError, verr.UnknownProviderError):
        raise NotFound("table_not_contributed_by_provider") from None
    except verr.VaultError:
        raise InvalidRequest(reason="unreadable_contribution") from None
