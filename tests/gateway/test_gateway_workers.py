"""Issue 16 §2: several answer workers on one PostgreSQL control plane answer as one gateway.

Three gateway apps (each its own `Services`: control plane, snapshots, rate limiter, replay
cache, dispute marks) are built on the same fresh PostgreSQL schema, over the session's
vault and ledger, appending to the session's audit trail (the stand-in for the log's shared
backend). Through them:

- a withdrawal and a revocation committed through one worker are refused by every other
  worker on its next call, though each had the approval and consent in its snapshots;
- an approval's quota of K, spent from all workers at once, answers exactly K, and its ε
  never more than granted (and every worker shows what remains);
- a DPoP proof or a client assertion used at one worker is refused at another;
- a rate limit is one bucket across workers;
- a dispute filed through one worker marks the resident's score at another;
- a resident's statement or review counts on every worker's next answer;
- console sign-in failures (per address, per unknown name) are counted across workers.

These need PostgreSQL (the embedded SQLite control plane belongs to one process); they are
skipped only when it cannot be reached (it can be in CI).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dpop_support import ClientKey, sign_bound_requests
from gateway_support import PG_URL, Actors, TestClient, World, auth, needs_postgres, score_body
from query_gateway.app import create_app
from sqlalchemy import create_engine, event, select, text, update

from governance.accounts import ConsoleAccounts
from governance.control import ControlPlane
from governance.credentials import Role
from governance.db import normalise_url, open_engine, session_factory
from governance.dispute_models import Dispute
from governance.ids import new_id
from governance.login_guard import AccountLocked, Failures, LoginFailed, LoginPolicy, LoginThrottled
from governance.models import AccessRequest
from governance.rights_models import RecordStatement, ScoreReview

WORKERS = 3
PEOPLE = range(190, 200)  # residents no other test uses


pytestmark = needs_postgres()


class SharedTrail:
    """The session gateway's audit trail, appended to by every worker (as they would append
    to the log's shared backend); only its owner closes it."""

    def __init__(self, trail: Any) -> None:
        self._trail = trail

    def append(self, entry: Any) -> Any:
        return self._trail.append(entry)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trail, name)

    def close(self) -> None:
        pass


@dataclass
class Cluster:
    http: list[TestClient]  # one test client per worker
    actors: Actors  # registers clients and files approvals through worker 0
    world: World  # the session's world on this cluster's schema
    control: ControlPlane

    def workers(self, settings_changes: dict[str, Any]) -> ExitStack:
        """Extra workers on this schema with other gateway settings (appended to ``http``
        until the stack closes)."""
        stack = ExitStack()
        settings = self.world.with_gateway(**settings_changes)
        for _ in range(2):
            app = create_app(settings, self.world.components(**_parts(self.http[0])))
            client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            self.http.append(client)
            stack.callback(self.http.remove, client)
        return stack


def _parts(client: TestClient) -> dict[str, Any]:
    """What every worker takes from the first: the shared audit trail and the read-only
    score and aggregate services (each real worker reads the published snapshot)."""
    services = gw(client)
    return {"audit": services.audit, "scores": services.scores,
            "aggregates": services.aggregates}  # fmt: skip


@pytest.fixture(scope="module")
def cluster(world: World, app_client: TestClient) -> Iterator[Cluster]:
    schema = f"wk_{secrets.token_hex(6)}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    ours = dataclasses.replace(world, settings=world.with_gateway(database_url=PG_URL),
                               database_url=PG_URL, schema=schema, officer_pool=[])  # fmt: skip
    session_gw = app_client.app.state.gateway  # type: ignore[attr-defined]
    parts = {"audit": SharedTrail(session_gw.audit), "scores": session_gw.scores,
             "aggregates": session_gw.aggregates}  # fmt: skip
    engine = open_engine(PG_URL, schema=schema)
    try:
        with ExitStack() as stack:
            apps = [create_app(ours.settings, ours.components(**parts)) for _ in range(WORKERS)]
            http = [stack.enter_context(TestClient(app, raise_server_exceptions=False))
                    for app in apps]  # fmt: skip
            control = ControlPlane(session_factory(engine))
            assert control.shared and all(gw(h).control.shared for h in http)
            yield Cluster(http, Actors(http[0], control, ours), ours, control)
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def gw(http: TestClient) -> Any:
    return http.app.state.gateway  # type: ignore[attr-defined]


