"""The control plane's tables (SQLAlchemy 2). Migrations in `migrations/` create them.

Clients and their public keys, access requests with their officer votes, consents and the
consent-event log, residents' links, officers' credentials, idempotent answers. Privacy
budgets and quotas are columns of the access request they belong to, so spending them is
one conditional UPDATE.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class Client(Base):
    """An OAuth client (bank, provider, officer, auditor, admin); subjects are not clients."""

    __tablename__ = "clients"
    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    ledger_label: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class AccessRequest(Base):
    __tablename__ = "access_requests"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    computation_id: Mapped[str] = mapped_column(String(64))
    computation_version: Mapped[int] = mapped_column(Integer)
    computation_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    scope: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    quota: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    epsilon: Mapped[float | None] = mapped_column(Float, default=None)
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
    valid_from: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[int] = mapped_column(Integer)
    ledger_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("access_request_id", "officer_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    access_request_id: Mapped[str] = mapped_column(ForeignKey("access_requests.id"), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"))
    decision: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class Consent(Base):
    __tablename__ = "consents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"))
    purpose: Mapped[str] = mapped_column(String(32))
    # the catalogue computation ids the resident chose to cover (issue 13, finding 1)
    covers: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class ConsentEvent(Base):
    """The append-only consent log: one leaf per grant or withdrawal; roots are anchored."""

    __tablename__ = "consent_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consent_id: Mapped[str] = mapped_column(String(40), index=True)
    event: Mapped[str] = mapped_column(String(16))
    entry: Mapped[str] = mapped_column(String(1024))
    leaf_hash: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[str | None] = mapped_column(String(128), default=None)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # the IdP's ID token of the resident's fresh sign-in for this event's terms (migration
    # 0005); None only for events recorded under DEXIN_UNSAFE_DEV_IDENTITY or before 0005
    evidence: Mapped[str | None] = mapped_column(Text, default=None)


class ResidentLink(Base):
    """An IdP's pairwise subject, linked to the resident's pseudonym at an identifying
    sign-in (the ID number the IdP released was pseudonymised at once, never stored)."""

    __tablename__ = "resident_links"
    issuer: Mapped[str] = mapped_column(String(256), primary_key=True)
    sub: Mapped[str] = mapped_column(String(256), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class OfficerInvite(Base):
    """A one-time enrolment link for an officer (issue 14): only its SHA-256 is stored."""

    __tablename__ = "officer_invites"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    invited_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class OfficerCredential(Base):
    """An officer's passkey or officer-held key: the public key only (COSE, and its P-256
    point as registered on the ledger), where it was registered, its sign counter."""

    __tablename__ = "officer_credentials"
    credential_id: Mapped[str] = mapped_column(String(1400), primary_key=True)  # base64url
    officer_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    public_key: Mapped[str] = mapped_column(String(512))  # COSE_Key, hex
    rp_id: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(255))
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    invited_by: Mapped[str] = mapped_column(String(40))
    ledger_tx: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class PasskeyChallenge(Base):
    """A WebAuthn ceremony in progress (enrolment or sign-in): its random challenge is used
    once (deleted when taken) and only until ``expires_at``."""

    __tablename__ = "passkey_challenges"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(64), default=None)  # the invite's hash
    challenge: Mapped[str] = mapped_column(String(128))  # hex
    origin: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ClientKey(Base):
    """A public key a client registered (issue 17): a bank's or provider's ``private_key_jwt``
    and contribution-signing key. Kept after it is retired, with when, so a signature made
    while it was active can still be checked against it."""

    __tablename__ = "client_keys"
    __table_args__ = (UniqueConstraint("client_id", "thumbprint"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    kid: Mapped[str] = mapped_column(String(128))
    thumbprint: Mapped[str] = mapped_column(String(64))  # RFC 7638, base64url
    jwk: Mapped[str] = mapped_column(Text)  # the public JWK, JSON
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class IdempotentAnswer(Base):
    """The answer to a request that carried an ``Idempotency-Key``: ``pending`` while it is
    computed, then ``done`` with the exact bytes and signature sent (issue 17)."""

    __tablename__ = "idempotent_answers"
    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of route and body
    status: Mapped[str] = mapped_column(String(8))
    body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    signature: Mapped[str | None] = mapped_column(Text, default=None)
    result_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


# -- what the answer workers share (issue 16 §2) ------------------------------------------------


class ControlVersion(Base):
    """A counter per kind of snapshot the answer path keeps (``approval``, ``consent``,
    ``dispute``), raised in the same transaction as every change of that kind: a worker whose
    snapshot was read at another version reads it again (`governance.control`)."""

    __tablename__ = "control_versions"
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class SeenOnce(Base):
    """An identifier used once (a DPoP proof's or a client assertion's ``jti``), as the
    SHA-256 of its key, until the epoch second after which it would be refused anyway."""

    __tablename__ = "seen_once"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[float] = mapped_column(Float, index=True)


class RateBucket(Base):
    """A token bucket of one client, subject or address (the SHA-256 of its key): the tokens
    left at epoch second ``at``."""

    __tablename__ = "rate_buckets"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float)


class LoginFailure(Base):
    """Consecutive failed console sign-ins of a client address or an unknown user name
    (``kind``), as the SHA-256 of it: how many and when the last (epoch seconds)."""

    __tablename__ = "login_failures"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    failures: Mapped[int] = mapped_column(Integer)
    last: Mapped[float] = mapped_column(Float, index=True)
