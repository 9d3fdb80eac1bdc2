"""Issue 13, finding 4: a revoked approval or a withdrawn consent must never stay cached.

The answer path keeps snapshots of approvals and consents (`ControlPlane.approval_snapshot`,
`valid_consent`); a revocation or withdrawal commits, then `forget`s them. A reader that
read the row before the commit must not store it after the `forget`. Two tests:

- an interleaving forced deterministically: the snapshot store itself lets the revocation
  or withdrawal run first (the old code's check-then-store let it land in between);
- a stress test: many rounds of concurrent scores through the HTTP API racing a withdrawal
  or a revocation through the HTTP API. Once the change's call has returned, no score may be
  allowed, and no allowed score's audit entry may be stamped after that moment.

The old code's window lay between two bytecodes of one thread, so only the first test finds
it reliably; the stress test guards the promise end to end (it fails at once, in nearly every
round, if a change stops dropping its snapshot).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gateway_support import Actors, auth, score_body

from audit.entry import decode_entry
from dexin.officer_key import sign_decision
from governance.consents import withdraw_consent
from governance.credentials import Role
from governance.votes import revoke_approval

SCORERS = 4
BUDGET = 6.0  # seconds for each kind of change: more rounds while it lasts, at most 60
MAX_ROUNDS = 60


def more(rounds: list[Any], at_least: int, deadline: float) -> bool:
    """Whether to race another round: always up to ``at_least``, then while time lasts."""
    if len(rounds) < at_least:
        return True
    return time.monotonic() < deadline and len(rounds) < MAX_ROUNDS


def gateway_of(actors: Actors) -> Any:
    return actors.http.app.state.gateway  # type: ignore[attr-defined]


class ChangeDuringStore(dict[str, Any]):
    """A snapshot dict whose first store of ``key`` first runs ``change`` (a revocation or a
    withdrawal, committed and `forget`-ed) on another thread and gives it a second to finish.

    On the old code the store came after the generation check, outside any lock: the change
    finished in between, and the store kept the snapshot read before it. With the check and
    the store one step under the lock, the change's `forget` waits for the store and drops it.
    """

    def __init__(self, original: dict[str, Any], key: str, change: Callable[[], Any]) -> None:
        super().__init__(original)
        self.key = key
        self.change = change
        self.thread: threading.Thread | None = None

    def __setitem__(self, key: str, value: Any) -> None:
        if key == self.key and self.thread is None:
            self.thread = threading.Thread(target=self.change)
            self.thread.start()
            self.thread.join(timeout=1.0)
        super().__setitem__(key, value)

    def finish(self) -> None:
        """Wait for the change to have returned (it ran, committed and forgot)."""
        assert self.thread is not None, "the snapshot was never stored"
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


@contextmanager
def change_during_store(
    control: Any, cache: str, key: str, change: Callable[[], Any]
) -> Iterator[ChangeDuringStore]:
    original = getattr(control, cache)
    hooked = ChangeDuringStore(original, key, change)
    setattr(control, cache, hooked)
    try:
        yield hooked
    finally:
        if hooked.thread is not None:
            hooked.thread.join(timeout=30)
        setattr(control, cache, original)
        original.clear()  # nothing this test stored outlives it


def test_a_withdrawal_between_the_read_and_the_store_is_not_lost(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK, "race-bank-consent")
    rid = actors.approved(bank)
    id_number = actors.world.ids[11]
    consent = actors.consent(actors.subject(id_number), bank_id)
    gw = gateway_of(actors)
    subject = gw.vault.subject_pseudonym(id_number)
    withdraw = lambda: withdraw_consent(gw, subject, consent, {})  # noqa: E731
    with change_during_store(gw.control, "_consents", consent, withdraw) as hooked:
        first = actors.http.post("/v1/scores", json=score_body(id_number, rid, consent),
                                 headers=auth(bank))  # fmt: skip
        hooked.finish()
        after = actors.http.post("/v1/scores", json=score_body(id_number, rid, consent),
                                 headers=auth(bank))  # fmt: skip
    assert first.status_code == 200  # read before the withdrawal committed: answered
    assert after.status_code == 403, "a score was allowed after the withdrawal returned"
    assert after.json()["reason"] == "consent_withdrawn"


def test_a_revocation_between_the_read_and_the_store_is_not_lost(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK, "race-bank-approval")
    rid = actors.approved(bank)
    officer = actors.enrolled(1)[0]
    officer.key, assertion, _ = sign_decision(actors.http, officer.key, officer.token, rid,
                                              "revoke")  # fmt: skip
    id_number = actors.world.ids[12]
    consent = actors.consent(actors.subject(id_number), bank_id)
    gw = gateway_of(actors)
    revoke = lambda: revoke_approval(gw, officer.client_id, rid, assertion, {})  # noqa: E731
    with change_during_store(gw.control, "_requests", rid, revoke) as hooked:
        first = actors.http.post("/v1/scores", json=score_body(id_number, rid, consent),
                                 headers=auth(bank))  # fmt: skip
        hooked.finish()
        after = actors.http.post("/v1/scores", json=score_body(id_number, rid, consent),
                                 headers=auth(bank))  # fmt: skip
    assert first.status_code == 200
    assert after.status_code == 403, "a score was allowed after the revocation returned"
    assert after.json()["reason"] == "approval_revoked"


@dataclass
class Round:
    """One race: scores sent until ``stop``; ``committed`` when the change's call returned."""

    access_request: str
    consent: str
    committed: dt.datetime | None = None
    answers: list[tuple[dt.datetime, int]] = field(default_factory=list)  # (sent, status)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def busy_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter can, to open every window there is."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def race(actors: Actors, bank: str, id_number: str, one: Round, change: Callable[[], Any]) -> None:
    """Score from `SCORERS` threads while ``change`` runs through the API, then a little
    longer; records every score's send time and status, and the change's commit time."""
    stop = threading.Event()
    start = threading.Barrier(SCORERS + 1)
    body = score_body(id_number, one.access_request, one.consent)

    def score() -> None:
        start.wait()
        while not stop.is_set():
            sent = dt.datetime.now(dt.UTC)
            r = actors.http.post("/v1/scores", json=body, headers=auth(bank))
            with one.lock:
                one.answers.append((sent, r.status_code))

    scorers = [threading.Thread(target=score) for _ in range(SCORERS)]
    with busy_switching():
        for t in scorers:
            t.start()
        start.wait()
        time.sleep(random.uniform(0.0, 0.004))  # land the change anywhere around the first fills
        change()
        one.committed = dt.datetime.now(dt.UTC)
        time.sleep(0.03)
        stop.set()
        for t in scorers:
            t.join(timeout=30)


