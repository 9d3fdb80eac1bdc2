"""Access requests and officers' decisions: filing, voting, revoking (API and console).

m-of-n approval happens on the ledger (`governance.approvals`): each officer's decision
carries that officer's WebAuthn assertion over the decision (`decision_challenge` gives what
to sign), the gateway and the contract verify it, and the approval becomes usable when
``threshold`` distinct officers approved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from governance.control import utcnow
from governance.errors import InvalidRequest
from governance.ids import loggable
from governance.models import AccessRequest
from governance.scope import ScopeValue, check_scope, normalise_scope
from ledger import Decision as LedgerDecision

if TYPE_CHECKING:
    from governance.services import Services

__all__ = [
    "AccessRequestDraft",
    "cast_vote",
    "decision_challenge",
    "file_request",
    "revoke_approval",
]

Decision = Literal["approve", "reject"]


@dataclass(frozen=True)
class AccessRequestDraft:
    """What a bank files: the computation (pinned by its hash), purpose, scope and limits."""

    computation: str
    computation_hash: str
    purpose: str
    scope: dict[str, ScopeValue] | None  # scoped input -> one allowed value or several
    quota: int
    epsilon: float | None
    valid_until: dt.datetime


def file_request(
    services: Services, bank: str, draft: AccessRequestDraft, context: dict[str, Any]
) -> AccessRequest:
    """File a bank's access request (pending until m officers approve); `InvalidRequest`
    with ``computation_hash_mismatch``, ``purpose_not_allowed``, ``valid_until_past``,
    ``epsilon_only_for_aggregates`` or a ``scope_*`` reason (`governance.scope.check_scope`);
    `NotFound` for an unknown computation."""
    context.update(computation=draft.computation, purpose=draft.purpose)
    computation = services.catalogue.get(draft.computation)
    if draft.computation_hash != computation.hash:
        raise InvalidRequest(reason="computation_hash_mismatch")
    if draft.purpose not in computation.purposes:
        raise InvalidRequest(reason="purpose_not_allowed")
    if draft.valid_until <= utcnow():
        raise InvalidRequest(reason="valid_until_past")
    if (computation.privacy == "aggregate") != (draft.epsilon is not None):
        raise InvalidRequest(reason="epsilon_only_for_aggregates")
    scope = normalise_scope(draft.scope)
    check_scope(computation, scope)  # deny by default: every scoped input, nothing else
    filed = services.approvals.file(bank, computation, draft.purpose, scope, draft.quota,
                                    draft.epsilon, draft.valid_until)  # fmt: skip
    context["access_request"] = filed.id
    return filed


def cast_vote(
    services: Services,
    officer: str,
    request_id: str,
    decision: Decision,
    assertion: dict[str, Any],
    context: dict[str, Any],
) -> AccessRequest:
    """The officer's vote on the ledger, carried by ``assertion`` (the officer's WebAuthn
    assertion over the decision's challenge, `decision_challenge`); the request as it stands
    after it. `PolicyDenied` (``officer_signature_invalid``, ``no_officer_key``)."""
    context["access_request"] = loggable(request_id)
    return services.approvals.vote(request_id, officer, decision, assertion)


def revoke_approval(
    services: Services,
    officer: str,
    request_id: str,
    assertion: dict[str, Any],
    context: dict[str, Any],
) -> AccessRequest:
    """Revoke an approval (on the ledger), signed by the officer; refused on the next call
    everywhere."""
    context["access_request"] = loggable(request_id)
    return services.approvals.revoke(request_id, officer, assertion)


def decision_challenge(
    services: Services, officer: str, request_id: str, decision: Decision | Literal["revoke"]
) -> dict[str, Any]:
    """What officer ``officer`` signs to take ``decision`` on the request: the WebAuthn
    request options (challenge, relying party, the officer's credentials) and the signed
    document itself, so a client can show and recompute it. `PolicyDenied`
    (``no_officer_key``), `NotFound`."""
    kind = {"approve": LedgerDecision.APPROVE, "reject": LedgerDecision.REJECT,
            "revoke": LedgerDecision.REVOKE}[decision]  # fmt: skip
    challenge, document = services.approvals.decision(request_id, kind)
    options = services.approvals.passkeys.decision_options(officer, challenge)
    return {"options": options, "document": document}
