"""Access requests and their m-of-n officer approval, recorded on the ledger.

The ledger is the source of truth for an approval's state: a request is filed there by the
gateway's account; every officer's vote, rejection and revocation carries that officer's
own WebAuthn assertion (a passkey, or an officer-held key) over the decision's challenge
(`ledger.decisions`), which the gateway verifies (`governance.passkeys`) and the contract
verifies again before counting it. The gateway's account only carries the transaction: it
holds no officer key, so it cannot decide for anyone. The control plane mirrors the
resulting status for the hot path. Each officer client stands on the ledger as a keyless
address (`ledger.officer_address`), registered the first time it is needed.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from typing import TYPE_CHECKING, Any, Literal, cast

from governance.catalogue import PURPOSES, Computation
from governance.control import ControlPlane, utcnow
from governance.credentials import Principal
from governance.errors import Conflict, NotFound, PolicyDenied, ServiceUnavailable
from governance.ids import new_id
from governance.models import AccessRequest, Client
from governance.passkeys import Passkeys
from governance.scope import ScopeValue, scope_digest
from ledger import (
    ApprovalStatus,
    ApprovalTerms,
    ContractRevertError,
    Decision,
    Ledger,
    LedgerError,
    Role,
    SignedDecision,
    challenge_of,
    decision_document,
)

if TYPE_CHECKING:
    from governance.services import Services

from governance.anchoring import GATEWAY_LABEL

REASON_REJECTED = 1
REASON_REVOKED = 2
_SIGNATURE_REVERTS = frozenset(
    {"InvalidOfficerSignature", "UnknownOfficerKey", "OfficerKeyRevoked", "MissingRole"}
)
_STATUS = {
    ApprovalStatus.PENDING: "pending",
    ApprovalStatus.APPROVED: "approved",
    ApprovalStatus.REJECTED: "rejected",
    ApprovalStatus.REVOKED: "revoked",
    ApprovalStatus.EXPIRED: "expired",
}


Status = Literal["pending", "approved", "rejected", "revoked", "expired"]


def status_now(request: AccessRequest) -> Status:
    """The mirrored status, with expiry applied at read time."""
    if request.status in ("pending", "approved") and request.valid_until <= utcnow():
        return "expired"
    return cast(Status, request.status)


class Approvals:
    def __init__(self, control: ControlPlane, ledger: Ledger, threshold: int) -> None:
        self.control = control
        self.ledger = ledger
        self.threshold = threshold
        self._lock = threading.Lock()
        self._threshold_set = False
        self._deployment: tuple[int, str] | None = None
        self.passkeys = Passkeys(control.sessions, ledger)
        ledger.ensure_account(GATEWAY_LABEL, Role.GATEWAY)

    def file(
        self,
        client: str,
        computation: Computation,
        purpose: str,
        scope: dict[str, ScopeValue] | None,
        quota: int,
        epsilon: float | None,
        valid_until: dt.datetime,
    ) -> AccessRequest:
        now = utcnow()
        request = AccessRequest(
            id=new_id("ar"),
            client_id=client,
            computation_id=computation.id,
            computation_version=computation.version,
            computation_hash=computation.hash,
            purpose=purpose,
            scope=scope,
            quota=quota,
            used=0,
            epsilon=epsilon,
            epsilon_spent=0.0,
            valid_from=now,
            valid_until=valid_until,
            status="pending",
            threshold=self.threshold,
            ledger_id=secrets.token_hex(32),
            created_at=now,
        )
        terms = ApprovalTerms(
            requester=client[:32],
            computation_id=computation.id[:32],
            content_hash=bytes.fromhex(computation.hash),
            scope=scope_digest(scope),
            purpose=PURPOSES[purpose],
            quota=quota,
            valid_from=int(now.timestamp()) - 1,
            valid_until=int(valid_until.timestamp()),
        )
        with self._lock:
            self._prepare_threshold()
            try:
                self.ledger.request_approval(
                    bytes.fromhex(request.ledger_id), terms, signer=GATEWAY_LABEL
                )
            except LedgerError as exc:
                raise ServiceUnavailable(
                    "ledger_unavailable", audit_detail=type(exc).__name__
                ) from None
        self.control.add_request(request)
        return request

    def _prepare_threshold(self) -> None:
        """Put every officer on the ledger and set the on-chain m before filing a request."""
        officers = self.control.officers()
        if len(officers) < self.threshold:
            raise Conflict("insufficient_officers")
        for officer in officers:
            self._officer_label(officer)
        if not self._threshold_set:
            self.ledger.set_approval_threshold(self.threshold)
            self._threshold_set = True

    def _officer_label(self, officer: Client) -> str:
        """The officer's keyless ledger address, granted the Officer role once."""
        if officer.ledger_label is None or not officer.ledger_label.startswith("0x"):
            address = self.ledger.register_officer(officer.client_id)
            self.control.set_ledger_label(officer.client_id, address)
            return address
        return officer.ledger_label

    def decision(self, request_id: str, decision: Decision) -> tuple[bytes, dict[str, str]]:
        """(the challenge an officer signs to take ``decision`` on the request, the document
        it is the digest of). Computed from the terms the ledger holds."""
        request = self.control.request(request_id)
        ledger_id = bytes.fromhex(request.ledger_id)
        try:
            terms = self.ledger.get_approval(ledger_id).terms
            chain_id, contract = self._chain()
        except LedgerError as exc:
            raise ServiceUnavailable(
                "ledger_unavailable", audit_detail=type(exc).__name__
            ) from None
        document = decision_document(ledger_id, decision, terms, chain_id, contract)
        return challenge_of(document), document

    def _chain(self) -> tuple[int, str]:
        if self._deployment is None:
            status = self.ledger.status()
            self._deployment = (status.chain_id, status.contract)
        return self._deployment

    def vote(self, request_id: str, officer_id: str, decision: str,
             assertion: dict[str, Any]) -> AccessRequest:  # fmt: skip
        """Record the officer's signed vote or rejection. `PolicyDenied`
        (``officer_signature_invalid``), `Conflict`, `NotFound`, `ServiceUnavailable`."""
        request = self._open(request_id, officer_id, ("pending",), "not_pending")
        kind = Decision.APPROVE if decision == "approve" else Decision.REJECT
        signed = self._signed(request_id, officer_id, kind, assertion)
        self.control.record_vote(request_id, officer_id, decision)
        ledger_id = bytes.fromhex(request.ledger_id)
        try:
            with self._lock:
                if kind is Decision.APPROVE:
                    self._send(self.ledger.vote, ledger_id, signed)
                else:
                    self._send(self.ledger.reject, ledger_id, REASON_REJECTED, signed)
                status = self.ledger.get_approval(ledger_id).status
        except BaseException:
            self.control.remove_vote(request_id, officer_id)
            raise
        self.control.set_status(request_id, _STATUS.get(status, "pending"))
        return self.control.request(request_id)

    def revoke(self, request_id: str, officer_id: str, assertion: dict[str, Any]) -> AccessRequest:
        """Revoke a pending or approved request, signed by the officer."""
        request = self._open(request_id, officer_id, ("pending", "approved"), "not_revocable")
        signed = self._signed(request_id, officer_id, Decision.REVOKE, assertion)
        with self._lock:
            self._send(self.ledger.revoke_approval, bytes.fromhex(request.ledger_id),
                       REASON_REVOKED, signed)  # fmt: skip
        self.control.set_status(request_id, "revoked")
        return self.control.request(request_id)

    def _open(self, request_id: str, officer_id: str, states: tuple[str, ...],
              refusal: str) -> AccessRequest:  # fmt: skip
        request = self.control.request(request_id)
        if status_now(request) not in states:
            raise Conflict(refusal)
        officer = self.control.active_client(officer_id)
        if officer is None:
            raise NotFound("unknown_officer")
        with self._lock:
            self._officer_label(officer)
        return request

    def _signed(self, request_id: str, officer_id: str, decision: Decision,
                assertion: dict[str, Any]) -> SignedDecision:  # fmt: skip
        challenge, _ = self.decision(request_id, decision)
        return self.passkeys.verify_decision(officer_id, challenge, assertion)

    def _send(self, write: Any, *args: Any) -> None:
        """One signed decision to the ledger (sent by the gateway's account), its refusals
        mapped: a signature the contract does not accept is the officer's, not a conflict."""
        try:
            write(*args, signer=GATEWAY_LABEL)
        except ContractRevertError as exc:
            if exc.error in _SIGNATURE_REVERTS:
                raise PolicyDenied("officer_signature_invalid", audit_detail=exc.error) from None
            raise Conflict(_revert_reason(exc.error)) from None
        except LedgerError as exc:
            raise ServiceUnavailable(
                "ledger_unavailable", audit_detail=type(exc).__name__
            ) from None


