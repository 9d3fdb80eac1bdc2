"""Privacy budgets (ε): what an approval grants, what remains, and the tolerance of sums.

An approval for an aggregate computation carries ε (its privacy budget); each release
spends the ε the bank chose for it, atomically in the control plane
(`ControlPlane.spend_epsilon`), and never beyond the grant (`EPSILON_SLACK` only absorbs
the rounding of floating-point sums).
"""

from __future__ import annotations

from governance.models import AccessRequest

__all__ = ["EPSILON_SLACK", "affordable", "remaining_epsilon"]

EPSILON_SLACK = 1e-9


def remaining_epsilon(request: AccessRequest) -> float | None:
    """The ε an approval has left (never negative); None if it grants no budget."""
    if request.epsilon is None:
        return None
    return max(0.0, request.epsilon - request.epsilon_spent)


def affordable(request: AccessRequest, cost: float) -> bool:
    """Whether ``cost`` fits in what remains (within `EPSILON_SLACK`)."""
    left = remaining_epsilon(request)
    return left is not None and cost <= left + EPSILON_SLACK
