"""What an operator watches (issue 16 §3): answers and denials by computation and reason,
the audit commit latency, quota spent, the log, checkpoint and anchoring gauges, the
control plane's snapshots and the ledger's health, read from the running gateway's own
registry (the bytes the operator port serves); never on the public app."""

from __future__ import annotations

import re

from gateway_support import Actors, auth, score_body

from governance import Metrics
from governance.credentials import Role

SCORE = 'computation="morality_credit_score"'


def scrape(actors: Actors) -> str:
    metrics: Metrics = actors.http.app.state.gateway.metrics  # type: ignore[attr-defined]
    return metrics.exposition().decode()


def value(text: str, name: str, *labels: str) -> float:
    """The sample ``name`` whose labels include every one of ``labels`` (0 if absent)."""
    for line in text.splitlines():
        named = line.startswith(name + "{") or line.startswith(name + " ")
        if named and all(label in line for label in labels):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_public_app_serves_no_metrics(actors: Actors) -> None:
    r = actors.http.get("/metrics")
    assert r.status_code == 404
    assert "dexin_" not in r.text


def test_answers_and_denials_are_counted_by_computation_and_reason(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK, "metrics-bank")
    rid = actors.approved(bank)
    id_number = actors.world.ids[7]
    consent = actors.consent(actors.subject(id_number), bank_id)
    before = scrape(actors)
    allowed = actors.http.post("/v1/scores", headers=auth(bank),
                               json=score_body(id_number, rid, consent))  # fmt: skip
    denied = actors.http.post("/v1/scores", headers=auth(bank),
                              json=score_body(actors.world.ids[8], rid, consent))  # fmt: skip
    assert allowed.status_code == 200 and denied.status_code == 403, denied.text
    after = scrape(actors)
    allow = ("dexin_answers_total", SCORE, 'decision="allow"', 'reason="none"')
    deny = ("dexin_answers_total", SCORE, 'decision="deny"', f'reason="{denied.json()["reason"]}"')
    assert value(after, *allow) == value(before, *allow) + 1
    assert value(after, *deny) == value(before, *deny) + 1
    spent = ("dexin_quota_spent_total", SCORE)
    assert value(after, *spent) == value(before, *spent) + 1
    commits = "dexin_audit_commit_seconds_count"
    assert value(after, commits) >= value(before, commits) + 2  # the answer's and the denial's
    assert id_number not in after and consent not in after and rid not in after


def test_the_log_anchoring_snapshots_and_ledger_are_read_at_each_scrape(actors: Actors) -> None:
    bank_id, bank = actors.token(Role.BANK, "metrics-bank-2")
    rid = actors.approved(bank)
    consent = actors.consent(actors.subject(actors.world.ids[9]), bank_id)
    r = actors.http.post("/v1/scores", headers=auth(bank),
                         json=score_body(actors.world.ids[9], rid, consent))  # fmt: skip
    assert r.status_code == 200, r.text
    text = scrape(actors)
    assert value(text, "dexin_audit_log_entries") > r.json()["audit"]["index"]
    assert value(text, "dexin_ledger_up") == 1
    assert value(text, "dexin_ledger_height") > 0
    assert value(text, "dexin_snapshots", 'kind="consent"') >= 1
    assert value(text, "dexin_snapshots", 'kind="approval"') >= 1
    assert value(text, "dexin_snapshot_oldest_age_seconds", 'kind="consent"') >= 0
    assert "dexin_anchoring_lag_entries" in text and "dexin_anchored_entries" in text
    for line in text.splitlines():  # no label carries an id of a client, request or consent
        assert not re.search(r'"(bk|ar|cs|req)_[0-9a-z]', line), line


def test_each_gateway_counts_on_a_registry_of_its_own() -> None:
    one, two = Metrics(), Metrics()
    one.answered({"computation": "morality_credit_score"}, True, 0.01)
    assert b"dexin_answers_total" in one.exposition()
    assert value(two.exposition().decode(), "dexin_answers_total", SCORE) == 0
