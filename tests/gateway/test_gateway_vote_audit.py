"""Issue 14, the auditor's side: every vote of every approval an answer used is verified
again against the officer keys registered on the ledger, and a vote without a valid
officer signature — one a node or an operator wrote behind the gateway's and the
contract's back, and serves the auditor as if the ledger held it — is named."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from gateway_support import Actors, auth, score_body

from audit import decode_entry
from audit.errors import PolicyViolation
from governance.audit_sources import policy_from_engine
from governance.credentials import Role
from ledger import LedgerEvent


class ServedEvents:
    """The real ledger, seen through a node that alters the events it serves."""

    def __init__(self, ledger: Any, alter: Any) -> None:
        self._ledger, self._alter = ledger, alter

    def events(self, since_block: int, to_block: int | None = None) -> list[LedgerEvent]:
        return list(self._alter(self._ledger.events(since_block, to_block)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


def _scored(actors: Actors) -> tuple[str, bytes, int]:
    """An approved request (two officers' signed votes), a consent, a score: (request id,
    its ledger id, the score's audit index)."""
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    id_number = actors.world.ids[11]
    consent = actors.consent(actors.subject(id_number), bank_id)
    r = actors.http.post("/v1/scores", json=score_body(id_number, rid, consent),
                         headers=auth(bank))  # fmt: skip
    assert r.status_code == 200, r.text
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    return rid, bytes.fromhex(gw.control.request(rid).ledger_id), int(r.json()["audit"]["index"])


def _check(actors: Actors, ledger: Any, index: int) -> None:
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    gw.audit.log.checkpoint_now()
    policy = policy_from_engine(ledger, gw.engine).policy
    at, entry = decode_entry(gw.audit.entry(index))
    policy.check(at, entry)


def test_the_verifier_accepts_votes_signed_by_registered_keys(actors: Actors) -> None:
    _, _, index = _scored(actors)
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    _check(actors, gw.ledger, index)


def test_a_vote_whose_signature_does_not_verify_is_named(actors: Actors) -> None:
    rid, approval_id, index = _scored(actors)

    def flip_one_signature(events: list[LedgerEvent]) -> Any:
        flipped = False
        for e in events:
            if e.name == "OfficerDecision" and e.args["id"] == approval_id and not flipped:
                flipped = True
                assertion = dict(e.args["assertion"])
                assertion["s"] = bytes(32 - 1) + b"\x01"  # a signature no key made
                e = dataclasses.replace(e, args=e.args | {"assertion": assertion})
            yield e

    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    with pytest.raises(PolicyViolation) as caught:
        _check(actors, ServedEvents(gw.ledger, flip_one_signature), index)
    reason = caught.value.reason
    assert caught.value.index == index
    assert rid in reason and "does not verify with the registered key" in reason


def test_a_vote_recorded_without_any_assertion_is_named(actors: Actors) -> None:
    """A third approval vote the contract never saw (no signed decision beside it)."""
    _, approval_id, index = _scored(actors)

    def add_a_vote(events: list[LedgerEvent]) -> Any:
        for e in events:
            yield e
            if e.name == "ApprovalGranted" and e.args["id"] == approval_id:
                officer = "0x" + "ab" * 20
                args = {"id": approval_id, "officer": officer, "votes": 3}
                yield dataclasses.replace(e, name="ApprovalVoted", args=args, log_index=99)

    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    with pytest.raises(PolicyViolation) as caught:
        _check(actors, ServedEvents(gw.ledger, add_a_vote), index)
    reason = caught.value.reason
    assert "0x" + "ab" * 20 in reason and "has no officer signature" in reason
