"""The ledger's errors: one base class, a fixed public message per class, details in fields.

``str(exc)`` is the class's fixed message, safe to show a caller; the fields (roots,
addresses, decoded revert arguments) are for logs and the audit trail.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerError(Exception):
    """Base class of every error the ledger raises."""

    message: ClassVar[str] = "ledger error"

    def __init__(self, **details: Any) -> None:
        super().__init__(self.message)
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.details!r})"


class LedgerConfigError(LedgerError):
    message = "the ledger configuration is invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason


class NodeUnavailableError(LedgerError):
    """The node could not be reached or did not answer; nothing was acknowledged."""

    message = "the ledger node is unavailable"

    def __init__(self, endpoint: str, cause: str) -> None:
        super().__init__(endpoint=endpoint, cause=cause)
        self.endpoint = endpoint
        self.cause = cause


class DeploymentError(LedgerError):
    """The contract is missing, or the code at the recorded address is not ours."""

    message = "the ledger contract is not deployed as recorded"

    def __init__(self, reason: str, address: str | None = None) -> None:
        super().__init__(reason=reason, address=address)
        self.reason = reason
        self.address = address


class KeyStoreError(LedgerError):
    """A role key is missing, or could not be decrypted with the configured secret."""

    message = "a ledger key is unavailable"

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(label=label, reason=reason)
        self.label = label
        self.reason = reason


class TransactionError(LedgerError):
    message = "the ledger transaction failed"


class TransactionRejectedError(TransactionError):
    """The node refused the signed transaction (fee, balance, nonce); nothing was mined."""

    message = "the ledger node rejected the transaction"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason


class TransactionTimeoutError(TransactionError):
    """Sent but not seen mined in time: it may still be mined; do not resend blindly."""

    message = "the ledger transaction was not confirmed in time"

    def __init__(self, tx_hash: str, timeout: float) -> None:
        super().__init__(tx_hash=tx_hash, timeout=timeout)
        self.tx_hash = tx_hash
        self.timeout = timeout


class ContractRevertError(TransactionError):
    """The contract refused the call; ``error`` and ``args`` are its decoded custom error."""

    message = "the ledger contract refused the operation"

    def __init__(self, error: str, args: dict[str, Any], tx_hash: str | None = None) -> None:
        super().__init__(error=error, args=args, tx_hash=tx_hash)
        self.error = error
        self.revert_args = args
        self.tx_hash = tx_hash


class MissingRoleError(ContractRevertError):
    """The signer lacks the role the operation requires (or no local key holds it)."""

    message = "the signer does not hold the required ledger role"

    @property
    def account(self) -> str | None:
        return self.revert_args.get("account")

    @property
    def required(self) -> str:
        return str(self.revert_args.get("required"))


class AlreadyAnchoredError(ContractRevertError):
    message = "this root is already anchored"


class AnchorNotFoundError(LedgerError):
    message = "no anchor for this root"

    def __init__(self, root: bytes) -> None:
        super().__init__(root=root.hex())
        self.root = root


class AnchorMismatchError(LedgerError):
    """The anchored record differs from what the caller expected."""

    message = "the anchored record does not match"

    def __init__(self, root: bytes, field: str, expected: Any, actual: Any) -> None:
        super().__init__(root=root.hex(), field=field, expected=expected, actual=actual)
        self.root = root
        self.field = field
        self.expected = expected
        self.actual = actual


class ApprovalNotValidError(LedgerError):
    """The approval exists but is not approved and inside its validity window."""

    message = "the approval is not valid"

    def __init__(self, approval_id: bytes, status: str) -> None:
        super().__init__(approval_id=approval_id.hex(), status=status)
        self.approval_id = approval_id
        self.status = status


class LedgerReadOnlyError(LedgerError):
    """A write was attempted on a read-only view of the ledger (another process owns it)."""

    message = "this view of the ledger is read-only"

    def __init__(self, operation: str) -> None:
        super().__init__(operation=operation)
        self.operation = operation
