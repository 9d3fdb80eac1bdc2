"""A provider's contribution through the gateway: ingest, anchor, refresh the scores.

The vault validates the contribution row by row and issues a receipt; the receipt's Merkle
root is anchored on the ledger under the provider's account; the credit model's features
and scores are recomputed so the next answer sees the new rows. One ingest at a time
(``Services.ingest_lock``, a writers' lock): the rows are loaded on a cursor of their own,
and readers (the API's answers, the console's pages) read on cursors of their own, so
nothing that only reads needs this lock or waits for an ingest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from governance.anchoring import anchor_receipt
from governance.errors import InvalidRequest, NotFound, PayloadTooLarge
from ledger import LedgerError
from vault import ContributionTooLarge, IngestLimits, Receipt, SealedUpload, ingest_file
from vault import errors as verr

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["RefusedContribution", "accept_contribution"]


class RefusedContribution(Exception):
    """The contribution was refused as a whole; ``receipt`` says why (None: only a reason)."""

    def __init__(self, receipt: Receipt | None, reason: str) -> None:
        super().__init__(reason)
        self.receipt = receipt
        self.reason = reason


def accept_contribution(
    services: Services, provider: str, table: str, upload: SealedUpload
) -> Receipt:
    """Ingest ``upload`` for ``provider``'s ``table`` within the gateway's limits, anchor its
    root (a ledger that cannot be reached leaves it unanchored, for `dexin ledger anchor`),
    refresh the scores. Raises `PayloadTooLarge` (``reason`` names the limit:
    ``too_many_rows``, ``too_many_columns``, ``too_many_expanded_bytes``; nothing was read
    or recorded), `RefusedContribution`, `NotFound` (a table the provider does not
    contribute), `InvalidRequest` (an unreadable file)."""
    with services.ingest_lock:
        receipt = _ingest(services, provider, table, upload)
        try:
            anchor = anchor_receipt(services.ledger, services.vault, receipt)
        except LedgerError:
            anchor = None  # recorded unanchored; `dexin ledger anchor` completes it later
        if receipt.accepted and not receipt.already_loaded:
            services.scores.refresh()  # the next score sees the new rows
    return receipt.model_copy(update={"anchor": anchor or receipt.anchor})


def _ingest(services: Services, provider: str, table: str, upload: SealedUpload) -> Receipt:
    s = services.settings
    limits = IngestLimits(s.max_rows, s.max_columns, s.max_expanded_bytes)
    try:  # on a cursor of its own: readers never wait for it nor see it half-done
        return ingest_file(services.vault, provider, table, upload, limits=limits)
    except ContributionTooLarge as exc:
        raise PayloadTooLarge(exc.reason_code) from None
    except verr.ContributionRefused as exc:
        refused = exc.receipt if isinstance(exc.receipt, Receipt) else None
        raise RefusedContribution(refused, exc.reason) from None
    except (verr.UnknownTableError, verr.UnknownProviderError):
        raise NotFound("table_not_contributed_by_provider") from None
    except verr.VaultError:
        raise InvalidRequest(reason="unreadable_contribution") from None