def bank_of(cluster: Cluster, name: str, **request: Any) -> tuple[ClientKey, str]:
    """A bank (its requests signed on every worker) and an approval of its own."""
    holder = cluster.actors.keyed(Role.BANK, name)
    for http in cluster.http:
        sign_bound_requests(http)
    return holder, cluster.actors.approved(holder.token, **request)


def refused(r: Any) -> tuple[int, Any]:
    """(status, reason) of a response (reason None for an answer)."""
    body = r.json()
    return r.status_code, body.get("reason") if isinstance(body, dict) else None


def score(http: TestClient, bank: ClientKey, id_number: str, rid: str, consent: str) -> Any:
    return http.post("/v1/scores", json=score_body(id_number, rid, consent),
                     headers=auth(bank.token))  # fmt: skip


def test_a_withdrawal_through_one_worker_is_refused_by_every_worker(cluster: Cluster) -> None:
    bank, rid = bank_of(cluster, "workers-withdrawal")
    id_number = cluster.world.ids[PEOPLE[0]]
    subject = cluster.actors.subject(id_number)
    consent = cluster.actors.consent(subject, bank.client_id)
    for http in cluster.http:  # every worker now holds the consent in its snapshots
        assert score(http, bank, id_number, rid, consent).status_code == 200
    a, *others = cluster.http
    assert a.delete(f"/v1/consents/{consent}", headers=auth(subject)).status_code == 204
    for http in others:
        assert refused(score(http, bank, id_number, rid, consent)) == (403, "consent_withdrawn")


def test_a_revocation_through_one_worker_is_refused_by_every_worker(cluster: Cluster) -> None:
    bank, rid = bank_of(cluster, "workers-revocation")
    id_number = cluster.world.ids[PEOPLE[1]]
    consent = cluster.actors.consent(cluster.actors.subject(id_number), bank.client_id)
    for http in cluster.http:  # every worker now holds the approval in its snapshots
        assert score(http, bank, id_number, rid, consent).status_code == 200
    officer = cluster.actors.enrolled(1)[0]
    revoked = cluster.actors.decide(officer, rid, "revoke")  # through worker 0
    assert revoked.status_code == 200, revoked.text
    for http in cluster.http[1:]:
        assert refused(score(http, bank, id_number, rid, consent)) == (403, "approval_revoked")