def usable_approval(
    services: Services, who: Principal, request_id: str, privacy: str
) -> tuple[AccessRequest, Computation]:
    """The caller's approval ``request_id`` and its computation, if usable now for a
    computation of this ``privacy`` ("subject" or "aggregate"); `PolicyDenied` otherwise
    (an unknown id and another client's are the same refusal)."""
    try:
        found = services.control.approval_snapshot(request_id)
    except NotFound:
        raise PolicyDenied("approval_missing") from None
    if found.client_id != who.client_id or who.client_id is None:
        raise PolicyDenied("approval_missing")
    computation = services.catalogue.get(found.computation_id)
    if computation.privacy != privacy:
        raise PolicyDenied("wrong_computation")
    require_usable(found, who.client_id, computation)
    return found, computation


def require_usable(request: AccessRequest, client_id: str, computation: Computation) -> None:
    """Deny by default: the caller's own request, approved, unexpired, same definition."""
    if request.client_id != client_id:
        raise PolicyDenied("approval_missing")
    status = status_now(request)
    if status != "approved":
        raise PolicyDenied(f"approval_{status}")
    if request.computation_id != computation.id:
        raise PolicyDenied("wrong_computation")
    if request.computation_hash != computation.hash:
        raise PolicyDenied("computation_hash_mismatch")


def _revert_reason(error: str) -> str:
    return {
        "AlreadyVoted": "already_voted",
        "NotPending": "not_pending",
        "ApprovalExpired": "approval_expired",
        "NotRevocable": "not_revocable",
    }.get(error, "ledger_refused")
