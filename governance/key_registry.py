"""`KeyRegistry`: the public keys each client registered, with their history.

Banks and providers hold their own private keys; the control plane keeps only the public
JWKs (``client_keys``, migration 0006), each with when it was added and retired. A client has
at most `MAX_ACTIVE_KEYS` active keys: to rotate, register the new key, move the client to
it, retire the old one (``dexin admin add-client-key`` / ``retire-client-key``). A retired key
is never deleted: `keys_at` answers which keys were registered at any moment, which is what
the auditor checks a provider's signature against (`governance.contribution_signatures`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from governance.client_keys import MAX_ACTIVE_KEYS, PublicKey, public_key
from governance.errors import Conflict, NotFound
from governance.models import Client, ClientKey

__all__ = ["KeyRecord", "KeyRegistry", "add_keys"]


@dataclass(frozen=True)
class KeyRecord:
    """A registered key and its validity: ``added_at <= t < retired_at`` (None: still)."""

    client_id: str
    key: PublicKey
    added_at: dt.datetime
    retired_at: dt.datetime | None

    def active_at(self, moment: dt.datetime) -> bool:
        return self.added_at <= moment and (self.retired_at is None or moment < self.retired_at)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _record(row: ClientKey) -> KeyRecord:
    return KeyRecord(row.client_id, public_key(json.loads(row.jwk)), row.added_at, row.retired_at)


def add_keys(session: Session, client_id: str, keys: Sequence[PublicKey]) -> None:
    """Register ``keys`` for ``client_id`` in ``session``'s transaction. Raises `Conflict`
    (``too_many_keys``: more than `MAX_ACTIVE_KEYS` would be active; ``key_already_registered``)."""
    active = session.scalars(
        select(ClientKey).where(ClientKey.client_id == client_id, ClientKey.retired_at.is_(None))
    ).all()
    if len(active) + len(keys) > MAX_ACTIVE_KEYS:
        raise Conflict("too_many_keys")
    taken = {row.kid for row in active}
    if any(k.kid in taken for k in keys):
        raise Conflict("key_already_registered")
    now = _utcnow()
    for key in keys:
        session.add(ClientKey(client_id=client_id, kid=key.kid, thumbprint=key.thumbprint,
                              jwk=key.as_json(), added_at=now))  # fmt: skip


class KeyRegistry:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def add(self, client_id: str, keys: Sequence[PublicKey]) -> None:
        """Register more keys for an existing client (a rotation's first half). Raises
        `NotFound`, `Conflict`."""
        try:
            with self.sessions.begin() as s:
                if s.get(Client, client_id) is None:
                    raise NotFound("unknown_client")
                add_keys(s, client_id, keys)
        except IntegrityError:  # the same key registered for this client before
            raise Conflict("key_already_registered") from None

    def retire(self, client_id: str, kid: str) -> bool:
        """Retire the active key ``kid`` now (it verifies nothing signed from now on); False
        if the client has no such active key."""
        with self.sessions.begin() as s:
            row = s.scalar(select(ClientKey).where(
                ClientKey.client_id == client_id, ClientKey.kid == kid,
                ClientKey.retired_at.is_(None)))  # fmt: skip
            if row is None:
                return False
            row.retired_at = _utcnow()
            return True

    def history(self, client_id: str) -> list[KeyRecord]:
        """Every key the client ever registered, oldest first."""
        with self.sessions() as s:
            rows = s.scalars(
                select(ClientKey).where(ClientKey.client_id == client_id).order_by(ClientKey.id)
            ).all()
            return [_record(r) for r in rows]

    def keys_at(self, client_id: str, moment: dt.datetime | None = None) -> list[PublicKey]:
        """The keys registered for ``client_id`` and not retired at ``moment`` (now)."""
        moment = moment or _utcnow()
        return [r.key for r in self.history(client_id) if r.active_at(moment)]
