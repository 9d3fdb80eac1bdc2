"""Providers sign their credit repairs (信用修复; issue 18) like their answers to disputes.

A provider's filing of a repair (``POST /v1/repairs``) and its decision on a resident's
application (``POST /v1/repairs/{id}/decision``) carry a detached JWS (``typ`` `REPAIR_TYPE`)
over the canonical repair statement (`repair_statement`: RFC 8785 JSON of the provider's
client id, the repair decided or the record filed, the decision, the date it takes effect
as requested, the time the provider states and the SHA-256 of its note). The gateway
rebuilds those bytes from the request and checks them with `answer_signatures.check_detached`
(`SignatureRefused`: ``repair_unsigned``, ``repair_statement_invalid``,
``repair_signature_invalid``, ``repair_statement_mismatch``) before anything changes; the
signed statement, signature and key id are kept with the repair (``repairs.attestation``,
migration 0013) and a granted repair's ``row_changed`` leaf binds the key id and the
signature's SHA-256. `repair_signature_problems` is the auditor's check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import rfc8785
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from governance.answer_signatures import SignedAnswer, check_detached
from governance.client_keys import PublicKey
from governance.contribution_signatures import SignedContribution, verify_signature
from governance.db import session_factory
from governance.dispute_log import CHANGED
from governance.dispute_models import DisputeEvent, Repair
from governance.errors import SignatureRefused

if TYPE_CHECKING:
    from governance.anchoring import ProviderKeys

__all__ = ["REPAIR_TYPE", "check_signed_repair", "repair_signature_problems",
           "repair_statement"]  # fmt: skip

REPAIR_TYPE = "dexin-credit-repair+jws"


def repair_statement(
    client_id: str, *, repair: str | None, record: dict[str, Any] | None, decision: str,
    repaired_on: str | None, signed_at: str, note: str,
) -> bytes:  # fmt: skip
    """The canonical repair a provider signs (RFC 8785): ``repair`` (the application it
    decides) or ``record`` (``table``, ``contribution_id``, ``row``: the record it repairs)."""
    return rfc8785.dumps({"v": 1, "client_id": client_id, "repair": repair, "record": record,
                          "decision": decision, "repaired_on": repaired_on,
                          "signed_at": signed_at,
                          "note_sha256": hashlib.sha256(note.encode()).hexdigest()})  # fmt: skip


def check_signed_repair(
    signed: SignedAnswer | None, *, client_id: str, repair: str | None,
    record: dict[str, Any] | None, decision: str, repaired_on: dt.date | None, note: str,
    keys: Sequence[PublicKey], now: dt.datetime,
) -> str:  # fmt: skip
    """Verify the provider's signature over its repair or decision (``signed.answered_at`` is
    the time it states); the attestation to keep. Raises `SignatureRefused`."""
    on = repaired_on.isoformat() if repaired_on else None

    def statement(at: str) -> bytes:
        return repair_statement(client_id, repair=repair, record=record, decision=decision,
                                repaired_on=on, signed_at=at, note=note)  # fmt: skip

    return check_detached(signed, statement, typ=REPAIR_TYPE, prefix="repair", keys=keys,
                          now=now)  # fmt: skip


# -- the auditor's check ----------------------------------------------------------------------


def repair_signature_problems(engine: Engine, keys: ProviderKeys) -> tuple[int, list[str]]:
    """(provider repairs checked, problems): every repair filed or decided by its provider
    must have its signed statement kept, naming this repair (or, filed, this record), its
    decision and date, signed by a key registered then for a client of the record's provider;
    a granted repair's ``row_changed`` leaf must bind that very signature."""
    if "repairs" not in inspect(engine).get_table_names():
        return 0, []
    with session_factory(engine)() as s:
        rows = list(s.scalars(select(Repair).where(Repair.status != "pending")
                              .order_by(Repair.applied_at)))  # fmt: skip
        leaves = {e.dispute_id: json.loads(e.entry)
                  for e in s.scalars(select(DisputeEvent).where(DisputeEvent.event == CHANGED))}  # fmt: skip
    problems = [f"repair {r.id}: {p}" for r in rows for p in _problems(r, leaves.get(r.id), keys)]
    return len(rows), problems


def _problems(r: Repair, leaf: dict[str, Any] | None, keys: ProviderKeys) -> list[str]:
    if r.attestation is None:
        return ["the provider's repair is not signed"]
    kept = json.loads(r.attestation)
    digest = hashlib.sha256(kept["signature"].encode()).hexdigest()
    if r.status == "granted" and (leaf is None or leaf.get("signature_sha256") != digest):
        return ["the kept signature is not the one the dispute log binds"]
    statement = kept["statement"].encode("utf-8")
    try:
        doc = json.loads(statement)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not _names(doc, r):
        return ["the signed statement names another repair, record, decision or date"]
    client_id = str(doc.get("client_id"))
    if keys.provider_of(client_id) != r.provider:
        return ["the signed statement's client is not the record's provider"]
    at = r.decided_at or r.applied_at
    try:
        key = verify_signature(SignedContribution(statement, kept["signature"]),
                               keys.keys_at(client_id, at), REPAIR_TYPE)  # fmt: skip
    except SignatureRefused:
        return ["no key registered for the provider then verifies its repair"]
    return [] if key.kid == kept["kid"] else ["made with another key than the one it names"]


def _names(doc: dict[str, Any], r: Repair) -> bool:
    if doc.get("decision") != r.status:
        return False
    on = doc.get("repaired_on")
    if on is not None and (r.repaired_on is None or on != r.repaired_on.isoformat()):
        return False
    if r.origin == "resident":
        return bool(doc.get("repair") == r.id and doc.get("record") is None)
    record = {"table": r.table_name, "contribution_id": r.contribution_id, "row": r.row_no}
    return bool(doc.get("repair") is None and doc.get("record") == record)
