"""Residents as the identity provider knows them: the link from a pairwise ``sub`` to a
pseudonym, and the proof a consent event needs.

An identifying sign-in (scope ``dexin_resident``) releases the resident's ID number once: it
is pseudonymised at once (`Vault.subject_pseudonym`, the keyed HMAC the vault stores rows
under) and only the link (issuer, ``sub``) → pseudonym is recorded. Every later sign-in,
including the fresh ones that prove a consent's terms, names the resident by ``sub`` alone.

`require_evidence` is the rule every consent grant and withdrawal goes through: a verified
ID token of a fresh sign-in, for exactly the event's terms, by the resident whose pseudonym
the consent names. Without one the event is refused, unless the deployment set
``DEXIN_UNSAFE_DEV_IDENTITY`` (development and tests; the event is then logged without
evidence and `dexin audit verify` names it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from governance.control import utcnow
from governance.errors import PolicyDenied
from governance.identity import EvidenceRejected, VerifiedEvidence
from governance.models import ResidentLink
from vault import InvalidIdNumber

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["link_resident", "require_evidence", "subject_of"]


def link_resident(services: Services, evidence: VerifiedEvidence) -> str:
    """The pseudonym of the resident an identifying sign-in names, linked to its ``sub``
    (a link already made must agree). Raises `EvidenceRejected` (``id_number_missing``,
    ``id_number_invalid``, ``link_conflict``)."""
    oidc = services.settings.oidc
    claim = evidence.claims.get(oidc.id_number_claim) if oidc else None
    if not isinstance(claim, str):
        raise EvidenceRejected("id_number_missing")
    try:
        subject = services.vault.subject_pseudonym(claim)
    except InvalidIdNumber:
        raise EvidenceRejected("id_number_invalid") from None
    with services.control.sessions.begin() as s:
        found = s.get(ResidentLink, (evidence.issuer, evidence.sub))
        if found is None:
            s.add(ResidentLink(issuer=evidence.issuer, sub=evidence.sub, subject=subject,
                               linked_at=utcnow()))  # fmt: skip
        elif found.subject != subject:
            raise EvidenceRejected("link_conflict")
    return subject


def subject_of(services: Services, issuer: str, sub: str) -> str | None:
    with services.control.sessions() as s:
        return s.scalar(
            select(ResidentLink.subject).where(
                ResidentLink.issuer == issuer, ResidentLink.sub == sub
            )
        )


def require_evidence(
    services: Services, subject: str, terms: dict[str, Any], id_token: str | None
) -> str | None:
    """The ID token proving ``terms`` for ``subject``, verified; None only on the unsafe
    development path. Raises `PolicyDenied` with a fixed reason."""
    if id_token is None:
        if services.settings.unsafe_dev_identity:
            return None
        raise PolicyDenied("consent_evidence_missing")
    party = services.relying_party
    if party is None:
        raise PolicyDenied("no_identity_provider")
    try:
        evidence = party.verify(id_token, terms)
    except EvidenceRejected as exc:
        raise PolicyDenied(exc.reason) from None
    if subject_of(services, evidence.issuer, evidence.sub) != subject:
        raise PolicyDenied("evidence_other_resident")
    return id_token
