"""The permissioned ledger: anchors, approvals, model releases and the witness set.

The only package that imports web3 / eth-tester. Get one with :func:`open_ledger`::

    ledger = open_ledger(LedgerConfig(data_dir=home / "ledger", key_secret=secret))
    ledger.ensure_account("provider:court", Role.PROVIDER)
    receipt = ledger.anchor(AnchorKind.CONTRIBUTION, root, rows, digest)
    ledger.verify_anchor(root, kind=AnchorKind.CONTRIBUTION, size=rows, metadata_digest=digest)
"""

from .codec import officer_address
from .config import LedgerConfig
from .decisions import (
    assertion_digest,
    challenge_of,
    credential_hash,
    decision_challenge,
    decision_document,
    terms_digest,
)
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
    Decision,
    Identity,
    LedgerEvent,
    LedgerStatus,
    ModelRelease,
    OfficerKey,
    Role,
    SignedDecision,
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
    "Decision",
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
    "OfficerKey",
    "Role",
    "SignedDecision",
    "TransactionError",
    "TransactionRejectedError",
    "TransactionTimeoutError",
    "TxReceipt",
    "WitnessSet",
    "assertion_digest",
    "challenge_of",
    "credential_hash",
    "decision_challenge",
    "decision_document",
    "officer_address",
    "open_ledger",
    "open_ledger_reader",
    "terms_digest",
]
