"""Which members of a household an answer about the household may use (issue 13, finding 1).

A household score used to average every scored adult of the applicant's household on the
applicant's consent alone: with two adults, the other's dimensions followed as 2·H − A, and
their veto reached the bank. Now a household computation uses the applicant (whose consent
the bank presented, checked to cover the computation) and only those other members whose own
consent, valid now, to the same bank for the same purpose, covers the same computation. The
answer says how many members it used and how many adults it left out, never who; each used
member gets an audit entry naming them, so the access shows in their "who accessed me".

With only the applicant consenting the answer is still given: it is computed from the
applicant's own data alone (their own score, as a household of one), and refusing would
deny every one-adult household while telling the bank the same thing (that no other adult
consented). What a bank learns about members who did not consent is their number
(``members_left_out``: adults whose score the computation would otherwise have used).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.catalogue import Computation
    from governance.services import Services

__all__ = ["MEMBER_ACTION", "HouseholdMember", "MembersUsed", "members_used"]

# The action of the entries of a household answer's members other than the applicant (whose
# entry, ``POST /v1/scores``, is the answer's receipt): another action, so the quota's floor
# (`AccessIndex.answered`) counts one answer once, and the bank that caused them does not
# read them back (``GET /v1/audit/entries/{index}``: they name other people).
MEMBER_ACTION = "POST /v1/scores (household member)"


@dataclass(frozen=True)
class HouseholdMember:
    """A member of a household as the score service knows them: the pseudonym, and whether
    the scorecard would use their dimensions (an adult with enough records)."""

    subject: str
    scorable: bool


@dataclass(frozen=True)
class MembersUsed:
    """The subjects one answer uses, each with the consent that covers it (the applicant
    first), the household they belong to (None for a person computation or an applicant
    the model does not know) and how many scorable members were left out."""

    household: str | None
    consents: dict[str, str]
    left_out: int

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(self.consents)


def members_used(
    services: Services,
    computation: Computation,
    bank: str,
    purpose: str,
    applicant: str,
    consent_id: str,
) -> MembersUsed:
    """The members an answer of ``computation`` for ``applicant`` (whose consent
    ``consent_id`` was already checked to cover it) may use: the applicant alone for a
    person computation; for a household computation also every other member with a
    covering consent of their own (`ControlPlane.covering_consents`)."""
    alone = MembersUsed(None, {applicant: consent_id}, 0)
    if computation.unit != "household":
        return alone
    household = services.scores.household_of(applicant)
    if household is None:
        return alone
    others = [m for m in services.scores.household_members(household) if m.subject != applicant]
    covering = services.control.covering_consents(
        [m.subject for m in others], bank, purpose, computation.id
    )
    consents = {applicant: consent_id}
    consents.update((m.subject, covering[m.subject]) for m in others if m.subject in covering)
    left_out = sum(1 for m in others if m.scorable and m.subject not in covering)
    return MembersUsed(household, consents, left_out)
