"""How large one contribution may be: rows, columns and expanded bytes, checked before staging.

A contribution is refused as a whole, before any of its rows is read, when its header or
Parquet footer says it exceeds a limit; for Parquet the decoded size of its text values is
then counted by a streaming pass that stores nothing, before the rows are staged (a
dictionary- or run-length-encoded column can expand far beyond what the footer declares).
The refusal names the limit, never the contribution's own figures. Nothing is recorded in
the vault for such a file: it was never read.

The application sets the limits (``DEXIN_MAX_ROWS``, ``DEXIN_MAX_COLUMNS``,
``DEXIN_MAX_EXPANDED_BYTES``, `dexin.settings`) for the CLI and the gateway alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vault.errors import ContributionRefused

Limit = Literal["max_rows", "max_columns", "max_expanded_bytes"]

REASONS: dict[Limit, str] = {
    "max_rows": "too_many_rows",
    "max_columns": "too_many_columns",
    "max_expanded_bytes": "too_many_expanded_bytes",
}


@dataclass(frozen=True)
class IngestLimits:
    """Per contribution: data rows, columns, and bytes once decompressed and decoded.

    The defaults fit the largest table of a full-scale Yuyao (11 M rows, about 1 GiB as text)
    with room to spare.
    """

    max_rows: int = 20_000_000
    max_columns: int = 64
    max_expanded_bytes: int = 4 * 1024**3

    def __post_init__(self) -> None:
        if min(self.max_rows, self.max_columns, self.max_expanded_bytes) <= 0:
            raise ValueError("ingest limits must be positive")

    def check(self, rows: int = 0, columns: int = 0, expanded: int = 0) -> None:
        """Raise `ContributionTooLarge` naming the first limit exceeded (columns, rows, bytes)."""
        measured: tuple[tuple[Limit, int, int], ...] = (
            ("max_columns", columns, self.max_columns),
            ("max_rows", rows, self.max_rows),
            ("max_expanded_bytes", expanded, self.max_expanded_bytes),
        )
        for limit, value, allowed in measured:
            if value > allowed:
                raise ContributionTooLarge(limit)


class ContributionTooLarge(ContributionRefused):
    """The contribution exceeds ``limit``; refused before staging, recorded nowhere.

    ``reason_code`` (``too_many_rows``, ``too_many_columns``, ``too_many_expanded_bytes``) is
    what the gateway answers with; the message names the limit only.
    """

    def __init__(self, limit: Limit) -> None:
        super().__init__(f"the contribution exceeds the ingest limit {limit}")
        self.limit: Limit = limit
        self.reason_code = REASONS[limit]
