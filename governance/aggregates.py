"""Releasing an approved aggregate: the use case, and where its true counts come from.

`release_aggregate` is the use case behind ``POST /v1/aggregates``: the approval, its
computation, the parameters (of the declared formats, recorded in the audit entry, and inside
the approval's scope: `governance.scope`), a preview (what it would cost) or a release that
spends one quota unit and the chosen ε, then OpenDP noise and suppression of small noisy
counts (`governance.privacy`). `AggregateSource` is the narrow interface to the true counts
of every declared cell; `VaultAggregates` dispatches each catalogued computation to its
query in the vault (`vault.statistics`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from governance.approvals import usable_approval
from governance.budget import affordable, remaining_epsilon
from governance.catalogue import Computation
from governance.credentials import Principal
from governance.errors import BudgetExhausted, InvalidRequest, PolicyDenied
from governance.ids import loggable, loggable_name
from governance.privacy import Cell, release
from governance.scope import check_parameters, require_within
from vault import Vault, statistics

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["AggregateQuery", "AggregateRelease", "AggregateSource", "VaultAggregates",
           "release_aggregate"]  # fmt: skip

Cells = list[tuple[dict[str, Any], int]]
MECHANISM = "opendp discrete laplace"


@dataclass(frozen=True)
class AggregateQuery:
    computation: str
    access_request_id: str
    parameters: dict[str, str]
    epsilon: float
    preview: bool


@dataclass(frozen=True)
class AggregateRelease:
    """A preview (``cells`` None: what the release would cost) or the released cells."""

    computation: str
    computation_version: int
    cost: float
    min_cell: int
    mechanism: str
    preview: bool
    epsilon_remaining: float
    sufficient: bool
    cells: list[Cell] | None


def release_aggregate(
    services: Services, who: Principal, query: AggregateQuery, context: dict[str, Any]
) -> AggregateRelease:
    """Preview or release one approved aggregate. Raises `PolicyDenied` (``outside_scope``
    among others), `InvalidRequest`, `QuotaExhausted`, `BudgetExhausted`; ``context``
    collects what the audit entry records (the parameters once their format is checked)."""
    context.update(computation=loggable_name(query.computation),
                   access_request=loggable(query.access_request_id))  # fmt: skip
    found, computation = usable_approval(services, who, query.access_request_id, "aggregate")
    context["purpose"] = found.purpose
    if computation.id != query.computation:
        raise PolicyDenied("wrong_computation")
    check_parameters(computation, query.parameters)
    context["parameters"] = dict(query.parameters)
    require_within(computation, found.scope, query.parameters)
    remaining = remaining_epsilon(found)
    if remaining is None:
        raise PolicyDenied("no_budget")
    min_cell = services.settings.min_cell
    made = functools.partial(AggregateRelease, computation=computation.id,
                             computation_version=computation.version, cost=query.epsilon,
                             min_cell=min_cell, mechanism=MECHANISM)  # fmt: skip
    if query.preview:
        sufficient = affordable(found, query.epsilon)
        return made(preview=True, epsilon_remaining=remaining, sufficient=sufficient, cells=None)
    services.control.spend_quota(found)
    try:
        remaining = services.control.spend_epsilon(found, query.epsilon)
    except BudgetExhausted:
        services.control.refund_quota(found)  # nothing was released: the unit is not used
        raise
    counts = services.aggregates.counts(computation, dict(query.parameters))
    cells = release(counts, epsilon=query.epsilon, sensitivity=computation.sensitivity or 1,
                    min_cell=min_cell)  # fmt: skip
    return made(preview=False, epsilon_remaining=remaining, sufficient=True, cells=cells)


class AggregateSource(Protocol):
    def counts(self, computation: Computation, parameters: dict[str, str]) -> Cells:
        """The true count of every cell of the computation's declared domain, in order."""
        ...


class VaultAggregates:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def counts(self, computation: Computation, parameters: dict[str, str]) -> Cells:
        codes = computation.domains.get("code", ())
        if computation.id == "grade_distribution_by_town":
            return statistics.grade_counts(self._vault, codes)
        if computation.id == "grade_distribution_by_village":
            town = parameters.get("town")
            if not town:
                raise InvalidRequest(reason="missing_parameter")
            return statistics.grade_counts(self._vault, codes, town=town)
        if computation.id == "negative_records_by_town_year":
            return statistics.negative_counts_by_town_year(self._vault)
        raise InvalidRequest(reason="unknown_computation")
