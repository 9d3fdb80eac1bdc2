"""Officers' passkeys (WebAuthn): enrolment, sign-in and the assertion behind each decision.

- **Enrolment.** An admin creates a one-time invite for an officer client (`create_invite`,
  from ``dexin admin invite-officer`` or ``POST /v1/officers/invites``); only its SHA-256 is
  stored, it expires after `INVITE_TTL`. The officer opens the link, registers a passkey (or
  an officer-held software key, `dexin officer enrol`); `Passkeys.finish_enrolment` verifies
  the registration with py_webauthn (ES256 only, user verification required), registers the
  credential's P-256 key on the ledger (admin account, who invited, the block) and stores it
  with the relying party and origin it was made for. The invite is then spent.
- **Sign-in** (console): a random challenge, used once and only for `CEREMONY_TTL`, and a
  discoverable credential; the sign counter must grow (unless the authenticator keeps none).
- **Decisions.** The challenge is the ledger's `decisionChallenge` of the approval and the
  decision (`ledger.decisions`): deterministic, so the contract and any auditor recompute it.
  `verify_decision` checks the assertion (the officer's own live credential, origin, RP ID,
  user verification, the counter) and returns what the ledger needs; the contract checks the
  signature again before it counts the vote. A replay is refused here (the counter) and on
  the ledger (one vote per officer, a decided request is no longer pending).

Every refusal is `PolicyDenied` with one fixed reason per class of failure; the specifics
go to the audit trail only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    decode_credential_public_key,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from governance.control import utcnow
from governance.errors import NotFound, PolicyDenied, ServiceUnavailable
from governance.ids import new_id
from governance.models import Client, OfficerCredential, OfficerInvite, PasskeyChallenge
from ledger import ContractRevertError, Ledger, LedgerError, SignedDecision

__all__ = ["CEREMONY_TTL", "INVITE_TTL", "Passkeys", "create_invite", "invite_hash"]

INVITE_TTL = dt.timedelta(days=3)
CEREMONY_TTL = dt.timedelta(minutes=5)
RP_NAME = "德信 Dexin"
ES256 = [COSEAlgorithmIdentifier.ECDSA_SHA_256]  # the one algorithm the ledger verifies
REQUIRED = UserVerificationRequirement.REQUIRED
Sessions = sessionmaker[Session]


def invite_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(sessions: Sessions, officer_id: str, invited_by: str) -> str:
    """A fresh one-time enrolment token for officer ``officer_id`` (an enabled officer
    client; `NotFound` otherwise). Only its hash is kept."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with sessions.begin() as s:
        officer = s.get(Client, officer_id)
        if officer is None or officer.role != "officer" or officer.disabled_at is not None:
            raise NotFound("unknown_officer")
        s.add(OfficerInvite(token_hash=invite_hash(token), officer_id=officer_id,
                            invited_by=invited_by[:40], created_at=now,
                            expires_at=now + INVITE_TTL))  # fmt: skip
    return token


@dataclass(frozen=True)
class Ceremony:
    """A ceremony's id and the options to hand to ``navigator.credentials`` (JSON)."""

    id: str
    options: dict[str, Any]


@dataclass(frozen=True)
class Enrolled:
    officer_id: str
    credential_id: str
    ledger_tx: str


