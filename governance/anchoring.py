"""Anchoring on the ledger: contribution roots (checked against the vault) and audit-log
checkpoints (`LedgerAnchorer`, the `audit.anchor.Anchorer` over the ledger).

The seam between vault and ledger: the vault issues receipts and recomputes roots; the
ledger stores anchors; this module, in the application layer, connects them. A
contribution's anchor binds its Merkle root, its number of accepted rows and the SHA-256
of its canonical receipt document (RFC 8785 JSON of the fields below), so an auditor holding
a receipt can check the anchor, and the anchor pins every row through the root.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from pydantic import BaseModel, ConfigDict

from audit import AnchorError, WitnessPolicy, WitnessPublicKey, verify_possession
from governance.contribution_signatures import KeysAt, attestation_fields, verify_attestation
from governance.control import ControlPlane
from governance.signing_keys import SigningKeys
from ledger import AlreadyAnchoredError, AnchorKind, Ledger, LedgerError, Role, WitnessSet
from vault import ContributionCheck, Receipt, Vault, check_contribution

GATEWAY_LABEL = "gateway"  # the ledger account that signs audit-log and consent-log anchors

ANCHORED_FIELDS = ("contribution_id", "provider", "table", "file_sha256", "submitted",
                   "accepted", "rejected", "merkle_root", "schema_digest", "received_at")  # fmt: skip


def receipt_document(record: dict[str, Any]) -> bytes:
    """The canonical receipt document whose SHA-256 is anchored with the root: the
    `ANCHORED_FIELDS`, and for a contribution recorded since issue 17 its ``origin`` and the
    provider's signature (`attestation_fields`), so the anchor binds what the provider
    signed. The gateway countersigns these bytes (`signed_receipt`)."""
    return rfc8785.dumps({k: record[k] for k in ANCHORED_FIELDS} | attestation_fields(record))


def signed_receipt(signer: SigningKeys, receipt: Receipt) -> tuple[str, str]:
    """(the receipt document as text, the gateway's detached JWS over it): what a provider
    keeps to prove later what the vault acknowledged."""
    document = receipt_document(receipt.model_dump(mode="json"))
    return document.decode("utf-8"), signer.sign(document)


def metadata_digest(record: dict[str, Any]) -> bytes:
    return hashlib.sha256(receipt_document(record)).digest()


def provider_label(provider: str) -> str:
    return f"provider:{provider}"


def anchor_receipt(ledger: Ledger, vault: Vault, receipt: Receipt) -> str | None:
    """Anchor one accepted contribution (idempotent) and record where; returns the anchor
    reference, or None for a contribution with nothing to anchor (refused, or no rows)."""
    if receipt.status != "accepted" or receipt.accepted == 0:
        return None
    record = receipt.model_dump(mode="json")
    signer = ledger.ensure_account(provider_label(receipt.provider), Role.PROVIDER).label
    root = bytes.fromhex(receipt.merkle_root)
    digest = metadata_digest(record)
    try:
        done = ledger.anchor(AnchorKind.CONTRIBUTION, root, receipt.accepted, digest, signer=signer)
        reference = f"block {done.block_number} tx {done.tx_hash}"
    except AlreadyAnchoredError:  # a previous run anchored it and stopped before recording
        anchor = ledger.verify_anchor(
            root, kind=AnchorKind.CONTRIBUTION, size=receipt.accepted, metadata_digest=digest
        )
        reference = f"block {anchor.block_number}"
    vault.record_anchor(receipt.contribution_id, reference)
    return reference


def anchor_pending(ledger: Ledger, vault: Vault) -> int:
    """Anchor every accepted contribution the vault has not recorded an anchor for."""
    count = 0
    for record in vault.contributions():
        if record["anchor"] is None and record["status"] == "accepted" and record["accepted"]:
            receipt = Receipt.model_validate(
                record | {"table": record["table_name"], "report": None}
            )
            count += anchor_receipt(ledger, vault, receipt) is not None
    return count


class ContributionVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    contribution_id: str
    provider: str
    table: str
    rows: int
    origin: str | None  # provider (signed), operator (a load), None (before issue 17)
    ok: bool
    problems: list[str]


@dataclass(frozen=True)
class ProviderKeys:
    """What checking providers' signatures needs from the control plane: each client's
    keys at a moment (`KeyRegistry.keys_at`) and each client's registry provider id."""

    keys_at: KeysAt
    provider_of: Callable[[str], str | None]


def verify_contributions(
    ledger: Ledger,
    vault: Vault,
    progress: Callable[[list[dict[str, Any]]], Iterable[dict[str, Any]]] = lambda xs: xs,
    keys: ProviderKeys | None = None,
) -> list[ContributionVerdict]:
    """For every accepted contribution: recompute its root from the stored rows (naming any
    altered or missing row), check the anchor on the ledger binds that root and receipt
    (origin and provider signature included), and, with ``keys``, verify a provider-signed
    contribution's signature against the key registered for it then (without ``keys``, a
    provider-signed contribution is named as not checked)."""
    records = _accepted(vault.contributions())
    return [_verdict(ledger, vault, record, keys) for record in progress(records)]


def signature_problems(record: dict[str, Any], keys: ProviderKeys | None) -> list[str]:
    """What is wrong with a record's provider signature (`verify_attestation`); nothing for
    an operator's load or a record from before signatures."""
    if record.get("origin") != "provider":
        return []
    if keys is None:
        return ["provider signature not checked: no control plane (its keys) given"]
    return verify_attestation(record, keys.keys_at, keys.provider_of)


def _accepted(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["status"] == "accepted" and r["accepted"]]


def _verdict(
    ledger: Ledger, vault: Vault, record: dict[str, Any], keys: ProviderKeys | None
) -> ContributionVerdict:
    check: ContributionCheck = check_contribution(vault, record["contribution_id"])
    problems = list(check.problems()) + signature_problems(record, keys)
    root = bytes.fromhex(record["merkle_root"])
    try:
        ledger.verify_anchor(root, kind=AnchorKind.CONTRIBUTION, size=record["accepted"],
                             metadata_digest=metadata_digest(record | {"table": record["table_name"]}))  # fmt: skip
    except LedgerError as exc:
        problems.append(f"anchor: {exc}")
    return ContributionVerdict(
        contribution_id=record["contribution_id"], provider=record["provider"],
        table=record["table_name"], rows=record["accepted"], origin=record.get("origin"),
        ok=not problems, problems=problems,
    )  # fmt: skip


def unanchored_contributions(
    ledger: Ledger, vault: Vault, keys: ProviderKeys | None = None
) -> list[str]:
    """Every accepted contribution whose root is not anchored on the ledger with its row
    count and receipt, or (with ``keys``) whose provider signature does not verify, one
    line each (empty: all good). Rows are not recomputed here: that is
    `verify_contributions` (``dexin ledger verify``)."""
    return _unanchored(ledger, _accepted(vault.contributions()), keys)


def _unanchored(
    ledger: Ledger, records: Iterable[dict[str, Any]], keys: ProviderKeys | None = None
) -> list[str]:
    problems = []
    for record in records:
        name = f"{record['provider']}/{record['table_name']} {record['contribution_id']}"
        digest = metadata_digest(record | {"table": record["table_name"]})
        try:
            ledger.verify_anchor(bytes.fromhex(record["merkle_root"]), kind=AnchorKind.CONTRIBUTION,
                                 size=record["accepted"], metadata_digest=digest)  # fmt: skip
        except LedgerError as exc:
            problems.append(f"{name}: {exc}")
        if keys is not None:
            problems += [f"{name}: {p}" for p in signature_problems(record, keys)]
    return problems


def unanchored_receipts(
    ledger: Ledger, receipts: Path, keys: ProviderKeys | None = None
) -> tuple[int, list[str]]:
    """Like `unanchored_contributions`, from the receipts the vault publishes beside itself
    (``receipts.json``, `Vault.publish_receipts`, which carry each provider's signed
    statement), so it works while another process holds the vault. Returns (accepted
    contributions listed, problems). The list is the operator's statement: it proves every
    listed root is anchored, not that nothing was left out (`verify_contributions`, on the
    vault itself, checks that)."""
    records = json.loads(receipts.read_text(encoding="utf-8"))["receipts"]
    accepted = _accepted(records)
    return len(accepted), _unanchored(ledger, accepted, keys)


def provider_keys(control: ControlPlane) -> ProviderKeys:
    """`ProviderKeys` read from the control plane (keys with their history, client names)."""

    def provider_of(client_id: str) -> str | None:
        client = next((c for c in control.clients() if c.client_id == client_id), None)
        return client.name if client is not None and client.role == "provider" else None

    return ProviderKeys(control.keys.keys_at, provider_of)


class LedgerAnchorer:
    """``audit.anchor.Anchorer`` over the ledger: ``AnchorKind.AUDIT_LOG`` anchors signed by
    the gateway account; the witness policy is the ledger's witness set."""

    def __init__(self, ledger: Ledger, signer: str = GATEWAY_LABEL) -> None:
        self._ledger = ledger
        self._signer = signer
        self._history: tuple[int, list[tuple[int, WitnessSet]]] | None = None  # (tip, sets)

    def anchor_checkpoint(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        """Anchor (idempotent); raises AnchorError if the root is anchored differently."""
        self._ledger.ensure_account(self._signer, Role.GATEWAY)
        try:
            done = self._ledger.anchor(
                AnchorKind.AUDIT_LOG, root, size, aggregate_digest, signer=self._signer
            )
            return f"block {done.block_number} tx {done.tx_hash}"
        except AlreadyAnchoredError:  # an earlier run anchored it and stopped before recording
            return self.verify_checkpoint_anchor(size, root, aggregate_digest)

    def verify_checkpoint_anchor(self, size: int, root: bytes, aggregate_digest: bytes) -> str:
        try:
            anchor = self._ledger.verify_anchor(
                root, kind=AnchorKind.AUDIT_LOG, size=size, metadata_digest=aggregate_digest
            )
        except LedgerError as exc:
            raise AnchorError(size, f"{type(exc).__name__}: {exc} {exc.details}") from None
        return f"block {anchor.block_number}"

    def witness_policy(self) -> WitnessPolicy:
        witnesses = self._ledger.witness_set()
        return WitnessPolicy(witnesses.threshold, frozenset(witnesses.public_keys))

    def witness_policy_at_anchor(self, root: bytes) -> WitnessPolicy | None:
        """The witness set as of the end of the block before the anchor's (what the gateway
        read when it aggregated the bundle), replayed from the ledger's witness events (read
        once per anchorer; again when an anchor is newer). None when ``root`` is not anchored
        or the replayed history does not end at today's epoch (a node that lost old logs)."""
        try:
            block = self._ledger.get_anchor(root).block_number
        except LedgerError:
            return None
        if self._history is None or block > self._history[0]:
            self._history = (self._ledger.status().height, self._ledger.witness_history())
        _, history = self._history
        if not history or history[-1][1].epoch != self._ledger.witness_set().epoch:
            return None
        in_force = [s for changed, s in history if changed < block]
        if not in_force:
            return WitnessPolicy(0, frozenset())
        return WitnessPolicy(in_force[-1].threshold, frozenset(in_force[-1].public_keys))


def register_witness(ledger: Ledger, key: WitnessPublicKey, proof_of_possession: bytes) -> None:
    """Add a witness key to the ledger's set after checking its proof of possession (the BLS
    POP scheme is unsafe against rogue keys without it). Raises CosignatureError."""
    verify_possession(key, proof_of_possession)
    ledger.add_witness(key.public_key)
