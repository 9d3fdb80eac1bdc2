"""A provider's contribution through the gateway: ingest, anchor, refresh the scores.

The vault validates the file row by row and issues a receipt; the receipt's Merkle root is
anchored on the ledger under the provider's account; the credit model's features and
scores are recomputed so the next answer sees the new rows. One ingest at a time
(``Services.ingest_lock``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from governance.anchoring import anchor_receipt
from governance.errors import InvalidRequest, NotFound
from ledger import LedgerError
from vault import Receipt, ingest_file
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


def accept_contribution(services: Services, provider: str, table: str, path: Path) -> Receipt:
    """Ingest ``path`` for ``provider``'s ``table``, anchor its root (a ledger that cannot
    be reached leaves it unanchored, for `dexin ledger anchor`), refresh the scores.
    Raises `RefusedContribution`, `NotFound` (a table the provider does not contribute),
    `InvalidRequest` (an unreadable file)."""
    with services.ingest_lock:
        try:
            receipt = ingest_file(services.vault, provider, table, path)
        except verr.ContributionRefused as exc:
            refused = exc.receipt if isinstance(exc.receipt, Receipt) else None
            raise RefusedContribution(refused, exc.reason) from None
        except (verr.UnknownTableError, verr.UnknownProviderError):
            raise NotFound("table_not_contributed_by_provider") from None
        except verr.VaultError:
            raise InvalidRequest(reason="unreadable_contribution") from None
        try:
            anchor = anchor_receipt(services.ledger, services.vault, receipt)
        except LedgerError:
            anchor = None  # recorded unanchored; `dexin ledger anchor` completes it later
        if receipt.accepted and not receipt.already_loaded:
            services.scores.refresh()  # the next score sees the new rows
    return receipt.model_copy(update={"anchor": anchor or receipt.anchor})