class Passkeys:
    """The officers' credentials of one control plane, registered on one ledger."""

    def __init__(self, sessions: Sessions, ledger: Ledger) -> None:
        self.sessions = sessions
        self.ledger = ledger

    # -- enrolment ----------------------------------------------------------------------

    def start_enrolment(self, token: str, origin: str) -> Ceremony:
        """Registration options for the invite ``token``, for a page at ``origin``."""
        invite = self._invite(token)
        rp_id = _rp_id(origin)
        options = generate_registration_options(
            rp_id=rp_id, rp_name=RP_NAME, user_id=invite.officer_id.encode(),
            user_name=invite.officer_id, supported_pub_key_algs=ES256,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED, user_verification=REQUIRED),
            exclude_credentials=self._descriptors(invite.officer_id),
        )  # fmt: skip
        ceremony = self._remember("enrol", options.challenge, origin, invite.token_hash)
        return Ceremony(ceremony, _json(options))

    def finish_enrolment(self, token: str, ceremony: str, credential: dict[str, Any]) -> Enrolled:
        """Verify the registration, register the key on the ledger, store it, spend the
        invite. `PolicyDenied` (``invite_invalid``, ``ceremony_invalid``,
        ``registration_invalid``); `ServiceUnavailable` (``ledger_unavailable``)."""
        invite = self._invite(token)
        challenge, origin = self._take(ceremony, "enrol", invite.token_hash)
        try:
            verified = verify_registration_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=_rp_id(origin),
                expected_origin=origin, require_user_verification=True,
                supported_pub_key_algs=ES256)  # fmt: skip
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise PolicyDenied("registration_invalid", audit_detail=type(exc).__name__) from None
        x, y = _point(verified.credential_public_key)
        self._spend(invite)  # first: of two finishes racing on one invite, one registers a key
        tx = self._register_on_ledger(invite, verified.credential_id, x, y)
        return self._store(invite, verified.credential_id, verified.credential_public_key,
                           verified.sign_count, origin, tx)  # fmt: skip

    def _spend(self, invite: OfficerInvite) -> None:
        """Mark the invite used, once; `PolicyDenied` (``invite_invalid``) if it already was.
        A ledger failure after this spends the invite for nothing: the admin sends another."""
        with self.sessions.begin() as s:
            spent = s.execute(update(OfficerInvite)
                              .where(OfficerInvite.token_hash == invite.token_hash,
                                     OfficerInvite.used_at.is_(None))
                              .values(used_at=utcnow()))  # fmt: skip
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise PolicyDenied("invite_invalid")

    def _register_on_ledger(self, invite: OfficerInvite, cred: bytes, x: bytes, y: bytes) -> str:
        """The key on the ledger (the admin account registers it); the transaction."""
        by = invite.invited_by[:32] or "admin"
        try:
            address = self.ledger.register_officer(invite.officer_id)
            return self.ledger.register_officer_key(cred, address, x, y, by).tx_hash
        except ContractRevertError as exc:  # a credential id registered before: not a new key
            raise PolicyDenied("registration_invalid", audit_detail=exc.error) from None
        except LedgerError as exc:
            raise ServiceUnavailable(
                "ledger_unavailable", audit_detail=type(exc).__name__
            ) from None

    def _store(self, invite: OfficerInvite, cred: bytes, cose: bytes, count: int, origin: str,
               tx: str) -> Enrolled:  # fmt: skip
        with self.sessions.begin() as s:
            s.add(OfficerCredential(
                credential_id=bytes_to_base64url(cred), officer_id=invite.officer_id,
                public_key=cose.hex(), rp_id=_rp_id(origin), origin=origin, sign_count=count,
                invited_by=invite.invited_by, ledger_tx=tx, created_at=utcnow()))  # fmt: skip
        return Enrolled(invite.officer_id, bytes_to_base64url(cred), tx)

    # -- sign-in ------------------------------------------------------------------------

    def start_sign_in(self, origin: str) -> Ceremony:
        """Options for signing in with any of this relying party's passkeys."""
        options = generate_authentication_options(rp_id=_rp_id(origin), user_verification=REQUIRED)
        return Ceremony(self._remember("login", options.challenge, origin, None), _json(options))

    def finish_sign_in(self, ceremony: str, credential: dict[str, Any]) -> str:
        """The officer client id whose live credential made this assertion; `PolicyDenied`."""
        challenge, origin = self._take(ceremony, "login", None)
        found = self._credential(credential)
        if found.origin != origin:
            raise PolicyDenied("officer_signature_invalid", audit_detail="origin")
        self._check(found, credential, challenge)
        return found.officer_id

    # -- decisions ----------------------------------------------------------------------

    def decision_options(self, officer_id: str, challenge: bytes) -> dict[str, Any]:
        """What ``navigator.credentials.get`` needs to sign ``challenge`` with one of the
        officer's keys; `PolicyDenied` (``no_officer_key``) if the officer has none."""
        live = self._live(officer_id)
        if not live:
            raise PolicyDenied("no_officer_key")
        options = generate_authentication_options(
            rp_id=live[0].rp_id, challenge=challenge, user_verification=REQUIRED,
            allow_credentials=[_descriptor(c.credential_id) for c in live])  # fmt: skip
        return _json(options)

    def verify_decision(
        self, officer_id: str, challenge: bytes, credential: dict[str, Any]
    ) -> SignedDecision:
        """Check that ``credential`` is an assertion over ``challenge`` by one of the
        officer's own live credentials, and spend its sign count; what the ledger needs."""
        found = self._credential(credential)
        if found.officer_id != officer_id:
            raise PolicyDenied("officer_signature_invalid", audit_detail="another officer's key")
        self._check(found, credential, challenge)
        response = credential["response"]
        signed = SignedDecision(
            credential_id=_unb64(credential["rawId"]),
            authenticator_data=_unb64(response["authenticatorData"]),
            client_data_json=_unb64(response["clientDataJSON"]),
            signature=_unb64(response["signature"]),
        )
        return signed

    def credentials(self, officer_id: str) -> list[OfficerCredential]:
        """The officer's credentials, revoked ones included (for the console)."""
        with self.sessions() as s:
            q = select(OfficerCredential).where(OfficerCredential.officer_id == officer_id)
            return list(s.scalars(q.order_by(OfficerCredential.created_at)))

    # -- internals ----------------------------------------------------------------------

    def _check(
        self, found: OfficerCredential, credential: dict[str, Any], challenge: bytes
    ) -> None:
        """Verify the assertion, then spend its counter: of two requests racing with one
        assertion, only the first moves the stored count (an authenticator that keeps no
        counter, always 0, relies on the ledger's one-vote-per-officer instead)."""
        try:
            verified = verify_authentication_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=found.rp_id,
                expected_origin=found.origin, credential_public_key=bytes.fromhex(found.public_key),
                credential_current_sign_count=found.sign_count, require_user_verification=True)  # fmt: skip
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise PolicyDenied("officer_signature_invalid", audit_detail=str(exc)[:120]) from None
        count = verified.new_sign_count
        if count == 0:
            return
        with self.sessions.begin() as s:
            moved = s.execute(update(OfficerCredential)
                              .where(OfficerCredential.credential_id == found.credential_id,
                                     OfficerCredential.sign_count < count)
                              .values(sign_count=count))  # fmt: skip
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise PolicyDenied("officer_signature_invalid", audit_detail="counter replayed")

    def _credential(self, credential: dict[str, Any]) -> OfficerCredential:
        key = str(credential.get("rawId") or credential.get("id") or "")
        with self.sessions() as s:
            found = s.get(OfficerCredential, key)
            officer = s.get(Client, found.officer_id) if found is not None else None
        if found is None or found.revoked_at is not None:
            raise PolicyDenied("officer_signature_invalid", audit_detail="unknown credential")
        if officer is None or officer.disabled_at is not None:
            raise PolicyDenied("officer_signature_invalid", audit_detail="officer disabled")
        return found

    def _live(self, officer_id: str) -> list[OfficerCredential]:
        return [c for c in self.credentials(officer_id) if c.revoked_at is None]

    def _descriptors(self, officer_id: str) -> list[PublicKeyCredentialDescriptor]:
        return [_descriptor(c.credential_id) for c in self._live(officer_id)]

    def _invite(self, token: str) -> OfficerInvite:
        with self.sessions() as s:
            invite = s.get(OfficerInvite, invite_hash(token))
        if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
            raise PolicyDenied("invite_invalid")
        return invite

    def _remember(self, purpose: str, challenge: bytes, origin: str, subject: str | None) -> str:
        ceremony = new_id("wa")
        with self.sessions.begin() as s:
            s.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= utcnow()))
            s.add(PasskeyChallenge(id=ceremony, purpose=purpose, subject=subject,
                                   challenge=challenge.hex(), origin=origin,
                                   expires_at=utcnow() + CEREMONY_TTL))  # fmt: skip
        return ceremony

    def _take(self, ceremony: str, purpose: str, subject: str | None) -> tuple[bytes, str]:
        """The ceremony's (challenge, origin), deleted as it is read: used once."""
        with self.sessions.begin() as s:
            found = s.get(PasskeyChallenge, ceremony)
            if found is not None:
                s.delete(found)
        fresh = found is not None and found.expires_at > utcnow()
        if not fresh or found is None or (found.purpose, found.subject) != (purpose, subject):
            raise PolicyDenied("ceremony_invalid")
        return bytes.fromhex(found.challenge), found.origin


def _rp_id(origin: str) -> str:
    """The relying party id of a page at ``origin``: its host name."""
    host = origin.split("://", 1)[-1].split("/", 1)[0]
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


def _point(cose: bytes) -> tuple[bytes, bytes]:
    decoded: Any = decode_credential_public_key(cose)
    x, y = getattr(decoded, "x", b""), getattr(decoded, "y", b"")
    if len(x) != 32 or len(y) != 32:
        raise PolicyDenied("registration_invalid", audit_detail="not a P-256 key")
    return bytes(x), bytes(y)


def _descriptor(credential_id: str) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(id=_unb64(credential_id))


def _unb64(text: str) -> bytes:
    return base64url_to_bytes(text)


def _json(options: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(options_to_json(options))
    return doc
