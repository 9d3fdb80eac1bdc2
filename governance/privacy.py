"""Releasing aggregate cells: small-cell suppression, then OpenDP noise.

Cells whose true group size is below ``min_cell`` are suppressed (a statistical-disclosure
rule the issue asks for; the suppression pattern itself is not covered by the DP
guarantee — documented in docs/api.md). All counts go through one OpenDP vector discrete
Laplace measurement with scale ``sensitivity / epsilon``, whose privacy map is checked to
cost at most ``epsilon`` before anything is released; noisy counts are clamped at 0
(post-processing).
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
    """Suppress small cells and add discrete Laplace noise (ε-DP for L1 ``sensitivity``)."""
    if not cells:
        return []
    measurement = laplace_for(epsilon, sensitivity)
    noisy = measurement([count for _, count in cells])
    return [
        Cell(group, None, True) if count < min_cell else Cell(group, max(0, int(n)), False)
        for (group, count), n in zip(cells, noisy, strict=True)
    ]


def laplace_for(epsilon: float, sensitivity: int) -> Any:
    """The OpenDP measurement; raises ValueError if it would cost more than ``epsilon``."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    measurement = dp.m.make_laplace(*space, scale=sensitivity / epsilon)
    if measurement.map(sensitivity) > epsilon * (1 + 1e-9):  # type: ignore[no-untyped-call]
        raise ValueError("the mechanism would exceed its budget")
    return measurement
