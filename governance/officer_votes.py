"""The auditor's check of officers' signatures: every vote of every approval, again.

The contract verifies each officer's assertion before it counts a decision; the auditor
does not take that on trust (nor the node that serves it the events). For each approval the
policy uses, `vote_findings` re-verifies from the ledger's events alone:

- the keys: ``OfficerKeyRegistered`` (credential → officer, P-256 point, block) and
  ``OfficerKeyRevocation``; a decision counts only with a key registered before it and not
  revoked before it, and only for the officer the key was registered to;
- each ``OfficerDecision``: the challenge recomputed from the approval's terms as the ledger
  holds them (`ledger.decision_challenge`), the client data JSON (type ``webauthn.get``, that
  challenge), the authenticator flags (user present and verified), the ES256 signature over
  ``authenticatorData || SHA-256(clientDataJSON)`` with `cryptography` (a second
  implementation beside the contract's), and the recorded digest;
- each ``ApprovalVoted`` must come with a verified approve decision of the same officer in
  the same transaction, and a granted approval needs ``threshold`` distinct officers so
  verified.

Anything else is named — which vote, by which officer address, in which transaction — and
the policy refuses every access that used the approval (`audit.ApprovalRecord.unsigned_votes`).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from audit import ApprovalRecord
from ledger import Approval, Decision, Ledger, LedgerEvent, decision_challenge

__all__ = ["OfficerKeyRecord", "officer_keys", "vote_findings", "with_vote_findings"]

FLAGS_UP_UV = 0x05


@dataclass(frozen=True)
class OfficerKeyRecord:
    officer: str
    x: bytes
    y: bytes
    registered_block: int
    revoked_block: int | None = None


def officer_keys(chain: Iterable[LedgerEvent]) -> dict[bytes, OfficerKeyRecord]:
    """Every credential the ledger registered, with the block it was revoked at (if)."""
    keys: dict[bytes, OfficerKeyRecord] = {}
    for e in chain:
        if e.name == "OfficerKeyRegistered":
            keys[_b(e.args["credential"])] = OfficerKeyRecord(
                str(e.args["officer"]), _b(e.args["x"]), _b(e.args["y"]), e.block_number
            )
        elif e.name == "OfficerKeyRevocation" and _b(e.args["credential"]) in keys:
            kept = keys[_b(e.args["credential"])]
            keys[_b(e.args["credential"])] = dataclasses.replace(kept, revoked_block=e.block_number)
    return keys  # fmt: skip


def with_vote_findings(ledger: Ledger, approvals: Mapping[str, ApprovalRecord],
                       requests: Sequence[Sequence[Any]],
                       chain: list[LedgerEvent]) -> dict[str, ApprovalRecord]:  # fmt: skip
    """``approvals`` with each record's ``unsigned_votes`` filled in (see the module)."""
    status = ledger.status()
    keys = officer_keys(chain)
    ledger_ids = {str(row[0]): bytes.fromhex(str(row[1])) for row in requests}
    out = {}
    for request_id, record in approvals.items():
        approval_id = ledger_ids[request_id]
        approval = ledger.get_approval(approval_id)
        found = vote_findings(approval, chain, keys, status.chain_id, status.contract)
        out[request_id] = dataclasses.replace(record, unsigned_votes=tuple(found))
    return out


