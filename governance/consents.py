"""Granting and withdrawing consent: the use cases the API and the console share.

A consent names one subject, one bank and one purpose, until it expires or is withdrawn;
withdrawal takes effect on the next call (the control plane drops its snapshot). Every grant
and withdrawal goes on the anchored consent log (`governance.consent_log`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from governance.control import utcnow
from governance.credentials import Role
from governance.errors import InvalidRequest
from governance.ids import loggable
from governance.models import Consent

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["ConsentStatus", "consent_status", "grant_consent", "withdraw_consent"]

ConsentStatus = Literal["active", "withdrawn", "expired"]


def consent_status(consent: Consent) -> ConsentStatus:
    if consent.withdrawn_at:
        return "withdrawn"
    return "expired" if consent.expires_at <= utcnow() else "active"


def grant_consent(
    services: Services,
    subject: str,
    bank: str,
    purpose: str,
    expires_at: dt.datetime,
    context: dict[str, Any],
) -> Consent:
    """The subject's consent to ``bank`` for ``purpose`` until ``expires_at``; raises
    `InvalidRequest` (``unknown_bank``, ``expires_at_past``). ``context`` collects what the
    audit entry records."""
    context.update(subject=subject, purpose=purpose)
    found = services.control.active_client(bank)
    if found is None or found.role != Role.BANK.value:
        raise InvalidRequest(reason="unknown_bank")
    if expires_at <= utcnow():
        raise InvalidRequest(reason="expires_at_past")
    consent = services.control.add_consent(subject, found.client_id, purpose, expires_at)
    context["consent"] = consent.id
    services.consents.record(consent, "granted")
    return consent


def withdraw_consent(
    services: Services, subject: str, consent_id: str, context: dict[str, Any]
) -> Consent:
    """Withdraw the subject's own consent, effective on the next call; `NotFound` for
    another subject's or an unknown id, `Conflict` if already withdrawn."""
    context.update(subject=subject, consent=loggable(consent_id))
    consent = services.control.withdraw(consent_id, subject)
    services.consents.record(consent, "withdrawn")
    return consent
