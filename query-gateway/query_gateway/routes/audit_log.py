"""The audit log's public face (issue 6 §4): checkpoints, proofs and entries.

A bank proves later, to anyone, that its query was logged: its score response names the
entry's index; `GET /v1/audit/entries/{index}` returns the entry's exact canonical bytes
(the Merkle leaf data), the inclusion proof ties that leaf to a checkpoint's root, and the
checkpoint is signed by the log and cosigned by witnesses. Entries are shown to auditors, and
to the requester that caused them; to anyone else an entry does not exist (404).

Witnesses fetch the checkpoint the gateway collects cosignatures for and post theirs
(`governance.witnessing`); the gateway anchors them in the background.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import anyio
from fastapi import Query, Request, Response

from audit import (
    AuditError,
    CosignatureError,
    MerkleLog,
    NoteError,
    NoteVerifier,
    WitnessPublicKey,
    decode_entry,
    parse_cosignature,
)
from governance import (
    MEMBER_ACTION,
    AuditTrail,
    Conflict,
    GatewayError,
    InvalidRequest,
    NotFound,
    PolicyDenied,
    Principal,
    Role,
    SubmitRefused,
    Witnessing,
)
from ledger import ContractRevertError, WitnessSet
from query_gateway.gateway import GatewayDep, PrincipalDep, Services, gateway_of
from query_gateway.policy import policy, public
from query_gateway.problems import refusals
from query_gateway.routes import router
from query_gateway.schemas import (
    CosignatureAccepted,
    CosignatureCreate,
    Strict,
    WitnessCreate,
    WitnessSetPublic,
)

routes = router()
READERS = (Role.AUDITOR, Role.BANK, Role.PROVIDER, Role.OFFICER, Role.ADMIN)


def _log(gw: Services) -> MerkleLog[Any]:
    if not isinstance(gw.audit, AuditTrail):
        raise NotFound("no_merkle_log")
    return gw.audit.log


def _hex(proof: list[bytes]) -> dict[str, list[str]]:
    return {"proof": [h.hex() for h in proof]}


LOG_KEY_ADVICE = (
    "Pin this key out of band (从独立渠道核对并固定此公钥): compare it with the copy the "
    "operator publishes elsewhere (a signed letter, the authority's website) before trusting "
    "it, then verify every checkpoint note with the pinned copy, never with a key fetched "
    "again from this gateway. A gateway that showed a split view could also show a different "
    "key here."
)


class LogKeyPublic(Strict):
    vkey: str  # signed-note verifier key: name+hex(key ID)+base64(0x01 || Ed25519 key)
    origin: str  # the log's origin line, the key's name
    key_id: str  # hex, 4 bytes
    advice: str


@routes.get(
    "/v1/audit/log-key",
    openapi_extra=public(),
    summary="The log's note verifier key (signed-note vkey), to pin out of band",
)
async def log_key(gw: GatewayDep) -> LogKeyPublic:
    path = _log(gw).directory / "log.vkey"  # written by the log when it opens
    try:
        verifier = NoteVerifier.from_vkey(await anyio.Path(path).read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, NoteError):  # fail closed: never serve a bad key
        raise NotFound("no_log_key") from None
    return LogKeyPublic(vkey=verifier.vkey(), origin=verifier.name,
                        key_id=verifier.key_id.hex(), advice=LOG_KEY_ADVICE)  # fmt: skip


@routes.get(
    "/v1/audit/checkpoints/latest",
    openapi_extra=public(),
    response_class=Response,
    summary="The latest signed checkpoint (C2SP tlog-checkpoint note)",
)
async def latest_checkpoint(gw: GatewayDep) -> Response:
    checkpoint = _log(gw).latest_checkpoint()
    if checkpoint is None:
        raise NotFound("no_checkpoint_yet")
    return Response(checkpoint.render(), media_type="text/plain; charset=utf-8")


@routes.get(
    "/v1/audit/proofs/inclusion",
    openapi_extra=policy(*READERS) | refusals("index_or_size_out_of_range"),
    summary="RFC 9162 inclusion proof of entry `index` in the tree of `size` entries",
)
async def inclusion(
    gw: GatewayDep, index: Annotated[int, Query(ge=0)], size: Annotated[int, Query(ge=1)]
) -> dict[str, list[str]]:
    log = _log(gw)
    if index >= size or size > log.size:
        raise InvalidRequest(reason="index_or_size_out_of_range")
    return _hex(await anyio.to_thread.run_sync(log.inclusion_proof, index, size))


@routes.get(
    "/v1/audit/proofs/consistency",
    openapi_extra=policy(*READERS) | refusals("size_out_of_range"),
    summary="RFC 9162 consistency proof between the trees of `old` and `new` entries",
)
async def consistency(
    gw: GatewayDep, old: Annotated[int, Query(ge=1)], new: Annotated[int, Query(ge=1)]
) -> dict[str, list[str]]:
    log = _log(gw)
    if old > new or new > log.size:
        raise InvalidRequest(reason="size_out_of_range")
    return _hex(await anyio.to_thread.run_sync(log.consistency_proof, old, new))


def _may_read(principal: Principal, data: bytes) -> bool:
    """Auditors and admins read every entry; a client reads the entries it caused, but for
    the member entries of a household answer: those name other people than the applicant
    (their pseudonyms and consents), and the bank's receipt is the applicant's entry."""
    if principal.role in (Role.AUDITOR, Role.ADMIN):
        return True
    _, entry = decode_entry(data)
    if entry.action == MEMBER_ACTION:
        return False
    return principal.client_id is not None and entry.actor == principal.client_id


@routes.get(
    "/v1/audit/entries/{index}",
    openapi_extra=policy(*READERS),
    response_class=Response,
    summary="An entry's exact canonical bytes (its Merkle leaf data)",
)
async def entry(gw: GatewayDep, principal: PrincipalDep, index: int) -> Response:
    log = _log(gw)
    if not 0 <= index < log.size:
        raise NotFound("no_such_entry")
    try:
        data = await anyio.to_thread.run_sync(log.entry, index)
    except AuditError:
        raise NotFound("no_such_entry") from None
    if not _may_read(principal, data):
        raise NotFound("no_such_entry")
    return Response(data, media_type="application/json")


def _witnessing(request: Request) -> Witnessing:
    witnessing = gateway_of(request).witnessing
    if witnessing is None:
        raise NotFound("no_merkle_log")
    return witnessing


@routes.get(
    "/v1/audit/cosignatures/checkpoint",
    openapi_extra=public(),
    response_class=Response,
    summary="The checkpoint witnesses are asked to cosign now (signed note)",
)
async def checkpoint_to_cosign(request: Request) -> Response:
    signed = await anyio.to_thread.run_sync(_witnessing(request).target)
    if signed is None:
        raise NotFound("nothing_to_cosign")
    return Response(signed.render(), media_type="text/plain; charset=utf-8")


_REFUSALS: dict[str, type[GatewayError]] = {
    "no_such_checkpoint": NotFound,
    "already_anchored": Conflict,
    "witness_not_registered": PolicyDenied,
}


@routes.post(
    "/v1/audit/cosignatures",
    openapi_extra=policy(Role.AUDITOR) | refusals("malformed_cosignature"),
    status_code=202,
    summary="Submit a witness's cosignature; it is checked and anchored in the background",
)
async def submit_cosignature(request: Request, body: CosignatureCreate) -> CosignatureAccepted:
    witnessing = _witnessing(request)
    try:
        cosignature = parse_cosignature(body.model_dump())
    except CosignatureError:
        raise InvalidRequest(reason="malformed_cosignature") from None
    try:  # a full queue (TooManySubmissions: the next round sets bad ones aside) and a
        # LedgerError are answered from the problem table
        await anyio.to_thread.run_sync(witnessing.submit, cosignature)
    except SubmitRefused as exc:  # the refusal's kind decides the problem
        raise _REFUSALS[exc.reason](exc.reason) from None
    return CosignatureAccepted(size=cosignature.size, witness=cosignature.witness.name)


@routes.get(
    "/v1/audit/witnesses",
    openapi_extra=public(),
    summary="The ledger's witness set: keys, threshold, epoch",
)
async def witness_set(gw: GatewayDep) -> WitnessSetPublic:
    found = await anyio.to_thread.run_sync(gw.ledger.witness_set)  # LedgerError: the table's 503
    return _public(found)


@routes.post(
    "/v1/audit/witnesses",
    openapi_extra=policy(Role.ADMIN) | refusals("malformed_witness", "invalid_proof_of_possession"),
    status_code=201,
    summary="Add a witness to the ledger's set (its proof of possession is checked first)",
)
async def register_witness(request: Request, body: WitnessCreate) -> WitnessSetPublic:
    witnessing = _witnessing(request)
    try:
        key = WitnessPublicKey.from_vkey(body.witness)
        proof = base64.b64decode(body.proof_of_possession, validate=True)
    except (NoteError, binascii.Error, ValueError):
        raise InvalidRequest(reason="malformed_witness") from None
    try:
        found = await anyio.to_thread.run_sync(witnessing.register, key, proof, body.threshold)
    except SubmitRefused as exc:
        raise Conflict(exc.reason) from None
    except CosignatureError:
        raise InvalidRequest(reason="invalid_proof_of_possession") from None
    except ContractRevertError as exc:  # a refusal, not an outage (other LedgerErrors: 503)
        raise Conflict(
            "witness_exists" if exc.error == "WitnessExists" else "ledger_refused"
        ) from None
    return _public(found)


def _public(found: WitnessSet) -> WitnessSetPublic:
    keys = [k.hex() for k in found.public_keys]
    return WitnessSetPublic(epoch=found.epoch, threshold=found.threshold, public_keys=keys)