def violations(actors: Actors, rounds: list[Round]) -> list[str]:
    """Scores allowed after their round's change had returned, by their answers and by the
    allowed scores' audit entries."""
    found = []
    for one in rounds:
        assert one.committed is not None
        late = [s for sent, s in one.answers if sent > one.committed and s == 200]
        if late:
            found.append(f"{len(late)} scores allowed after the change returned")
    by_key = {(one.access_request, one.consent): one.committed for one in rounds}
    for raw in gateway_of(actors).audit.entries():
        entry = decode_entry(raw)[1]
        committed = by_key.get((entry.access_request, entry.consent))
        if committed is None or entry.action != "POST /v1/scores" or entry.decision != "allow":
            continue
        if entry.time_value > committed:
            found.append(f"allowed at {entry.time}, after the change at {committed.isoformat()}")
    return found


def test_scores_racing_withdrawals_never_outlive_the_withdrawal(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK, "stress-bank-consents")
    rid = actors.approved(bank, quota=1_000_000)
    rounds: list[Round] = []
    deadline = time.monotonic() + BUDGET
    while more(rounds, 10, deadline):
        id_number = actors.world.ids[20 + len(rounds) % 40]
        subject = actors.subject(id_number)
        one = Round(rid, actors.consent(subject, bank_id))

        def withdraw(one: Round = one, subject: str = subject) -> None:
            r = actors.http.delete(f"/v1/consents/{one.consent}", headers=auth(subject))
            assert r.status_code == 204, r.text

        race(actors, bank, id_number, one, withdraw)
        rounds.append(one)
    assert sum(s == 200 for one in rounds for _, s in one.answers) > 0  # the races were real
    assert violations(actors, rounds) == []


def test_scores_racing_revocations_never_outlive_the_revocation(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK, "stress-bank-approvals")
    officer = actors.enrolled(1)[0]
    id_number = actors.world.ids[70]
    consent = actors.consent(actors.subject(id_number), bank_id)
    rounds: list[Round] = []
    deadline = time.monotonic() + BUDGET
    while more(rounds, 3, deadline):  # each round files and approves afresh (on the ledger)
        one = Round(actors.approved(bank, quota=1_000_000), consent)

        def revoke(one: Round = one) -> None:
            r = actors.decide(officer, one.access_request, "revoke")  # signed, through the API
            assert r.status_code == 200, r.text

        race(actors, bank, id_number, one, revoke)
        rounds.append(one)
    assert sum(s == 200 for one in rounds for _, s in one.answers) > 0
    assert violations(actors, rounds) == []
