"""Idempotent answers: a retried score or aggregate gets the answer already signed, once.

A bank sends ``POST /v1/scores`` or ``POST /v1/aggregates`` with an ``Idempotency-Key``
(draft-ietf-httpapi-idempotency-key-header; a UUID is the usual choice). The first request
with a key claims it (`IdempotentAnswers.claim`); once it is answered, the exact bytes sent
and their signature are kept for `WINDOW` (`keep`). A retry within the window with the same
key and the same body gets those bytes and that signature again (`claim` returns them):
no second quota unit, no second ε, no second answer — its audit entry says so
(`audit_replay`: ``allow`` with reason ``idempotent_replay``, the digest of the bytes
replayed, no subject, and not counted as an answer). The same key with another body is
refused (422 ``idempotency_key_reused``), and so is a retry while the first request is still
being answered (409 ``idempotency_key_in_flight``). A request that was refused keeps
nothing (`release`): its retry is a new request.

Keys are kept in the control plane, so every gateway process sees them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from governance.approvals import usable_approval
from governance.audit_trail import AuditAppendError, append_durably, make_entry
from governance.credentials import Principal
from governance.errors import AuditUnavailable, Conflict, InvalidRequest
from governance.ids import loggable
from governance.models import IdempotentAnswer

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["REPLAY_REASON", "WINDOW", "IdempotentAnswers", "StoredAnswer", "audit_answer",
           "audit_replay", "fingerprint", "idempotency_key"]  # fmt: skip

WINDOW = dt.timedelta(hours=24)
ABANDONED = dt.timedelta(seconds=60)  # a claim never answered (a crash) frees its key
REPLAY_REASON = "idempotent_replay"
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


@dataclass(frozen=True)
class StoredAnswer:
    """The exact bytes answered, their detached signature and SHA-256 (hex)."""

    body: bytes
    signature: str | None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def idempotency_key(value: str | None) -> str | None:
    """The header's key, or None when absent; `InvalidRequest` for a malformed one (8 to 64
    characters of letters, digits and ``._:-``)."""
    if value is None:
        return None
    if not _KEY.fullmatch(value):
        raise InvalidRequest([{"loc": ["header", "Idempotency-Key"], "type": "string_pattern_mismatch"}],
                             reason="idempotency_key_invalid")  # fmt: skip
    return value


def fingerprint(action: str, body: str) -> str:
    """What makes a retry the same request: the route and the parsed body (canonical)."""
    return hashlib.sha256(f"{action}\n{body}".encode()).hexdigest()


class IdempotentAnswers:
    def __init__(self, sessions: sessionmaker[Session], window: dt.timedelta = WINDOW) -> None:
        self.sessions = sessions
        self.window = window

    def claim(self, client_id: str, key: str, fingerprint: str) -> StoredAnswer | None:
        """None: the key is now this request's (answer it, then `keep` or `release`); or the
        answer an earlier request with this key and body was given. Raises `InvalidRequest`
        (``idempotency_key_reused``: another body) and `Conflict`
        (``idempotency_key_in_flight``)."""
        now = dt.datetime.now(dt.UTC)
        try:
            with self.sessions.begin() as s:
                s.execute(delete(IdempotentAnswer).where(IdempotentAnswer.expires_at <= now))
                row = s.get(IdempotentAnswer, (client_id, key))
                if (
                    row is not None
                    and row.status == "pending"
                    and row.created_at <= now - ABANDONED
                ):
                    s.delete(row)
                    s.flush()
                    row = None
                if row is None:
                    s.add(IdempotentAnswer(client_id=client_id, key=key, fingerprint=fingerprint,
                                           status="pending", created_at=now,
                                           expires_at=now + self.window))  # fmt: skip
                    return None
                return _stored(row, fingerprint)
        except IntegrityError:  # two first requests at once: the other one claimed it
            raise Conflict("idempotency_key_in_flight") from None

    def keep(self, client_id: str, key: str, answer: StoredAnswer) -> None:
        """Store the answer the claim led to (the retry's answer from now on)."""
        with self.sessions.begin() as s:
            row = s.get(IdempotentAnswer, (client_id, key))
            if row is not None and row.status == "pending":
                row.status, row.body, row.signature = "done", answer.body, answer.signature
                row.result_digest = answer.digest

    def release(self, client_id: str, key: str) -> None:
        """Free a key whose request was refused or failed: nothing was answered."""
        with self.sessions.begin() as s:
            s.execute(delete(IdempotentAnswer).where(
                IdempotentAnswer.client_id == client_id, IdempotentAnswer.key == key,
                IdempotentAnswer.status == "pending"))  # fmt: skip


def _stored(row: IdempotentAnswer, fingerprint: str) -> StoredAnswer:
    if row.fingerprint != fingerprint:
        raise InvalidRequest(reason="idempotency_key_reused")
    if row.status != "done" or row.body is None:
        raise Conflict("idempotency_key_in_flight")
    return StoredAnswer(bytes(row.body), row.signature)


async def audit_answer(
    services: Services, context: dict[str, Any], *, action: str, request_id: str, body: bytes
) -> None:
    """Append the ``allow`` entry of an answer about to be kept for retries (before it is
    kept: an answer whose entry is not durable is neither sent nor kept). Raises
    `AuditUnavailable`."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        entry = make_entry(context, action=action, decision="allow", request_id=request_id,
                           result_digest=digest)  # fmt: skip
        await append_durably(services.audit, entry)
    except AuditAppendError:
        raise AuditUnavailable("audit_unavailable") from None


async def audit_replay(
    services: Services,
    who: Principal,
    stored: StoredAnswer,
    *,
    access_request_id: str,
    kind: Literal["subject", "aggregate"],
    context: dict[str, Any],
    action: str,
    request_id: str,
) -> None:
    """Before a kept answer is sent again: the approval must still be usable (a revoked or
    expired one is refused as it would be for a new request), and the replay is appended to
    the audit trail — ``allow``, reason ``idempotent_replay``, the digest of the bytes sent,
    never the subject (it is not a new access to anyone's data; `AccessIndex` does not count
    it). Raises `PolicyDenied`, `NotFound`, `AuditUnavailable`."""
    context["access_request"] = loggable(access_request_id)
    found, computation = usable_approval(services, who, access_request_id, kind)
    context.update(computation=computation.id, purpose=found.purpose)
    try:
        entry = make_entry(context, action=action, decision="allow", request_id=request_id,
                           reason=REPLAY_REASON, result_digest=stored.digest)  # fmt: skip
        await append_durably(services.audit, entry)
    except AuditAppendError:
        raise AuditUnavailable("audit_unavailable") from None
