"""The consent log: an append-only list of consent events whose Merkle root is anchored.

Every grant and withdrawal is one leaf: the RFC 6962 leaf hash of the RFC 8785 canonical
entry (consent id, event, bank, purpose, computations covered, expiry, time, the SHA-256 of
the IdP's ID token proving the event — the subject's pseudonym only as a keyed digest, so
the public root reveals nothing). After each event the root over all
leaves is anchored on the ledger (kind CONSENT_LOG). Anchoring is best effort: a consent
withdrawal takes effect whether or not the ledger answers, and the next anchor covers it.
"""

from __future__ import annotations

import hashlib
import threading

import rfc8785
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from audit import merkle
from governance.control import utcnow
from governance.identity import evidence_digest
from governance.models import Consent, ConsentEvent
from ledger import AlreadyAnchoredError, AnchorKind, Ledger, LedgerError

METADATA = hashlib.sha256(b"dexin.consent-log.v1").digest()
# What a consent covers when its events name no computations: those logged before consents
# named them (migration 0003) covered the person-level computations only.
UNNAMED_COVERAGE = ("dimension_profile", "morality_credit_score")


def subject_digest(subject: str) -> str:
    """The keyed-free digest of a pseudonym the log names a resident by (the pseudonym is
    itself a keyed HMAC, so the digest reveals nothing without the vault's key)."""
    return hashlib.sha256(b"dexin.consent-subject:" + subject.encode()).hexdigest()


class ConsentLog:
    def __init__(self, sessions: sessionmaker[Session], ledger: Ledger, signer: str) -> None:
        self.sessions = sessions
        self.ledger = ledger
        self.signer = signer
        self._lock = threading.Lock()

    def record(self, consent: Consent, event: str, evidence: str | None = None) -> None:
        """Append the event (with the digest of the IdP's ID token that proves it, kept in
        full beside the entry) and anchor the new root."""
        entry = rfc8785.dumps(
            {
                "consent": consent.id,
                "event": event,
                "bank": consent.bank_id,
                "purpose": consent.purpose,
                "computations": list(consent.covers),
                "expires_at": consent.expires_at.isoformat(),
                "subject_digest": subject_digest(consent.subject),
                "at": utcnow().isoformat(),
                "evidence": None if evidence is None else evidence_digest(evidence),
            }
        )
        with self._lock:
            with self.sessions.begin() as s:
                s.add(
                    ConsentEvent(
                        consent_id=consent.id,
                        event=event,
                        entry=entry.decode(),
                        leaf_hash=merkle.leaf_hash(entry).hex(),
                        at=utcnow(),
                        evidence=evidence,
                    )
                )
            self._anchor()

    def state(self) -> tuple[int, bytes]:
        with self.sessions() as s:
            leaves = [
                bytes.fromhex(h)
                for h in s.scalars(select(ConsentEvent.leaf_hash).order_by(ConsentEvent.seq))
            ]
        return len(leaves), merkle.root(leaves) if leaves else hashlib.sha256(b"").digest()

    def _anchor(self) -> None:
        size, root = self.state()
        try:
            done = self.ledger.anchor(
                AnchorKind.CONSENT_LOG, root, size, METADATA, signer=self.signer
            )
            reference = f"block {done.block_number} tx {done.tx_hash}"
        except AlreadyAnchoredError:
            return
        except LedgerError:
            return  # best effort; the next event's anchor covers this one
        with self.sessions.begin() as s:
            last = s.scalar(select(ConsentEvent.seq).order_by(ConsentEvent.seq.desc()).limit(1))
            s.execute(update(ConsentEvent).where(ConsentEvent.seq == last).values(anchor=reference))

    def last_anchor(self) -> str | None:
        with self.sessions() as s:
            q = select(ConsentEvent.anchor).where(ConsentEvent.anchor.is_not(None))
            return s.scalar(q.order_by(ConsentEvent.seq.desc()).limit(1))
