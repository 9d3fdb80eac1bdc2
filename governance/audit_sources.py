"""The verifier's approval and consent records, from sources an auditor can authenticate.

``dexin audit verify`` (on the data directory) checks every allowed data access of a bank —
``POST /v1/scores`` and ``POST /v1/aggregates`` entries — against records built here:

**Approvals: the ledger.** The control plane maps the gateway's access-request id to the
ledger's approval id (``access_requests.ledger_id``, as ``governance.approvals`` files
it); everything else comes from the chain: the terms (requester, computation, purpose,
window) from ``get_approval``, the moment the m-of-n threshold was reached from the block of
the ``ApprovalGranted`` event, a revocation from the block of ``ApprovalRevoked``. A request
the ledger never granted is not an approval (revoked while pending: an empty window).

Block times are clocks too. The embedded chain stamps a block ``max(now, parent + 1)``, so
during a burst of transactions its time runs ahead of the wall clock. The verifier only
flags what is certain: an approval is valid from the *earliest* wall time its granting block
can have been mined (the time of the first block of the burst it belongs to), and
until the *latest* time its revocation can have been mined (the revoking block's time).

**Consents: the consent log, authenticated by its anchor.** Every consent event's leaf is
recomputed from its canonical entry (not read from the stored hash) and the tree over the
first S events must have the root anchored on the ledger as ``CONSENT_LOG`` with size S, for
the largest anchored S; a mismatch, or fewer events than an anchor covers, fails the
verification. Events after the last anchor are not authenticated and are not used (the
verdict says how many). Subjects are compared through the log's keyed digest
``SHA-256("dexin.consent-subject:" || pseudonym)``. What a consent covers is its event's
``computations``; an event logged before consents named them (migration 0003) covers the
person-level computations only (`UNNAMED_COVERAGE`), as the control plane reads it. Every
member entry of a household answer is checked like the receipt, so each member the answer
used must have a covering consent of their own.

**Scopes: the control plane, authenticated by the ledger.** The approval's terms anchor only
the scope's digest; the scope itself is the access request's row, accepted only if its
digest (`governance.scope.scope_digest`, or the pre-issue-13 `legacy_scope_digest`) is the
anchored one — otherwise the verification fails (``approval-scope``), so the operator cannot
widen a scope after the officers voted. With the catalogue's definition of the anchored
computation (by content hash) each record lists the computation's inputs and the values the
scope allows, and the policy checks every aggregate entry's recorded parameters against
them; a definition no longer in the catalogue is checked against the scope alone.

**Officers' votes: the ledger's events.** Every vote of every approval is verified again
against the officer keys registered on the ledger (`governance.officer_votes`); an
approval with a vote that does not verify justifies no access.

Limits: the id mapping itself lives in the operator's database; a remapped request can
only point at another approval the ledger shows valid for the same bank, computation and
purpose at that time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from audit import ApprovalRecord, ConsentRecord, RecordedPolicy, VerificationError, merkle
from governance.catalogue import PURPOSES, Catalogue, load_catalogue
from governance.consent_log import METADATA as CONSENT_LOG_METADATA
from governance.consent_log import UNNAMED_COVERAGE
from governance.db import normalise_url, open_engine, session_factory
from governance.households import MEMBER_ACTION
from governance.models import AccessRequest, ConsentEvent
from governance.officer_votes import with_vote_findings
from governance.scope import allowed_values, legacy_scope_digest, scope_digest
from ledger import AnchorKind, Approval, ApprovalTerms, Ledger, LedgerEvent

__all__ = [
    "GOVERNED_ACTIONS",
    "SUBJECT_DIGEST_PREFIX",
    "PolicySources",
    "policy_from_engine",
    "sourced_policy",
]

GOVERNED_ROLES = frozenset({"bank"})  # the role the gateway writes for banks' clients
GOVERNED_ACTIONS = frozenset({"POST /v1/scores", MEMBER_ACTION, "POST /v1/aggregates"})
SUBJECT_DIGEST_PREFIX = b"dexin.consent-subject:"
_PURPOSE_NAMES = {code: name for name, code in PURPOSES.items()}


@dataclass
class PolicySources:
    """The policy and what the auditor should know about its records."""

    policy: RecordedPolicy
    notes: list[str] = field(default_factory=list)


def sourced_policy(ledger: Ledger, database_url: str) -> PolicySources:
    """Build the access policy from the ledger and the control plane at ``database_url``.
    Raises VerificationError (``consent-log``: the log does not match its anchors); ledger
    and database errors pass through."""
    return _policy(ledger, *_rows(database_url))


def policy_from_engine(ledger: Ledger, engine: Engine) -> PolicySources:
    """The same over an open control-plane engine (the gateway's own, in the console)."""
    return _policy(ledger, *_read(engine))


RequestRow = tuple[str, str, dict[str, Any] | None]  # id, ledger id, stored scope


def _policy(ledger: Ledger, requests: list[RequestRow], events: list[str]) -> PolicySources:
    chain = ledger.events(0)
    consents, notes = authenticated_consents(events, chain)
    approvals = ledger_approvals(ledger, requests, chain)
    approvals = with_vote_findings(ledger, approvals, requests, chain)  # issue 14: signatures
    policy = RecordedPolicy(approvals, consents, roles=GOVERNED_ROLES, actions=GOVERNED_ACTIONS,
                            subject_digest_prefix=SUBJECT_DIGEST_PREFIX)  # fmt: skip
    notes.insert(0, f"access policy from the ledger ({len(approvals)} approvals) and the "
                    f"anchored consent log ({len(consents)} consents)")  # fmt: skip
    return PolicySources(policy, notes)


def _rows(database_url: str) -> tuple[list[RequestRow], list[str]]:
    """(access-request id, ledger id, scope) rows and the consent log's entries in order; empty
    when the gateway never ran here (no database, no tables). Creates nothing."""
    url = normalise_url(database_url)
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
        return [], []
    engine = open_engine(url)
    try:
        return _read(engine)
    finally:
        engine.dispose()


def _read(engine: Engine) -> tuple[list[RequestRow], list[str]]:
    if not {"access_requests", "consent_events"} <= set(inspect(engine).get_table_names()):
        return [], []
    with session_factory(engine)() as s:
        columns = select(AccessRequest.id, AccessRequest.ledger_id, AccessRequest.scope)
        requests = [(r, lid, scope) for r, lid, scope in s.execute(columns)]
        entries = list(s.scalars(select(ConsentEvent.entry).order_by(ConsentEvent.seq)))
    return requests, entries


# -- consents -----------------------------------------------------------------------------


def authenticated_consents(
    entries: list[str], chain: Iterable[LedgerEvent]
) -> tuple[dict[str, ConsentRecord], list[str]]:
    """Consent records from the prefix of ``entries`` whose root is anchored (see above)."""
    anchored = {_int(e, "size"): _bytes(e, "root") for e in chain if _is_consent_anchor(e)}
    if not anchored:
        return {}, [f"consent log: no anchored root; {len(entries)} events not used"]
    size = max(anchored)
    if size > len(entries):
        raise VerificationError(
            "consent-log",
            f"an anchor covers {size} consent events, the database has {len(entries)}",
            expected=str(size),
            actual=str(len(entries)),
        )
    leaves = [merkle.leaf_hash(e.encode()) for e in entries[:size]]
    if merkle.root(leaves) != anchored[size]:
        raise VerificationError(
            "consent-log",
            f"the first {size} consent events do not have the anchored root",
            expected=anchored[size].hex(),
            actual=merkle.root(leaves).hex(),
        )
    notes = []
    if len(entries) > size:
        notes.append(f"consent log: {len(entries) - size} events after the last anchor not used")
    return _consents(json.loads(e) for e in entries[:size]), notes


def _consents(events: Iterable[Mapping[str, Any]]) -> dict[str, ConsentRecord]:
    records: dict[str, ConsentRecord] = {}
    for event in events:
        at = _utc(event["at"])
        if event["event"] == "granted":
            records[event["consent"]] = ConsentRecord(
                consent_id=event["consent"], subject=event["subject_digest"], given_at=at,
                grantee=event["bank"], purpose=event["purpose"], expires_at=_utc(event["expires_at"]),
                computations=frozenset(event.get("computations", UNNAMED_COVERAGE)),
            )  # fmt: skip
        elif event["event"] == "withdrawn" and event["consent"] in records:
            kept = records[event["consent"]]
            records[kept.consent_id] = dataclasses.replace(
                kept, withdrawn_at=kept.withdrawn_at or at
            )
    return records


# -- approvals ----------------------------------------------------------------------------


def ledger_approvals(
    ledger: Ledger, requests: list[RequestRow], chain: list[LedgerEvent]
) -> dict[str, ApprovalRecord]:
    """One record per access request the ledger knows, keyed by the gateway's id; raises
    VerificationError (``approval-scope``) for a stored scope that is not the anchored one."""
    granted = _blocks(chain, "ApprovalGranted")
    revoked = _blocks(chain, "ApprovalRevoked")
    clock = _WallClock(ledger)
    records = {}
    catalogue = load_catalogue()
    for request_id, ledger_id, scope in requests:
        key = bytes.fromhex(ledger_id)
        if key not in granted and key not in revoked:
            continue  # never approved: the request is unknown to the policy
        approval = ledger.get_approval(key)
        record = _approval(request_id, approval, granted.get(key), revoked.get(key), clock)
        records[request_id] = scoped_record(record, approval.terms, scope, catalogue)
    return records


def _approval(request_id: str, approval: Approval, granted: int | None, revoked: int | None,
              clock: _WallClock) -> ApprovalRecord:  # fmt: skip
    terms = approval.terms
    start = _unix(terms.valid_from)
    until = _unix(terms.valid_until)
    if revoked is not None:
        until = min(until, _unix(clock.latest(revoked)))
    start = max(start, _unix(clock.earliest(granted))) if granted is not None else until
    return ApprovalRecord(
        approval_id=request_id, valid_from=start, valid_until=max(start, until),
        requester=terms.requester, computations=frozenset({terms.computation_id}),
        purpose=_PURPOSE_NAMES.get(terms.purpose),
    )  # fmt: skip


def scoped_record(
    record: ApprovalRecord, terms: ApprovalTerms, scope: dict[str, Any] | None, catalogue: Catalogue
) -> ApprovalRecord:
    """``record`` with the inputs of its computation and the values ``scope`` allows, once
    ``scope`` is shown to be the anchored one (else VerificationError ``approval-scope``)."""
    digest = scope_digest(scope)
    if terms.scope not in (digest, legacy_scope_digest(scope)):
        raise VerificationError(
            "approval-scope",
            f"the scope of access request {record.approval_id} is not the one its approval "
            "anchored",
            expected=terms.scope.hex(),
            actual=digest.hex(),
        )
    definition = next((c for c in catalogue if c.hash == terms.content_hash.hex()), None)
    names = definition.inputs if definition is not None else tuple(scope or {})
    scoped = definition.scoped if definition is not None else names
    inputs = {n: allowed_values(scope, n) if n in scoped else None for n in names}
    return dataclasses.replace(record, inputs=inputs)


def _blocks(chain: Iterable[LedgerEvent], name: str) -> dict[bytes, int]:
    return {_bytes(e, "id"): e.block_number for e in chain if e.name == name}


def _is_consent_anchor(event: LedgerEvent) -> bool:
    return (event.name == "Anchored" and _int(event, "kind") == AnchorKind.CONSENT_LOG
            and _bytes(event, "metadataDigest") == CONSENT_LOG_METADATA)  # fmt: skip


def _bytes(event: LedgerEvent, name: str) -> bytes:
    value = event.args[name]
    assert isinstance(value, bytes), name
    return value


def _int(event: LedgerEvent, name: str) -> int:
    value = event.args[name]
    assert isinstance(value, int), name
    return value


class _WallClock:
    """Bounds on the wall time at which a block was mined (see the module's docstring)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._embedded = ledger.backend == "embedded"
        self._times: dict[int, int] = {}

    def latest(self, block: int) -> int:
        return self._time(block)

    def earliest(self, block: int) -> int:
        if not self._embedded:
            return self._time(block)
        while block > 0 and self._time(block) == self._time(block - 1) + 1:
            block -= 1  # in a burst: this block's time may lead the wall clock
        return self._time(block)

    def _time(self, block: int) -> int:
        if block not in self._times:
            self._times[block] = self._ledger.block_time(block)
        return self._times[block]


def _utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _unix(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)
