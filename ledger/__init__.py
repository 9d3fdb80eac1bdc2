"""The permissioned ledger: anchors, approvals, model releases and the witness set.

The only package that imports web3 / eth-tester. Get one with :func:`open_ledger`::

    ledger = open_ledger(LedgerConfig(data_dir=home / "ledger", key_secret=secret))
    ledger.ensure_account("provider:court", Role.PROVIDER)
    receipt = ledger.anchor(AnchorKind.CONTRIBUTION, root, rows, digest)
    ledger.verify_anchor(root, kind=AnchorKind.CONTRIBUTION, size=rows, metadata_digest=digest)
"""

from .config import LedgerConfig
from .errors import (
    AlreadyAnchoredError,
    AnchorMismatchError,
    AnchorNotFoundError,
    ApprovalNotValidError,
    ContractRevertError,
    DeploymentError,
    KeyStoreError,
    LedgerConfigError,
    LedgerError,
    LedgerReadOnlyError,
    MissingRoleError,
    NodeUnavailableError,
    TransactionError,
    TransactionRejectedError,
    TransactionTimeoutError,
)
from .factory import open_ledger, open_ledger_reader
from .interface import Ledger
from .models import (
    Anchor,
    AnchorKind,
    AnchorReceipt,
    Approval,
    ApprovalStatus,
    ApprovalTerms,
    Identity,
    LedgerEvent,
    LedgerStatus,
    ModelRelease,
    Role,
    TxReceipt,
    WitnessSet,
)

__all__ = [
    "AlreadyAnchoredError",
    "Anchor",
    "AnchorKind",
    "AnchorMismatchError",
    "AnchorNotFoundError",
    "AnchorReceipt",
    "Approval",
    "ApprovalNotValidError",
    "ApprovalStatus",
    "ApprovalTerms",
    "ContractRevertError",
    "DeploymentError",
    "Identity",
    "KeyStoreError",
    "Ledger",
    "LedgerConfig",
    "LedgerConfigError",
    "LedgerError",
    "LedgerEvent",
    "LedgerReadOnlyError",
    "LedgerStatus",
    "MissingRoleError",
    "ModelRelease",
    "NodeUnavailableError",
    "Role",
    "TransactionError",
    "TransactionRejectedError",
    "TransactionTimeoutError",
    "TxReceipt",
    "WitnessSet",
    "open_ledger",
    "open_ledger_reader",
]
