"""Access requests and their m-of-n officer approval, recorded on the ledger.

The ledger is the source of truth for an approval's state: a request is filed there by the
gateway's account, every officer's vote, rejection and revocation is signed with that
officer's own key, and the control plane mirrors the resulting status for the hot path.
Each officer client gets a ledger account ``officer:<client_id>`` the first time it is
needed (the gateway owns the ledger; `dexin admin` never touches it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from typing import TYPE_CHECKING, Literal, cast

from governance.catalogue import PURPOSES, Computation
from governance.control import ControlPlane, utcnow
from governance.credentials import Principal
from governance.errors import Conflict, NotFound, PolicyDenied, ServiceUnavailable
from governance.ids import new_id
from governance.models import AccessRequest, Client
from ledger import ApprovalStatus, ApprovalTerms, ContractRevertError, Ledger, LedgerError, Role

if TYPE_CHECKING:
    from governance.services import Services

from governance.anchoring import GATEWAY_LABEL

REASON_REJECTED = 1
REASON_REVOKED = 2
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
        ledger.ensure_account(GATEWAY_LABEL, Role.GATEWAY)

    def file(
        self,
        client: str,
        computation: Computation,
        purpose: str,
        scope: dict[str, str] | None,
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
            scope=hashlib.sha256(repr(sorted((scope or {}).items())).encode()).digest(),
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
        if officer.ledger_label is None:
            label = f"officer:{officer.client_id}"[:64]
            self.ledger.ensure_account(label, Role.OFFICER)
            self.control.set_ledger_label(officer.client_id, label)
            return label
        return officer.ledger_label

    def vote(self, request_id: str, officer_id: str, decision: str) -> AccessRequest:
        request = self.control.request(request_id)
        if status_now(request) != "pending":
            raise Conflict("not_pending")
        officer = self.control.active_client(officer_id)
        if officer is None:
            raise NotFound("unknown_officer")
        self.control.record_vote(request_id, officer_id, decision)
        ledger_id = bytes.fromhex(request.ledger_id)
        with self._lock:
            label = self._officer_label(officer)
            try:
                if decision == "approve":
                    self.ledger.vote(ledger_id, officer=label)
                else:
                    self.ledger.reject(ledger_id, REASON_REJECTED, officer=label)
            except ContractRevertError as exc:
                self.control.remove_vote(request_id, officer_id)
                raise Conflict(_revert_reason(exc.error)) from None
            except LedgerError as exc:
                self.control.remove_vote(request_id, officer_id)
                raise ServiceUnavailable(
                    "ledger_unavailable", audit_detail=type(exc).__name__
                ) from None
            status = self.ledger.get_approval(ledger_id).status
        self.control.set_status(request_id, _STATUS.get(status, "pending"))
        return self.control.request(request_id)

    def revoke(self, request_id: str, officer_id: str) -> AccessRequest:
        request = self.control.request(request_id)
        if status_now(request) not in ("pending", "approved"):
            raise Conflict("not_revocable")
        officer = self.control.active_client(officer_id)
        if officer is None:
            raise NotFound("unknown_officer")
        with self._lock:
            try:
                self.ledger.revoke_approval(
                    bytes.fromhex(request.ledger_id),
                    REASON_REVOKED,
                    officer=self._officer_label(officer),
                )
            except ContractRevertError as exc:
                raise Conflict(_revert_reason(exc.error)) from None
            except LedgerError as exc:
                raise ServiceUnavailable(
                    "ledger_unavailable", audit_detail=type(exc).__name__
                ) from None
        self.control.set_status(request_id, "revoked")
        return self.control.request(request_id)


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
