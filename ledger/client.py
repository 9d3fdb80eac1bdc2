"""``Web3Ledger``: the one implementation of :class:`ledger.interface.Ledger`.

Both backends share it; they differ only in the :class:`ledger.node.Node` underneath.
Reads are ``eth_call`` from the admin address; writes are signed locally by the key of the
label given (or the first local key holding the role the operation needs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt as Web3Receipt

from . import codec, decisions
from .errors import (
    AnchorMismatchError,
    AnchorNotFoundError,
    ApprovalNotValidError,
    LedgerReadOnlyError,
    MissingRoleError,
)
from .keystore import KeyStore
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
from .node import Node
from .revert import RevertDecoder, revert_data
from .sender import FUND_WEI, TxSender, guard

ADMIN_LABEL = "admin"
_ANCHOR_WRITER = {
    AnchorKind.CONTRIBUTION: Role.PROVIDER,
    AnchorKind.CONSENT_LOG: Role.GATEWAY,
    AnchorKind.AUDIT_LOG: Role.GATEWAY,
}


class Web3Ledger:
    """The ledger over one deployed ``DexinLedger`` contract. Thread-safe."""

    def __init__(self, node: Node, contract: Contract, keys: KeyStore, sender: TxSender,
                 decoder: RevertDecoder, funder: LocalAccount | None) -> None:  # fmt: skip
        self._node = node
        self._c = contract
        self._keys = keys
        self._sender = sender
        self._decoder = decoder
        self._funder = funder
        self._reader = keys.identity(ADMIN_LABEL).address
        abi: list[dict[str, Any]] = list(contract.abi)  # type: ignore[arg-type]
        self._events = {event_abi_to_log_topic(e): e["name"] for e in _events(abi)}  # type: ignore[arg-type]

    @property
    def backend(self) -> str:
        return self._node.backend

    @property
    def contract_address(self) -> str:
        return str(self._c.address)

    def close(self) -> None:
        self._node.close()

    def share_signing(self, lock: Callable[[str], AbstractContextManager[object]]) -> None:
        """Other processes sign with these accounts too: hold ``lock(address)`` (a lock
        across processes, e.g. a PostgreSQL advisory lock) from nonce to receipt."""
        self._sender.shared_lock = lock

    def status(self) -> LedgerStatus:
        height = guard(self._node, lambda: self._node.w3.eth.block_number)
        return LedgerStatus(
            backend=self.backend,
            chain_id=self._sender.chain_id,
            height=height,
            contract=self.contract_address,
            anchors=self.anchor_counts(),
        )

    # -- accounts and roles -------------------------------------------------------------

    def identity(self, label: str) -> Identity:
        """The local identity ``label``; raises KeyStoreError if there is none."""
        return self._keys.identity(label)

    def ensure_account(self, label: str, role: Role) -> Identity:
        """Create ``label``'s key if needed, fund it, and grant ``role`` if not yet held.
        Idempotent; raises ContractRevertError (RoleConflict) if it holds another role."""
        if label not in self._keys.labels():
            self._keys.create(label)
            self._fund(self._keys.identity(label).address)
        if self.role_of(self._keys.identity(label).address) != role:
            self.grant_role(label, role)
        return self._keys.identity(label)

    def grant_role(self, label: str, role: Role) -> TxReceipt:
        address = self._keys.identity(label).address
        receipt = self._transact(ADMIN_LABEL, "grantRole", address, int(role))
        self._keys.set_role(label, role)
        return receipt

    def revoke_role(self, label: str) -> TxReceipt:
        receipt = self._transact(ADMIN_LABEL, "revokeRole", self._keys.identity(label).address)
        self._keys.set_role(label, Role.NONE)
        return receipt

    def role_of(self, address: str) -> Role:
        return Role(self._call("roleOf", address))

    # -- anchors ------------------------------------------------------------------------

    def anchor(self, kind: AnchorKind, root: bytes, size: int, metadata_digest: bytes, *,
               signer: str | None = None) -> AnchorReceipt:  # fmt: skip
        """Anchor ``root`` once. Raises AlreadyAnchoredError, MissingRoleError (signer lacks
        the kind's writer role), ValueError on malformed input, NodeUnavailableError."""
        codec.hash32(root, "root")
        codec.hash32(metadata_digest, "metadata_digest")
        if kind not in _ANCHOR_WRITER:
            raise ValueError(f"{kind.name} anchors are written by their own operation")
        label = self._signer(signer, _ANCHOR_WRITER[kind])
        receipt = self._transact_raw(label, "anchor", int(kind), root, size, metadata_digest)
        return self._anchor_receipt(receipt)

    def get_anchor(self, root: bytes) -> Anchor:
        """The anchor of ``root``; raises AnchorNotFoundError if it was never anchored."""
        kind, writer, size, block = self._call("anchorOf", codec.hash32(root, "root"))
        if kind == 0:
            raise AnchorNotFoundError(root)
        event = self._anchored_event(root, block)
        return Anchor(
            kind=AnchorKind(kind),
            root=root,
            size=size,
            metadata_digest=bytes(event["args"]["metadataDigest"]),
            writer=writer,
            block_number=block,
            block_time=event["args"]["time"],
            tx_hash=event["transactionHash"].to_0x_hex(),
        )

    def verify_anchor(self, root: bytes, *, kind: AnchorKind, size: int,
                      metadata_digest: bytes) -> Anchor:  # fmt: skip
        """Check ``root`` was anchored with these values; returns the anchor or raises
        AnchorNotFoundError / AnchorMismatchError naming the first differing field."""
        anchor = self.get_anchor(root)
        expected = {"kind": kind, "size": size, "metadata_digest": metadata_digest}
        for name, value in expected.items():
            if getattr(anchor, name) != value:
                raise AnchorMismatchError(root, name, value, getattr(anchor, name))
        return anchor

    def anchor_counts(self) -> dict[str, int]:
        return {k.name.lower(): int(self._call("anchorCount", int(k))) for k in AnchorKind}

    # -- approvals ----------------------------------------------------------------------

    def set_approval_threshold(self, threshold: int) -> TxReceipt:
        return self._transact(ADMIN_LABEL, "setApprovalThreshold", threshold)

    def request_approval(self, approval_id: bytes, terms: ApprovalTerms, *,
                         signer: str | None = None) -> TxReceipt:  # fmt: skip
        """File a request (gateway by default). Raises ApprovalExists / InvalidTerms reverts."""
        label = self._signer(signer, Role.GATEWAY)
        args = (codec.hash32(approval_id, "approval_id"), codec.terms_tuple(terms))
        return self._transact(label, "requestApproval", *args)

    def vote(self, approval_id: bytes, signed: SignedDecision, *,
             signer: str | None = None) -> TxReceipt:  # fmt: skip
        """An officer's signed vote (sent by the gateway's account unless ``signer``). Reverts:
        InvalidOfficerSignature, UnknownOfficerKey, OfficerKeyRevoked, AlreadyVoted, ..."""
        args = (codec.hash32(approval_id, "approval_id"), decisions.assertion_tuple(signed))
        return self._transact(self._signer(signer, Role.GATEWAY), "vote", *args)

    def reject(self, approval_id: bytes, reason: int, signed: SignedDecision, *,
               signer: str | None = None) -> TxReceipt:  # fmt: skip
        """An officer's signed rejection; ends a pending request."""
        args = (codec.hash32(approval_id, "approval_id"), reason, decisions.assertion_tuple(signed))
        return self._transact(self._signer(signer, Role.GATEWAY), "reject", *args)

    def revoke_approval(self, approval_id: bytes, reason: int, signed: SignedDecision, *,
                        signer: str | None = None) -> TxReceipt:  # fmt: skip
        """An officer's signed revocation of a pending or approved request."""
        args = (codec.hash32(approval_id, "approval_id"), reason, decisions.assertion_tuple(signed))
        return self._transact(self._signer(signer, Role.GATEWAY), "revokeApproval", *args)

    def decision_challenge(self, approval_id: bytes, decision: Decision) -> bytes:
        """The challenge the contract expects an officer to sign for ``decision``."""
        approval = codec.hash32(approval_id, "approval_id")
        return bytes(self._call("decisionChallenge", approval, int(decision)))

    def get_approval(self, approval_id: bytes) -> Approval:
        """Status as of the latest block; raises ContractRevertError(UnknownApproval)."""
        raw = self._call("getApproval", codec.hash32(approval_id, "approval_id"))
        terms, threshold, votes, status, reason = raw
        return Approval(
            approval_id=approval_id,
            terms=codec.terms_from_tuple(terms),
            threshold=threshold,
            votes=votes,
            status=ApprovalStatus(status),
            reason=reason,
        )

    def require_valid_approval(self, approval_id: bytes, now: float | None = None) -> Approval:
        """Return the approval if approved on chain and ``now`` (default: wall-clock time)
        is inside its window; else raise ApprovalNotValidError. Chain time may run ahead
        of wall time on the embedded chain, so both are checked: it fails closed."""
        approval = self.get_approval(approval_id)
        now = time.time() if now is None else now
        inside = approval.terms.valid_from <= now <= approval.terms.valid_until
        if not inside:
            raise ApprovalNotValidError(approval_id, "OUTSIDE_WINDOW")
        if approval.status != ApprovalStatus.APPROVED:
            raise ApprovalNotValidError(approval_id, approval.status.name)
        return approval

    # -- officers and their keys -----------------------------------------------------------

    def register_officer(self, officer_id: str) -> str:
        """Grant the Officer role to ``officer_id``'s keyless address (`codec.officer_address`)
        unless it holds it; returns the address. Idempotent."""
        address = codec.officer_address(officer_id)
        if self.role_of(address) != Role.OFFICER:
            self._transact(ADMIN_LABEL, "grantRole", address, int(Role.OFFICER))
        return address

    def register_officer_key(self, credential_id: bytes, officer: str, x: bytes, y: bytes,
                             invited_by: str) -> TxReceipt:  # fmt: skip
        """Register a credential's P-256 key (x, y: 32 bytes each) for the officer at address
        ``officer`` (admin). Reverts OfficerKeyExists, InvalidOfficerKey, MissingRole."""
        credential = decisions.credential_hash(credential_id)
        args = (credential, officer, codec.hash32(x, "x"), codec.hash32(y, "y"),
                codec.code32(invited_by))  # fmt: skip
        return self._transact(ADMIN_LABEL, "registerOfficerKey", *args)

    def revoke_officer_key(self, credential_id: bytes) -> TxReceipt:
        return self._transact(
            ADMIN_LABEL, "revokeOfficerKey", decisions.credential_hash(credential_id)
        )

    def officer_key(self, credential: bytes) -> OfficerKey:
        """The key registered as ``credential`` (SHA-256 of the credential id); raises
        ContractRevertError(UnknownOfficerKey)."""
        raw = self._call("officerKey", codec.hash32(credential, "credential"))
        officer, x, y, invited, by, block, revoked = raw
        return OfficerKey(credential=credential, officer=officer, x=bytes(x), y=bytes(y),
                          invited_by=codec.uncode32(invited), registered_by=by,
                          registered_block=block, revoked=revoked)  # fmt: skip

    # -- model releases -----------------------------------------------------------------

    def release_model(self, model_id: str, version: int, spec_hash: bytes, *,
                      officer: str) -> AnchorReceipt:  # fmt: skip
        """Publish a model version (an officer); also anchors the spec hash."""
        args = (codec.code32(model_id), version, codec.hash32(spec_hash, "spec_hash"))
        return self._anchor_receipt(self._transact_raw(officer, "releaseModel", *args))

    def get_model_release(self, model_id: str, version: int) -> ModelRelease:
        spec, officer, released = self._call("getRelease", codec.code32(model_id), version)
        return ModelRelease(model_id, version, bytes(spec), officer, released)

    def latest_model_version(self, model_id: str) -> int:
        return int(self._call("latestVersion", codec.code32(model_id)))

    # -- witnesses ----------------------------------------------------------------------

    def add_witness(self, public_key: bytes) -> TxReceipt:
        return self._transact(ADMIN_LABEL, "addWitness", public_key)

    def remove_witness(self, public_key: bytes) -> TxReceipt:
        return self._transact(ADMIN_LABEL, "removeWitness", keccak(public_key))

    def set_witness_threshold(self, threshold: int) -> TxReceipt:
        return self._transact(ADMIN_LABEL, "setWitnessThreshold", threshold)

    def witness_set(self) -> WitnessSet:
        keys = tuple(bytes(k) for k in self._call("witnesses"))
        epoch, threshold = self._call("witnessEpoch"), self._call("witnessThreshold")
        return WitnessSet(epoch=epoch, threshold=threshold, public_keys=keys)

    def witness_history(self) -> list[tuple[int, WitnessSet]]:
        """Every witness set the ledger has held, oldest first, each with the block whose
        change made it (``WitnessAdded``, ``WitnessRemoved``, ``WitnessThresholdChanged``
        replayed from the contract's events): what a checkpoint anchored in a past block was
        checked against. The last one is `witness_set` unless the node lost old logs."""
        keys: dict[bytes, bytes] = {}  # keccak(key) -> key, in the order they were added
        threshold, history = 0, []
        for event in self.events(0):
            args = event.args
            if event.name == "WitnessAdded":
                key = bytes(args["publicKey"])  # type: ignore[call-overload]
                keys[keccak(key)] = key
            elif event.name == "WitnessRemoved":
                keys.pop(bytes(args["keyHash"]), None)  # type: ignore[call-overload]
            elif event.name == "WitnessThresholdChanged":
                threshold = int(args["threshold"])  # type: ignore[call-overload]
            else:
                continue
            epoch = int(args["epoch"])  # type: ignore[call-overload]
            history.append((event.block_number, WitnessSet(epoch, threshold, tuple(keys.values()))))
        return history

    # -- events -------------------------------------------------------------------------

    def events(self, since_block: int, to_block: int | None = None) -> list[LedgerEvent]:
        """Every contract event from ``since_block`` to ``to_block`` (default: latest)."""
        query = {"address": self._c.address, "fromBlock": since_block,
                 "toBlock": "latest" if to_block is None else to_block}  # fmt: skip
        logs = guard(self._node, lambda: self._node.w3.eth.get_logs(query))  # type: ignore[arg-type]
        return [self._decode_event(log) for log in logs]

    def block_time(self, block_number: int) -> int:
        """The timestamp (Unix seconds) of mined block ``block_number``."""
        block = guard(self._node, lambda: self._node.w3.eth.get_block(block_number))
        return int(block["timestamp"])

    # -- internals ----------------------------------------------------------------------

    def _signer(self, label: str | None, role: Role) -> str:
        chosen = label or self._keys.first_with_role(role)
        if chosen is None:
            raise MissingRoleError("MissingRole", {"account": None, "required": role.name})
        return chosen

    def _fund(self, address: str) -> None:
        if self._funder is None:
            return
        self._sender.transact(self._funder, address, b"", gas=21_000, value=FUND_WEI)

    def _call(self, fn: str, *args: Any) -> Any:
        function = getattr(self._c.functions, fn)(*args)
        try:
            return guard(self._node, lambda: function.call({"from": self._reader}))
        except (ContractLogicError, TransactionFailed) as exc:
            raise self._decoder.error(revert_data(exc)) from None

    def _transact(self, label: str, fn: str, *args: Any) -> TxReceipt:
        receipt = self._transact_raw(label, fn, *args)
        tx_hash = receipt["transactionHash"].to_0x_hex()
        return TxReceipt(tx_hash, receipt["blockNumber"], receipt["gasUsed"])

    def _transact_raw(self, label: str, fn: str, *args: Any) -> Web3Receipt:
        data = bytes.fromhex(self._c.encode_abi(fn, list(args))[2:])
        return self._sender.transact(self._keys.account(label), self._c.address, data)

    def _anchor_receipt(self, receipt: Web3Receipt) -> AnchorReceipt:
        event = next(e for e in map(self._decode_event, receipt["logs"]) if e.name == "Anchored")
        return AnchorReceipt(
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            block_number=receipt["blockNumber"],
            block_time=int(event.args["time"]),  # type: ignore[call-overload]
            gas_used=receipt["gasUsed"],
        )

    def _anchored_event(self, root: bytes, block: int) -> Any:
        anchored = self._c.events.Anchored()
        query = {"address": self._c.address, "fromBlock": block, "toBlock": block,
                 "topics": [anchored.topic, codec.topic(root)]}  # fmt: skip
        logs = guard(self._node, lambda: self._node.w3.eth.get_logs(query))  # type: ignore[arg-type]
        if not logs:
            raise AnchorNotFoundError(root)
        return anchored.process_log(logs[0])

    def _decode_event(self, log: Any) -> LedgerEvent:
        name = self._events.get(bytes(log["topics"][0]), "Unknown")
        decoded = getattr(self._c.events, name)().process_log(log)
        return LedgerEvent(
            name=name,
            block_number=log["blockNumber"],
            tx_hash=log["transactionHash"].to_0x_hex(),
            log_index=log["logIndex"],
            args=dict(decoded["args"]),
        )


class ReadOnlyWeb3Ledger(Web3Ledger):
    """The same views over a read-only node; every write raises LedgerReadOnlyError before
    anything is signed, funded or stored."""

    def ensure_account(self, label: str, role: Role) -> Identity:
        raise LedgerReadOnlyError("ensure_account")

    def _transact_raw(self, label: str, fn: str, *args: Any) -> Web3Receipt:
        raise LedgerReadOnlyError(fn)

    def _fund(self, address: str) -> None:
        raise LedgerReadOnlyError("fund")


def _events(abi: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in abi if e["type"] == "event"]
