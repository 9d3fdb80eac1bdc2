"""Values that cross the ledger's interface: roles, anchor kinds, receipts, records.

Enum values equal the contract's enum ordinals; changing them breaks stored chains.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    """One role per account (the contract refuses a second one)."""

    NONE = 0
    ADMIN = 1  # governance: grants roles, sets thresholds and the witness set
    OFFICER = 2  # data-authority officer: votes approvals, releases models
    PROVIDER = 3  # data provider: anchors contributions
    GATEWAY = 4  # query gateway: files requests, anchors consent- and audit-log checkpoints
    AUDITOR = 5  # auditor: registered, writes nothing


class AnchorKind(IntEnum):
    CONTRIBUTION = 1
    CONSENT_LOG = 2
    AUDIT_LOG = 3
    MODEL_RELEASE = 4


class ApprovalStatus(IntEnum):
    NONE = 0
    PENDING = 1
    APPROVED = 2
    REJECTED = 3
    REVOKED = 4
    EXPIRED = 5


class Decision(IntEnum):
    """An officer's decision on an approval (the contract's ``Decision``)."""

    APPROVE = 0
    REJECT = 1
    REVOKE = 2

    @property
    def word(self) -> str:
        """The decision as it appears in the signed document: approve, reject, revoke."""
        return self.name.lower()


@dataclass(frozen=True)
class TxReceipt:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    gas_used: int


@dataclass(frozen=True)
class AnchorReceipt:
    """Proof that an anchor was mined: the transaction and the block's time."""

    tx_hash: str
    block_number: int
    block_time: int
    gas_used: int


@dataclass(frozen=True)
class Anchor:
    kind: AnchorKind
    root: bytes
    size: int
    metadata_digest: bytes
    writer: str
    block_number: int
    block_time: int
    tx_hash: str


@dataclass(frozen=True)
class Identity:
    """A local signing identity: its label, address and the role granted through us."""

    label: str
    address: str
    role: Role


@dataclass(frozen=True)
class ApprovalTerms:
    """What an approval binds. ``requester`` and ``computation_id`` are short codes (at
    most 32 bytes of UTF-8) naming an organisation and a catalogue entry, never a person;
    hashes are 32 bytes; times are Unix seconds (valid_from < valid_until)."""

    requester: str
    computation_id: str
    content_hash: bytes
    scope: bytes
    purpose: int
    quota: int
    valid_from: int
    valid_until: int


@dataclass(frozen=True)
class Approval:
    approval_id: bytes
    terms: ApprovalTerms
    threshold: int
    votes: int
    status: ApprovalStatus
    reason: int


@dataclass(frozen=True)
class SignedDecision:
    """An officer's WebAuthn assertion over a decision's challenge, as the authenticator made
    it: the raw credential id, the authenticator data, the client data JSON (bytes) and the
    DER-encoded ES256 signature."""

    credential_id: bytes
    authenticator_data: bytes
    client_data_json: bytes
    signature: bytes


@dataclass(frozen=True)
class OfficerKey:
    """A credential registered on the ledger: ``credential`` is SHA-256 of its id, ``x`` and
    ``y`` its P-256 public key, ``officer`` the officer's address; who registered it (an
    admin account), who invited the officer, and at which block."""

    credential: bytes
    officer: str
    x: bytes
    y: bytes
    invited_by: str
    registered_by: str
    registered_block: int
    revoked: bool


@dataclass(frozen=True)
class ModelRelease:
    model_id: str
    version: int
    spec_hash: bytes
    officer: str
    time: int


@dataclass(frozen=True)
class WitnessSet:
    epoch: int
    threshold: int
    public_keys: tuple[bytes, ...]


@dataclass(frozen=True)
class LedgerEvent:
    """A decoded contract event; ``args`` holds its fields (bytes stay bytes)."""

    name: str
    block_number: int
    tx_hash: str
    log_index: int
    args: dict[str, object]


@dataclass(frozen=True)
class LedgerStatus:
    backend: str
    chain_id: int
    height: int
    contract: str
    anchors: dict[str, int]
