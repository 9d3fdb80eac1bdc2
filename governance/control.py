"""The control plane's operations: clients, access requests, votes, consents, accesses.

Every write of access requests and consents goes through here, so the answer path keeps a
snapshot of each access request and consent it has read (`approval_snapshot`,
`valid_consent`), and every change made here (votes, revocation, withdrawal, budget spent)
drops the snapshot it changes: a withdrawn consent or a revoked approval is refused on the
very next call, and expiry is judged against the clock on every call.

Each such change also raises its kind's row of ``control_versions`` (`bump_version`) in its
own transaction. On PostgreSQL, where several answer workers share the control plane
(`ControlPlane.shared`), a worker reads those versions before it answers from a snapshot and
drops the snapshots of a kind whose version moved, so a change committed through any worker
is refused by every worker on its next call (one primary-key read; LISTEN/NOTIFY would save
it, but a notification arrives after the commit, not before the next call). On SQLite (the
embedded default, one process) the snapshots are checked against nothing else: a change
written behind the gateway's back is not seen until `forget`.

Quotas: on SQLite a quota is counted here under one lock and written behind (`spend_quota`,
`flush_quotas`, `reconcile_quotas`); shared, each unit is one conditional UPDATE
(``used < quota``) of the access request, so no unit is handed out twice across workers nor
lost with one. Spending a privacy budget is one conditional UPDATE everywhere (no lost
updates, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from governance.budget import EPSILON_SLACK, remaining_epsilon
from governance.client_keys import PublicKey
from governance.credentials import KEYED_ROLES, Role, hash_secret, new_client_id, new_secret
from governance.db import NO_FLUSH_WAIT, lone_statements
from governance.errors import (
    BudgetExhausted,
    Conflict,
    InvalidClient,
    NotFound,
    PolicyDenied,
    QuotaExhausted,
)
from governance.ids import new_id
from governance.key_registry import KeyRegistry, add_keys
from governance.metrics import Metrics
from governance.models import AccessRequest, Client, Consent, ControlVersion, Vote

if TYPE_CHECKING:
    from governance.idempotency import IdempotentAnswers

T = TypeVar("T")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _quota_exhausted(request: AccessRequest) -> QuotaExhausted:
    left = (request.valid_until - utcnow()).total_seconds()
    return QuotaExhausted(retry_after=int(left))


@dataclass(frozen=True)
class NewClient:
    """A registered client; ``client_secret`` (shown once) only for roles that may keep one:
    a bank or provider has none, it authenticates with its own key (`KEYED_ROLES`)."""

    client_id: str
    client_secret: str | None
    role: Role
    name: str


NO_SECRET = "-"  # the secret hash of a keyed client: no SHA-256 hex digest ever equals it
APPROVAL, CONSENT = "approval", "consent"  # kinds of snapshot (rows of ``control_versions``)


def bump_version(session: Session, kind: str) -> None:
    """Raise the version of ``kind`` (``approval``, ``consent``, ``dispute``) in the
    transaction of ``session``, the one that makes the change: a worker that reads the new
    version reads the change too."""
    session.execute(
        update(ControlVersion)
        .where(ControlVersion.name == kind)
        .values(version=ControlVersion.version + 1)
    )


# The versions one answer read at its start (`versions_read_once`): (engine, name -> version).
_READ_ONCE: ContextVar[tuple[object, dict[str, int]] | None] = ContextVar(
    "dexin_control_versions", default=None
)


def read_version(sessions: sessionmaker[Session], kind: str) -> int | None:
    """The committed version of ``kind`` (None: no such row); inside `versions_read_once` on
    the same database, the one read at the block's start."""
    held = _READ_ONCE.get()
    if held is not None and held[0] is sessions.kw.get("bind") and kind in held[1]:
        return held[1][kind]
    with lone_statements(sessions) as conn:  # one round trip
        return conn.scalar(select(ControlVersion.version).where(ControlVersion.name == kind))


_ALL_VERSIONS = select(ControlVersion.name, ControlVersion.version)


@contextmanager
def versions_read_once(sessions: sessionmaker[Session]) -> Iterator[None]:
    """One answer's view of ``control_versions`` on a shared control plane: every kind's
    version read in one query at the start, then used by each check of the block (approval,
    consent, rights, disputes: one round trip instead of five on the answer path). Sound for
    blocks that change none of those kinds: a change committed by any worker before the
    block starts is seen, as with a read per check; one committed during the block may be
    seen on the next call, as it could have been with a read per check that came just
    before it. The block's context (a task, and the threads it hands work to) alone sees it."""
    if not is_shared(sessions):
        yield
        return
    with lone_statements(sessions) as conn:  # one round trip: no BEGIN, no COMMIT
        rows = {name: int(v) for name, v in conn.execute(_ALL_VERSIONS)}
    token = _READ_ONCE.set((sessions.kw["bind"], rows))
    try:
        yield
    finally:
        _READ_ONCE.reset(token)


