"""The auditor's check that every consent event was proved by the resident at the IdP.

For each event of the consent log: the ID token kept beside the entry hashes to the digest
the (anchored) entry binds; it verifies against the IdP's JWKS the auditor pinned, was issued
to our client, and its nonce is the digest of exactly the terms the entry records (grant:
bank, purpose, computations, expiry; withdrawal: the consent); the sign-in happened within
`governance.identity.FRESHNESS` before the event; and its pairwise ``sub`` is linked to the
resident whose keyed digest the entry names. The link itself (``resident_links``) is the
operator's record of an identifying sign-in; docs/audit.md says what it rests on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from governance.consent_log import subject_digest
from governance.identity import (
    EvidenceRejected,
    evidence_digest,
    grant_terms,
    verify_evidence,
    withdrawal_terms,
)
from governance.models import ConsentEvent, ResidentLink

__all__ = ["EvidenceFinding", "check_consent_evidence"]


@dataclass(frozen=True)
class EvidenceFinding:
    """A consent event whose evidence does not prove it; ``problem`` is a fixed code."""

    seq: int
    consent_id: str
    event: str
    problem: str


def check_consent_evidence(
    engine: Engine, jwks: Mapping[str, Any], *, issuer: str, audience: str
) -> tuple[int, list[EvidenceFinding]]:
    """(events checked, findings) over the whole consent log."""
    with Session(engine) as s:
        events = list(s.scalars(select(ConsentEvent).order_by(ConsentEvent.seq)))
        links = {(r.issuer, r.sub): r.subject for r in s.scalars(select(ResidentLink))}
    findings = []
    for event in events:
        problem = _problem(event, links, jwks, issuer, audience)
        if problem is not None:
            findings.append(EvidenceFinding(event.seq, event.consent_id, event.event, problem))
    return len(events), findings


def _problem(
    event: ConsentEvent,
    links: Mapping[tuple[str, str], str],
    jwks: Mapping[str, Any],
    issuer: str,
    audience: str,
) -> str | None:
    entry = json.loads(event.entry)
    bound = entry.get("evidence")
    if bound is None:
        return "recorded_without_sign_in"
    if event.evidence is None or evidence_digest(event.evidence) != bound:
        return "evidence_not_the_bound_one"
    try:
        proved = verify_evidence(event.evidence, jwks, issuer=issuer, audience=audience,
                                 terms=_terms(entry), recorded_at=_time(entry["at"]))  # fmt: skip
    except EvidenceRejected as exc:
        return exc.reason
    subject = links.get((proved.issuer, proved.sub))
    if subject is None or subject_digest(subject) != entry.get("subject_digest"):
        return "evidence_other_resident"
    return None


def _terms(entry: Mapping[str, Any]) -> dict[str, Any]:
    if entry["event"] == "withdrawn":
        return withdrawal_terms(entry["consent"])
    return grant_terms(entry["bank"], entry["purpose"], entry.get("computations", []),
                       _time(entry["expires_at"]))  # fmt: skip


def _time(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
