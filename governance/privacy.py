"""Releasing aggregate cells: OpenDP noise, then small-cell suppression of the noisy counts.

Every cell the caller passes — every group of the computation's declared domain, empty ones
included — goes through one OpenDP vector discrete-Laplace measurement with scale
``sensitivity / epsilon``, whose privacy map is checked to cost at most ``epsilon`` before
anything is released. Suppression then reads only the *noisy* count (a cell whose noisy
count is below ``min_cell`` is withheld), and released counts are clamped at 0: both are
post-processing, so the whole release — the cells shown and the pattern of suppressed ones —
is ε-differentially private for the declared L1 ``sensitivity`` (docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import opendp.prelude as dp

dp.enable_features("contrib")  # the discrete Laplace mechanism is in OpenDP's contrib set


@dataclass(frozen=True)
class Cell:
    group: dict[str, Any]
    count: int | None  # None when suppressed
    suppressed: bool


def release(
    cells: list[tuple[dict[str, Any], int]], *, epsilon: float, sensitivity: int, min_cell: int
) -> list[Cell]:
    """Add discrete Laplace noise to every cell, then suppress those whose *noisy* count is
    below ``min_cell`` (ε-DP for L1 ``sensitivity``; the true counts are read only by the
    measurement)."""
    if not cells:
        return []
    measurement = laplace_for(epsilon, sensitivity)
    noisy = measurement([count for _, count in cells])
    return [
        Cell(group, None, True) if n < min_cell else Cell(group, max(0, int(n)), False)
        for (group, _), n in zip(cells, noisy, strict=True)
    ]


def laplace_for(epsilon: float, sensitivity: int) -> Any:
    """The OpenDP measurement; raises ValueError if it would cost more than ``epsilon``."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    measurement = dp.m.make_laplace(*space, scale=sensitivity / epsilon)
    if measurement.map(sensitivity) > epsilon * (1 + 1e-9):  # type: ignore[no-untyped-call]
        raise ValueError("the mechanism would exceed its budget")
    return measurement