def test_a_quota_spent_from_every_worker_at_once_answers_exactly_k(cluster: Cluster) -> None:
    k, each = 5, 4  # 12 requests at once for 5 units
    bank, rid = bank_of(cluster, "workers-quota", quota=k)
    id_number = cluster.world.ids[PEOPLE[2]]
    consent = cluster.actors.consent(cluster.actors.subject(id_number), bank.client_id)
    statuses: list[int] = []
    start = threading.Barrier(WORKERS * each)

    def ask(http: TestClient) -> None:
        start.wait(timeout=30)
        statuses.append(score(http, bank, id_number, rid, consent).status_code)

    threads = [threading.Thread(target=ask, args=(http,)) for http in cluster.http
               for _ in range(each)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == [200] * k + [429] * (WORKERS * each - k)
    with cluster.control.sessions() as s:
        assert s.scalar(select(AccessRequest.used).where(AccessRequest.id == rid)) == k
    assert refused(score(cluster.http[0], bank, id_number, rid, consent)) == (
        429,
        "quota_exhausted",
    )


def test_epsilon_spent_by_workers_at_once_never_exceeds_the_grant(cluster: Cluster) -> None:
    bank, rid = bank_of(cluster, "workers-epsilon", computation="grade_distribution_by_town",
                        epsilon=1.0)  # fmt: skip
    for http in cluster.http:  # every worker holds the approval, ε spent 0, in its snapshots
        assert release(http, bank, rid, preview=True).json()["epsilon_remaining"] == 1.0
    *spending, watching = cluster.http
    statuses: list[int] = []
    start = threading.Barrier(2 * len(spending))

    def ask(http: TestClient) -> None:
        start.wait(timeout=30)
        statuses.append(release(http, bank, rid).status_code)

    threads = [threading.Thread(target=ask, args=(http,)) for http in spending
               for _ in range(2)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == [200] * 3 + [403] * (2 * len(spending) - 3)  # 3 × 0.3 of 1.0
    left = release(watching, bank, rid, preview=True).json()  # a worker that spent nothing
    assert left["epsilon_remaining"] == pytest.approx(0.1) and left["sufficient"] is False


def release(http: TestClient, bank: ClientKey, rid: str, **over: Any) -> Any:
    body = {"computation": "grade_distribution_by_town", "access_request_id": rid,
            "epsilon": 0.3} | over  # fmt: skip
    return http.post("/v1/aggregates", json=body, headers=auth(bank.token))


def test_a_dpop_proof_used_at_one_worker_is_refused_at_another(cluster: Cluster) -> None:
    bank, _ = bank_of(cluster, "workers-dpop")
    a, b = cluster.http[0], cluster.http[1]
    url = "http://testserver/v1/access-requests"
    proof = bank.proof("GET", url, bank.token)
    headers = {"Authorization": f"DPoP {bank.token}", "DPoP": proof}
    assert a.get("/v1/access-requests", headers=headers).status_code == 200
    replayed = b.get("/v1/access-requests", headers=headers)
    assert refused(replayed) == (401, "invalid_dpop_proof")
    fresh = {"Authorization": f"DPoP {bank.token}", "DPoP": bank.proof("GET", url, bank.token)}
    assert b.get("/v1/access-requests", headers=fresh).status_code == 200


def test_a_client_assertion_used_at_one_worker_is_refused_at_another(cluster: Cluster) -> None:
    bank, _ = bank_of(cluster, "workers-assertion")
    form = bank.token_form()
    token_url = "http://testserver/v1/oauth/token"
    first = cluster.http[0].post("/v1/oauth/token", data=form,
                                 headers={"DPoP": bank.proof("POST", token_url)})  # fmt: skip
    assert first.status_code == 200, first.text
    again = cluster.http[2].post("/v1/oauth/token", data=form,
                                 headers={"DPoP": bank.proof("POST", token_url)})  # fmt: skip
    assert refused(again) == (401, "invalid_client"), again.text


def test_a_rate_limit_is_one_bucket_across_workers(cluster: Cluster) -> None:
    burst = 4
    subject = cluster.actors.subject(cluster.world.ids[PEOPLE[3]])
    with cluster.workers({"rate_limit": 0.001, "rate_burst": burst}):
        a, b = cluster.http[-2], cluster.http[-1]
        answered = [(a if i % 2 else b).get("/v1/consents", headers=auth(subject))
                    for i in range(burst + 2)]  # fmt: skip
    assert [r.status_code for r in answered] == [200] * burst + [429, 429]
    assert int(answered[-1].headers["Retry-After"]) >= 1


def test_rate_limits_and_used_ids_are_kept_in_the_control_plane(cluster: Cluster) -> None:
    """What the answer path shares is the database's, not a worker's memory: the limiter and
    the replay cache of each worker say so, and hold no entry of their own."""
    for http in cluster.http:
        assert gw(http).rate_limiter.shared and gw(http).replay.shared
        assert len(gw(http).replay) == 0


def test_a_dispute_marked_through_one_worker_marks_every_worker(cluster: Cluster) -> None:
    """The marks each worker's dispute desk keeps (the answer path's ``disputed``) follow a
    dispute opened and answered through another worker's desk, in the transaction a filing
    and an answer use (`DisputeDesk.logged`; no log leaf, so nothing is anchored)."""
    a, b, c = (gw(http).disputes for http in cluster.http)
    subject = secrets.token_hex(32)  # a pseudonym no resident has
    assert not b.marked([subject]) and not c.marked([subject])  # each holds its marks
    now = dt.datetime.now(dt.UTC)
    dispute = Dispute(id=new_id("dsp"), subject=subject, scope="score", reason=b"-",
                      content_digest="0" * 64, received_at=now,
                      due_at=now + dt.timedelta(days=20), status="open")  # fmt: skip
    with a.logged() as s:
        s.add(dispute)
    assert b.marked([subject]) and c.marked([subject])
    with a.logged() as s:
        s.execute(update(Dispute).where(Dispute.id == dispute.id).values(status="answered"))
    assert not b.marked([subject]) and not c.marked([subject])


def test_a_statement_or_review_made_anywhere_counts_on_every_worker(cluster: Cluster) -> None:
    """The residents with statements or an open review each worker keeps (the notes of a
    score answer) follow a change committed by any process: the trigger of migration 0011
    raises the ``rights`` version in the change's own transaction."""
    b, c = (gw(http) for http in cluster.http[1:])
    sessions = cluster.control.sessions
    subject = secrets.token_hex(32)  # a pseudonym no resident has
    for worker in (b, c):  # each reads and keeps its snapshot
        assert not worker.rights.has_statements(worker.control.sessions, subject)
        assert not worker.rights.under_review(worker.control.sessions, subject)
    now = dt.datetime.now(dt.UTC)
    with sessions.begin() as s:  # written by another process, as the vault owner would
        s.add(RecordStatement(id=new_id("st"), subject=subject, table_name="residents",
                              contribution_id="c", row_no=0, row_digest="0" * 64, text="-",
                              short="-", created_at=now))  # fmt: skip
    for worker in (b, c):
        assert worker.rights.has_statements(worker.control.sessions, subject)
    with sessions.begin() as s:
        s.add(ScoreReview(id=new_id("rv"), subject=subject, ask="-", score={},
                          requested_at=now, due_at=now, status="open"))  # fmt: skip
    for worker in (b, c):
        assert worker.rights.under_review(worker.control.sessions, subject)


def test_console_sign_in_failures_are_counted_across_workers(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The console's backoff per client address and lockout of names with no account hold
    across processes (`login_failures`): two workers' guards and account stores on one
    control plane count one attempt sequence, not one each."""
    sessions = cluster.control.sessions
    policy = LoginPolicy(lockout=3, backoff=60.0, backoff_max=900.0)
    a, b = (Failures(policy, locks=False, sessions=sessions) for _ in range(2))
    address = f"198.51.100.{secrets.randbelow(250)}-{secrets.token_hex(4)}"
    assert a.admit(address, a.clock()) == 1
    with pytest.raises(LoginThrottled):  # the address's wait after its failure, at another worker
        b.admit(address, b.clock())
    b.clear(address)  # a success at b: a may check the address again
    assert a.admit(address, a.clock()) == 1
    key = secrets.token_bytes(32)
    quick = LoginPolicy(lockout=3, backoff=0.0, backoff_max=900.0)
    stores = [ConsoleAccounts(tmp_path / "accounts.json", key, quick, sessions) for _ in range(2)]
    name = f"nobody-{secrets.token_hex(4)}"
    for i in range(3):  # 3 failures, alternating workers: the name locks as an account would
        with pytest.raises(LoginFailed) as failed:
            stores[i % 2].attempt(name, "guess", "000000")
        assert not isinstance(failed.value, AccountLocked)
    with pytest.raises(AccountLocked):
        stores[1].attempt(name, "guess", "000000")


def test_an_answer_reads_the_control_versions_once(cluster: Cluster) -> None:
    """The answer path checks approvals, consents, statements and disputes against their
    versions (`versions_read_once`): one query for all of them per answer, not one each."""
    bank, rid = bank_of(cluster, "workers-versions")
    id_number = cluster.world.ids[PEOPLE[0]]
    consent = cluster.actors.consent(cluster.actors.subject(id_number), bank.client_id)
    http = cluster.http[1]
    assert score(http, bank, id_number, rid, consent).status_code == 200  # snapshots loaded
    seen: list[str] = []
    bind = gw(http).control.sessions.kw["bind"]

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "control_versions" in statement:
            seen.append(statement)

    event.listen(bind, "before_cursor_execute", count)
    try:
        assert score(http, bank, id_number, rid, consent).status_code == 200
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert len(seen) == 1, seen


def test_the_statements_that_skip_the_flush_wait_really_turn_it_off(cluster: Cluster) -> None:
    """The quota's unit beside a log on the same server and the rate token set
    ``synchronous_commit`` off inside the statement, for their own transaction's commit: run
    here in an explicit transaction, the setting they leave is read back before it ends (and
    the plain spend leaves it on)."""
    from governance.control import _SPEND, _SPEND_NO_WAIT

    _, rid = bank_of(cluster, "flush-wait-bank", quota=5)
    engine = cluster.control.sessions.kw["bind"]
    limiter = gw(cluster.http[0]).rate_limiter

    def setting_after(run: Callable[[Any], Any]) -> str:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
            run(conn)
            value = str(conn.execute(text("SHOW synchronous_commit")).scalar())
            conn.rollback()  # nothing spent, nothing taken
        return value

    assert setting_after(lambda c: c.execute(_SPEND_NO_WAIT, {"request_id": rid}).rowcount) == "off"
    assert setting_after(lambda c: c.execute(_SPEND, {"request_id": rid})) == "on"
    take = lambda c: c.execute(limiter.take_statement(c, "f" * 64, time.time())).first()  # noqa: E731
    assert setting_after(take) == "off"
