"""Officers' signed decisions: what an officer signs, and how an assertion reaches the contract.

An officer decides an approval (approve, reject, revoke) by a WebAuthn assertion whose
challenge is :func:`decision_challenge`: SHA-256 of the RFC 8785 (JCS) canonical JSON of

    {"approval": 0x<approval id>, "chain": <chain id>, "contract": 0x<contract address>,
     "decision": "approve" | "reject" | "revoke", "terms": 0x<SHA-256(abi.encode(terms))>}

(every value a string; hex lowercase). ``DexinLedger.decisionChallenge`` builds the same bytes
on chain, and the contract verifies the assertion against it before counting the decision;
the auditor recomputes it from the terms the ledger holds. The assertion's digest is
SHA-256(authenticatorData || clientDataJSON || r || s) with ``s`` in the lower half of the
curve order (the contract's form; an authenticator may produce either half).
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from eth_abi.abi import encode

from . import codec
from .models import ApprovalTerms, Decision, SignedDecision

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
TERMS_ABI = "(bytes32,bytes32,bytes32,bytes32,uint16,uint32,uint64,uint64)"
_CHALLENGE_MEMBER = b'"challenge":"'
_TYPE_MEMBER = b'"type":"webauthn.get"'


def terms_digest(terms: ApprovalTerms) -> bytes:
    """SHA-256 of the ABI encoding of the terms (``abi.encode(terms)`` in Solidity)."""
    return hashlib.sha256(encode([TERMS_ABI], [codec.terms_tuple(terms)])).digest()


def decision_document(approval_id: bytes, decision: Decision, terms: ApprovalTerms,
                      chain_id: int, contract: str) -> dict[str, str]:  # fmt: skip
    """The JSON object whose canonical form an officer signs (see the module's docstring)."""
    return {
        "approval": "0x" + codec.hash32(approval_id, "approval_id").hex(),
        "chain": str(chain_id),
        "contract": contract.lower(),
        "decision": decision.word,
        "terms": "0x" + terms_digest(terms).hex(),
    }


def challenge_of(document: dict[str, str]) -> bytes:
    """SHA-256 of the document's RFC 8785 canonical JSON."""
    return hashlib.sha256(rfc8785.dumps(document)).digest()


def decision_challenge(approval_id: bytes, decision: Decision, terms: ApprovalTerms,
                       chain_id: int, contract: str) -> bytes:  # fmt: skip
    """The 32-byte WebAuthn challenge of ``decision`` on ``approval_id``."""
    return challenge_of(decision_document(approval_id, decision, terms, chain_id, contract))


def credential_hash(credential_id: bytes) -> bytes:
    """How the ledger names a WebAuthn credential: SHA-256 of its raw id."""
    if not credential_id:
        raise ValueError("a credential id is not empty")
    return hashlib.sha256(credential_id).digest()


def low_s_signature(der: bytes) -> tuple[int, int]:
    """(r, s) of a DER ECDSA P-256 signature, s moved to the lower half (equally valid)."""
    r, s = decode_dss_signature(der)
    return r, (P256_ORDER - s if s > P256_ORDER // 2 else s)


def assertion_digest(signed: SignedDecision) -> bytes:
    """SHA-256(authenticatorData || clientDataJSON || r || s), as the contract records it."""
    r, s = low_s_signature(signed.signature)
    raw = signed.authenticator_data + signed.client_data_json
    return hashlib.sha256(raw + r.to_bytes(32, "big") + s.to_bytes(32, "big")).digest()


def assertion_tuple(signed: SignedDecision) -> tuple[Any, ...]:
    """The contract's ``Assertion`` struct, in ABI order. A client data JSON without the
    members the contract looks for gets an index past its end (the contract then refuses)."""
    r, s = low_s_signature(signed.signature)
    data = signed.client_data_json
    return (
        credential_hash(signed.credential_id),
        signed.authenticator_data,
        data.decode("utf-8"),
        _index(data, _CHALLENGE_MEMBER),
        _index(data, _TYPE_MEMBER),
        r.to_bytes(32, "big"),
        s.to_bytes(32, "big"),
    )


def _index(data: bytes, member: bytes) -> int:
    found = data.find(member)
    return len(data) if found < 0 else found
