"""Granting and withdrawing consent: the use cases the API and the console share.

A consent names one subject, one bank, one purpose and the computations it covers (the
resident's choice: by default the person-level ones, a household computation only when asked,
issue 13 finding 1), until it expires or is withdrawn;
withdrawal takes effect on the next call (the control plane drops its snapshot). Every grant
and withdrawal goes on the anchored consent log (`governance.consent_log`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Literal

from governance.control import utcnow
from governance.credentials import Role
from governance.errors import InvalidRequest
from governance.identity import grant_terms, withdrawal_terms
from governance.ids import loggable
from governance.models import Consent
from governance.residents import require_evidence

if TYPE_CHECKING:
    from governance.catalogue import Catalogue
    from governance.services import Services

__all__ = [
    "ConsentStatus",
    "consent_status",
    "covered_computations",
    "grant_consent",
    "offered_computations",
    "withdraw_consent",
]

ConsentStatus = Literal["active", "withdrawn", "expired"]


def consent_status(consent: Consent) -> ConsentStatus:
    if consent.withdrawn_at:
        return "withdrawn"
    return "expired" if consent.expires_at <= utcnow() else "active"


def offered_computations(
    catalogue: Catalogue, purpose: str, units: Collection[str]
) -> tuple[str, ...]:
    """The ids of the subject computations of ``units`` the catalogue offers for
    ``purpose``, sorted."""
    found = (c for c in catalogue if c.privacy == "subject" and purpose in c.purposes)
    return tuple(sorted(c.id for c in found if c.unit in units))


def covered_computations(
    catalogue: Catalogue, purpose: str, computations: Sequence[str] | None
) -> tuple[str, ...]:
    """The sorted, distinct computation ids a consent for ``purpose`` will cover: by default
    those about the resident alone (unit ``person``), never one computed over their
    household's members unless named. Raises `InvalidRequest`
    (``consent_computation_unknown``: not a subject computation offered for ``purpose``;
    ``consent_computations_empty``: it would cover nothing)."""
    chosen = (
        offered_computations(catalogue, purpose, {"person"})
        if computations is None
        else computations
    )
    if not set(chosen) <= set(offered_computations(catalogue, purpose, {"person", "household"})):
        raise InvalidRequest(reason="consent_computation_unknown")
    if not chosen:
        raise InvalidRequest(reason="consent_computations_empty")
    return tuple(sorted(set(chosen)))


def grant_consent(
    services: Services,
    subject: str,
    bank: str,
    purpose: str,
    expires_at: dt.datetime,
    context: dict[str, Any],
    computations: Sequence[str] | None = None,
    evidence: str | None = None,
) -> Consent:
    """The subject's consent to ``bank`` for ``purpose`` until ``expires_at``, covering
    ``computations`` (default: the person-level ones, `covered_computations`); raises
    `InvalidRequest` (``unknown_bank``, ``expires_at_past``, and those of
    `covered_computations`) and `PolicyDenied` without ``evidence``: the ID token of the
    resident's fresh sign-in at the IdP for exactly these terms (`governance.identity`;
    ``consent_evidence_missing``, or the evidence's own refusal). ``context`` collects what
    the audit entry records."""
    context.update(subject=subject, purpose=purpose)
    covers = covered_computations(services.catalogue, purpose, computations)
    found = services.control.active_client(bank)
    if found is None or found.role != Role.BANK.value:
        raise InvalidRequest(reason="unknown_bank")
    if expires_at <= utcnow():
        raise InvalidRequest(reason="expires_at_past")
    expires_at = expires_at.replace(microsecond=0)  # the terms name whole seconds
    terms = grant_terms(found.client_id, purpose, covers, expires_at)
    proof = require_evidence(services, subject, terms, evidence)
    consent = services.control.add_consent(subject, found.client_id, purpose, expires_at, covers)
    context["consent"] = consent.id
    services.consents.record(consent, "granted", proof)
    return consent


def withdraw_consent(
    services: Services,
    subject: str,
    consent_id: str,
    context: dict[str, Any],
    evidence: str | None = None,
) -> Consent:
    """Withdraw the subject's own consent, effective on the next call; `NotFound` for
    another subject's or an unknown id, `Conflict` if already withdrawn, `PolicyDenied`
    without ``evidence`` of a fresh sign-in for this withdrawal (as for a grant)."""
    context.update(subject=subject, consent=loggable(consent_id))
    proof = require_evidence(services, subject, withdrawal_terms(consent_id), evidence)
    consent = services.control.withdraw(consent_id, subject)
    services.consents.record(consent, "withdrawn", proof)
    return consent