def is_shared(sessions: sessionmaker[Session]) -> bool:
    """Whether several processes may answer from this control plane: any database but SQLite
    (the embedded default, which one gateway process owns)."""
    bind = sessions.kw.get("bind")
    return bind is not None and bind.dialect.name != "sqlite"


# The shared quota's statements, each its own transaction (`lone_statements`), built once.
_SPEND = (
    update(AccessRequest)
    .where(AccessRequest.id == bindparam("request_id"), AccessRequest.used < AccessRequest.quota)
    .values(used=AccessRequest.used + 1)
)
# `_SPEND` committed without waiting for the WAL flush (`ControlPlane.quota_commit_waits`);
# set_config is volatile, so it runs for the matched row
_SPEND_NO_WAIT = _SPEND.where(select(NO_FLUSH_WAIT).scalar_subquery().is_not(None))
_REFUND = (
    update(AccessRequest)
    .where(AccessRequest.id == bindparam("request_id"), AccessRequest.used > 0)
    .values(used=AccessRequest.used - 1)
)


class ControlPlane:
    """``shared`` (by default: on PostgreSQL) when other workers answer from the same
    database: snapshots are checked against ``control_versions`` and quotas are spent in
    the database, one unit at a time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        metrics: Metrics | None = None,
        shared: bool | None = None,
    ) -> None:
        self.sessions = sessions
        self.metrics = metrics or Metrics()
        self.shared = is_shared(sessions) if shared is None else shared
        self._versions: dict[str, int | None] = {}  # the version each kind's snapshots were read at
        self._kept_at: dict[str, float] = {}  # when each snapshot was read (its age)
        self._requests: dict[str, AccessRequest] = {}
        self._consents: dict[str, Consent] = {}
        self._generation = 0  # bumped by every `forget`: a read that raced one is not kept
        self._snapshot_lock = threading.Lock()  # `forget` and `_keep` are atomic to each other
        self._quota_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time (`flush_quotas`)
        self._used: dict[str, int] = {}  # quota spent, authoritative while this process runs
        self._dirty: set[str] = set()
        # Shared: whether a unit's commit waits for the WAL flush. It need not when the audit
        # log commits to the same database cluster (one WAL): an answer leaves only after its
        # entry's synchronous commit, which flushes the WAL through every record written
        # before it, this unit's among them; a crash before that loses the unit together
        # with an answer that never left (`dexin.app` decides, by `server_identity`).
        self.quota_commit_waits = True

    def forget(self, request_id: str | None = None, consent_id: str | None = None) -> None:
        """Drop the snapshots of a request or consent (after a change made elsewhere).
        Called after the change is committed; a snapshot read before that is never kept."""
        with self._snapshot_lock:
            self._generation += 1
            if request_id is not None:
                self._requests.pop(request_id, None)
                self._kept_at.pop(request_id, None)
            if consent_id is not None:
                self._consents.pop(consent_id, None)
                self._kept_at.pop(consent_id, None)

    def _check_version(self, kind: str) -> None:
        """Shared: drop the snapshots of ``kind`` if its version moved since they were read
        (read before any snapshot is loaded, so a snapshot is never older than the version
        it is kept under)."""
        if not self.shared:
            return
        version = read_version(self.sessions, kind)
        with self._snapshot_lock:
            if kind in self._versions and self._versions[kind] == version:
                return
            self._generation += 1  # a load that raced this drop is not kept
            self._versions[kind] = version
            if kind == APPROVAL:
                dropped: list[str] = list(self._requests)
                self._requests.clear()
            else:
                dropped = list(self._consents)
                self._consents.clear()
            for key in dropped:
                self._kept_at.pop(key, None)

    def _keep(self, snapshots: dict[str, T], key: str, value: T, generation: int) -> None:
        """Store a snapshot read when the generation was ``generation``, unless a `forget`
        ran since: the check and the store are one step under the lock (compare-and-set), so
        a `forget` can never fall between them and leave a stale snapshot behind."""
        with self._snapshot_lock:
            if generation == self._generation:
                snapshots[key] = value
                self._kept_at[key] = time.monotonic()

    def snapshots(self) -> dict[str, tuple[int, float]]:
        """Per kind (``approval``, ``consent``): how many snapshots the answer path holds and
        the age in seconds of the oldest (a change written behind the gateway's back stays
        unseen that long: the operator's metric)."""
        now = time.monotonic()
        with self._snapshot_lock:
            held = {"approval": list(self._requests), "consent": list(self._consents)}
            kept = {kind: [self._kept_at.get(k, now) for k in keys] for kind, keys in held.items()}
        return {kind: (len(at), now - min(at, default=now)) for kind, at in kept.items()}

    # -- clients ------------------------------------------------------------------------------

    def create_client(self, role: Role, name: str, keys: Sequence[PublicKey] = ()) -> NewClient:
        """Register a client. A bank or provider (`KEYED_ROLES`) registers its public
        ``keys`` and gets no secret; another role gets a secret (and may register keys)."""
        if role is Role.SUBJECT:
            raise ValueError("subjects are not OAuth clients")
        if role in KEYED_ROLES and not keys:
            raise ValueError("a bank or provider registers its public key (JWKS), not a secret")
        client_id = new_client_id(role)
        secret = None if role in KEYED_ROLES else new_secret()
        with self.sessions.begin() as s:
            s.add(
                Client(
                    client_id=client_id,
                    name=name,
                    role=role.value,
                    secret_hash=hash_secret(secret) if secret else NO_SECRET,
                    created_at=utcnow(),
                )
            )
            s.flush()
            add_keys(s, client_id, keys)
        return NewClient(client_id, secret, role, name)

    @property
    def keys(self) -> KeyRegistry:
        """The clients' registered public keys and their history."""
        return KeyRegistry(self.sessions)

    @property
    def answers(self) -> IdempotentAnswers:
        """Answers kept for retries with an ``Idempotency-Key``."""
        # imported here: idempotency imports approvals, which import this module
        from governance.idempotency import IdempotentAnswers

        return IdempotentAnswers(self.sessions)

    def authenticate(self, client_id: str, secret: str) -> Client:
        """The client a secret authenticates; `InvalidClient` otherwise, and always for a
        bank or provider (they authenticate with their keys: `private_key_jwt`)."""
        from governance.credentials import secret_matches

        with self.sessions() as s:
            client = s.get(Client, client_id)
            if client is None or client.disabled_at is not None:
                secret_matches(secret, "0" * 64)  # same work whether or not the id exists
                raise InvalidClient(audit_detail="unknown_client")
            if not secret_matches(secret, client.secret_hash):
                raise InvalidClient(audit_detail="wrong_secret")
            if Role(client.role) in KEYED_ROLES:
                raise InvalidClient(audit_detail="secret_not_accepted")
            return client

    def active_client(self, client_id: str) -> Client | None:
        with self.sessions() as s:
            client = s.get(Client, client_id)
            return client if client is not None and client.disabled_at is None else None

    def clients(self) -> list[Client]:
        with self.sessions() as s:
            return list(s.scalars(select(Client).order_by(Client.created_at)))

    def disable_client(self, client_id: str) -> bool:
        with self.sessions.begin() as s:
            client = s.get(Client, client_id)
            if client is None:
                return False
            client.disabled_at = client.disabled_at or utcnow()
            return True

    def officers(self) -> list[Client]:
        with self.sessions() as s:
            q = select(Client).where(
                Client.role == Role.OFFICER.value, Client.disabled_at.is_(None)
            )
            return list(s.scalars(q))

    def set_ledger_label(self, client_id: str, label: str) -> None:
        with self.sessions.begin() as s:
            s.execute(
                update(Client).where(Client.client_id == client_id).values(ledger_label=label)
            )

    # -- access requests -----------------------------------------------------------------------

    def add_request(self, request: AccessRequest) -> None:
        with self.sessions.begin() as s:
            s.add(request)

    def request(self, request_id: str) -> AccessRequest:
        with self.sessions() as s:
            found = s.get(AccessRequest, request_id)
            if found is None:
                raise NotFound("unknown_access_request")
            s.expunge(found)
        return self._with_spent(found)

    def _with_spent(self, request: AccessRequest) -> AccessRequest:
        """``used`` including what this process spent and has not flushed yet."""
        request.used = max(request.used, self._used.get(request.id, 0))
        return request

    def approval_snapshot(self, request_id: str) -> AccessRequest:
        """`request`, from the snapshot the answer path keeps (its ``used`` may lag)."""
        self._check_version(APPROVAL)
        found = self._requests.get(request_id)
        if found is None:
            generation = self._generation
            found = self.request(request_id)
            self.metrics.snapshot_loaded("approval")
            self._keep(self._requests, request_id, found, generation)
        return found

    def requests(self, client_id: str | None = None) -> list[AccessRequest]:
        with self.sessions() as s:
            q = select(AccessRequest).order_by(AccessRequest.created_at)
            if client_id is not None:
                q = q.where(AccessRequest.client_id == client_id)
            found = list(s.scalars(q))
            s.expunge_all()
        return [self._with_spent(r) for r in found]

    def record_vote(self, request_id: str, officer_id: str, decision: str) -> None:
        try:
            with self.sessions.begin() as s:
                s.add(
                    Vote(
                        access_request_id=request_id,
                        officer_id=officer_id,
                        decision=decision,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            raise Conflict("already_voted") from None

    def remove_vote(self, request_id: str, officer_id: str) -> None:
        with self.sessions.begin() as s:
            vote = s.scalar(
                select(Vote).where(
                    Vote.access_request_id == request_id, Vote.officer_id == officer_id
                )
            )
            if vote is not None:
                s.delete(vote)

    def votes(self, request_id: str) -> list[Vote]:
        with self.sessions() as s:
            return list(s.scalars(select(Vote).where(Vote.access_request_id == request_id)))

    def set_status(self, request_id: str, status: str) -> None:
        try:
            with self.sessions.begin() as s:
                s.execute(
                    update(AccessRequest)
                    .where(AccessRequest.id == request_id)
                    .values(status=status, decided_at=utcnow())
                )
                bump_version(s, APPROVAL)
        finally:
            self.forget(request_id=request_id)

    def spend_quota(self, request: AccessRequest) -> None:
        """Use one unit of the approval's quota, or raise `QuotaExhausted`.

        Shared (several workers): one conditional UPDATE per unit (`_spend_shared`). One
        process (SQLite): the count is kept here and written behind (`flush_quotas`, every
        fraction of a second): a commit per answer would serialise every bank on SQLite's one
        write lock. What a crash can lose is recovered at start-up from the audit log, which
        holds every answer durably before it leaves (`reconcile_quotas`)."""
        if self.shared:
            self._spend_shared(request)
        else:
            self._spend_local(request)
        self.metrics.quota_spent(request.computation_id)

    def _spend_local(self, request: AccessRequest) -> None:
        with self._quota_lock:
            used = self._used.get(request.id)
            if used is None:
                used = self.request(request.id).used
            if used >= request.quota:
                raise _quota_exhausted(request)
            self._used[request.id] = used + 1
            self._dirty.add(request.id)

    def _spend_shared(self, request: AccessRequest) -> None:
        """``used = used + 1`` where ``used < quota``, committed before the answer is made: the
        row's lock orders the workers, and a unit spent is never handed out again (a crash
        after it at worst leaves a unit spent for an answer never sent: closed, not open)."""
        with lone_statements(self.sessions) as conn:  # one round trip
            spend = _SPEND if self.quota_commit_waits else _SPEND_NO_WAIT
            done = conn.execute(spend, {"request_id": request.id})
        if done.rowcount != 1:
            raise _quota_exhausted(request)

    def refund_quota(self, request: AccessRequest) -> None:
        """Give back the unit `spend_quota` took for an answer that never left (its audit
        entry could not be made durable)."""
        if self.shared:
            with lone_statements(self.sessions) as conn:
                conn.execute(_REFUND, {"request_id": request.id})
            return
        with self._quota_lock:
            used = self._used.get(request.id)
            if used:
                self._used[request.id] = used - 1
                self._dirty.add(request.id)

    def flush_quotas(self) -> int:
        """Write the quota counts spent since the last flush; returns how many requests.
        Once it returns, every count spent before the call is written (a flush running on
        another thread, the `QuotaFlusher`'s, is waited for: its counts are not dirty any
        more but may not be committed yet)."""
        with self._flush_lock:
            with self._quota_lock:
                dirty, self._dirty = self._dirty, set()
                counts = {rid: self._used[rid] for rid in dirty}
            try:
                if counts:
                    with self.sessions.begin() as s:
                        for rid, used in counts.items():
                            s.execute(
                                update(AccessRequest)
                                .where(AccessRequest.id == rid, AccessRequest.used != used)
                                .values(used=used)
                            )
            except Exception:
                with self._quota_lock:
                    self._dirty |= dirty  # written next round
                raise
            return len(counts)

    def reconcile_quotas(self, answered: Mapping[str, int]) -> None:
        """Raise each request's ``used`` to at least the answers the audit log holds for it
        (spends a crash kept from being flushed)."""
        with self.sessions.begin() as s:
            for rid, count in answered.items():
                s.execute(
                    update(AccessRequest)
                    .where(AccessRequest.id == rid, AccessRequest.used < count)
                    .values(used=count)
                )

    def spend_epsilon(self, request: AccessRequest, cost: float) -> float:
        """Spend ``cost`` of the approval's ε; returns what remains, or `BudgetExhausted`."""
        try:
            return self._spend_epsilon(request, cost)
        finally:
            self.forget(request_id=request.id)

    def _spend_epsilon(self, request: AccessRequest, cost: float) -> float:
        with self.sessions.begin() as s:
            done = s.execute(
                update(AccessRequest)
                .where(
                    AccessRequest.id == request.id,
                    AccessRequest.epsilon_spent + cost <= AccessRequest.epsilon + EPSILON_SLACK,
                )
                .values(epsilon_spent=AccessRequest.epsilon_spent + cost)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise BudgetExhausted("budget_exhausted")
            bump_version(s, APPROVAL)  # every worker's snapshot shows what remains
            self.metrics.epsilon_spent(request.computation_id, cost)
            fresh = s.get(AccessRequest, request.id, populate_existing=True)
            assert fresh is not None
            left = remaining_epsilon(fresh)
            assert left is not None
            return left

    # -- consents ------------------------------------------------------------------------------

    def add_consent(
        self,
        subject: str,
        bank_id: str,
        purpose: str,
        expires: dt.datetime,
        covers: Sequence[str],
    ) -> Consent:
        consent = Consent(
            id=new_id("cs"),
            subject=subject,
            bank_id=bank_id,
            purpose=purpose,
            covers=sorted(set(covers)),
            expires_at=expires,
            created_at=utcnow(),
        )
        with self.sessions.begin() as s:
            s.add(consent)
        return consent

    def consents_of(self, subject: str) -> list[Consent]:
        with self.sessions() as s:
            q = select(Consent).where(Consent.subject == subject).order_by(Consent.created_at)
            return list(s.scalars(q))

    def withdraw(self, consent_id: str, subject: str) -> Consent:
        try:
            with self.sessions.begin() as s:
                consent = s.get(Consent, consent_id)
                if consent is None or consent.subject != subject:
                    raise NotFound("unknown_consent")
                if consent.withdrawn_at is not None:
                    raise Conflict("consent_already_withdrawn")
                consent.withdrawn_at = utcnow()
                bump_version(s, CONSENT)
                return consent
        finally:
            self.forget(consent_id=consent_id)

    def valid_consent(
        self, consent_id: str, subject: str, bank_id: str, purpose: str, computation: str
    ) -> Consent:
        """The consent, if it is this subject's to this bank, for this purpose and covering this
        computation now; `PolicyDenied` else. Another subject's or bank's consent is refused
        as ``consent_missing``, like an unknown id, so a refusal says nothing about it."""
        self._check_version(CONSENT)
        consent = self._consents.get(consent_id)
        if consent is None:
            generation = self._generation
            with self.sessions() as s:
                consent = s.get(Consent, consent_id)
            self.metrics.snapshot_loaded("consent")
            if consent is not None:
                self._keep(self._consents, consent_id, consent, generation)
        if consent is None or consent.subject != subject or consent.bank_id != bank_id:
            raise PolicyDenied("consent_missing")
        if consent.withdrawn_at is not None:
            raise PolicyDenied("consent_withdrawn")
        if consent.expires_at <= utcnow():
            raise PolicyDenied("consent_expired")
        if consent.purpose != purpose:
            raise PolicyDenied("consent_wrong_purpose")
        if computation not in consent.covers:
            raise PolicyDenied("consent_does_not_cover")
        return consent

    def covering_consents(
        self, subjects: Sequence[str], bank_id: str, purpose: str, computation: str
    ) -> dict[str, str]:
        """Per subject of ``subjects`` that has one, the id of a consent valid now for this
        bank and purpose that covers ``computation`` (the newest if several). Read from the
        database on every call, so a withdrawal anywhere counts at once."""
        if not subjects:
            return {}
        now = utcnow()
        with self.sessions() as s:
            q = select(Consent).where(
                Consent.subject.in_(list(subjects)), Consent.bank_id == bank_id,
                Consent.purpose == purpose, Consent.withdrawn_at.is_(None),
                Consent.expires_at > now,
            )  # fmt: skip
            found = sorted(s.scalars(q), key=lambda c: (c.created_at, c.id))
        return {c.subject: c.id for c in found if computation in c.covers}

    def count(self, model: type[object]) -> int:
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)