def vote_findings(approval: Approval, chain: Sequence[LedgerEvent],
                  keys: Mapping[bytes, OfficerKeyRecord], chain_id: int,
                  contract: str) -> list[str]:  # fmt: skip
    """What is wrong with the officers' signatures on ``approval`` (empty: nothing)."""
    mine = [e for e in chain if e.args.get("id") == approval.approval_id]
    signed: dict[tuple[str, str, int], str | None] = {}  # (tx, officer, decision) -> problem
    for e in (e for e in mine if e.name == "OfficerDecision"):
        problem = _check_decision(approval, e, keys, chain_id, contract)
        signed[(e.tx_hash, str(e.args["officer"]), int(_i(e.args["decision"])))] = problem
    findings = [f"{p} (officer {k[1]}, tx {k[0]})" for k, p in signed.items() if p is not None]
    voters = set()
    for e in (e for e in mine if e.name == "ApprovalVoted"):
        key = (e.tx_hash, str(e.args["officer"]), int(Decision.APPROVE))
        if key not in signed:
            findings.append(f"vote by officer {key[1]} (tx {e.tx_hash}) has no officer signature")
        elif signed[key] is None:
            voters.add(key[1])
    granted = any(e.name == "ApprovalGranted" for e in mine)
    if granted and len(voters) < approval.threshold:
        findings.append(f"granted with {len(voters)} validly signed officer votes, "
                        f"{approval.threshold} needed")  # fmt: skip
    return findings


def _check_decision(approval: Approval, event: LedgerEvent, keys: Mapping[bytes, OfficerKeyRecord],
                    chain_id: int, contract: str) -> str | None:  # fmt: skip
    signed = _assertion(event.args["assertion"])
    key = keys.get(signed["credential"])
    if key is None or key.registered_block > event.block_number:
        return "signed by a key not registered on the ledger"
    if key.revoked_block is not None and key.revoked_block <= event.block_number:
        return "signed by a revoked key"
    if key.officer != str(event.args["officer"]):
        return "signed by another officer's key"
    decision = Decision(int(_i(event.args["decision"])))
    challenge = decision_challenge(approval.approval_id, decision, approval.terms, chain_id,
                                   contract)  # fmt: skip
    return _check_signature(signed, challenge, key) or _check_digest(signed, event)


def _check_signature(
    signed: Mapping[str, Any], challenge: bytes, key: OfficerKeyRecord
) -> str | None:
    try:
        client = json.loads(signed["clientDataJSON"])
        sent = base64.urlsafe_b64decode(client["challenge"] + "=" * (-len(client["challenge"]) % 4))
    except (ValueError, KeyError, TypeError):
        return "client data is not a WebAuthn assertion's"
    if client.get("type") != "webauthn.get" or sent != challenge:
        return "signed another challenge than this decision's"
    data: bytes = signed["authenticatorData"]
    if len(data) < 37 or data[32] & FLAGS_UP_UV != FLAGS_UP_UV:
        return "the authenticator did not verify the officer"
    point = ec.EllipticCurvePublicNumbers(int.from_bytes(key.x, "big"), int.from_bytes(key.y, "big"),
                                          ec.SECP256R1()).public_key()  # fmt: skip
    message = data + hashlib.sha256(signed["clientDataJSON"].encode()).digest()
    der = encode_dss_signature(
        int.from_bytes(signed["r"], "big"), int.from_bytes(signed["s"], "big")
    )
    try:
        point.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "the signature does not verify with the registered key"
    return None


def _check_digest(signed: Mapping[str, Any], event: LedgerEvent) -> str | None:
    raw = (
        signed["authenticatorData"] + signed["clientDataJSON"].encode() + signed["r"] + signed["s"]
    )
    if hashlib.sha256(raw).digest() != _b(event.args["digest"]):
        return "the recorded digest is not the assertion's"
    return None


def _assertion(raw: Any) -> dict[str, Any]:
    """The event's ``Assertion`` tuple (web3 gives a dict or a tuple) by field name."""
    names = ("credential", "authenticatorData", "clientDataJSON", "challengeIndex", "typeIndex",
             "r", "s")  # fmt: skip
    doc = dict(raw) if isinstance(raw, Mapping) else dict(zip(names, raw, strict=True))
    for name in ("credential", "authenticatorData", "r", "s"):
        doc[name] = _b(doc[name])
    return doc


def _b(value: Any) -> bytes:
    assert isinstance(value, bytes | bytearray), type(value)
    return bytes(value)


def _i(value: Any) -> int:
    assert isinstance(value, int), type(value)
    return value
