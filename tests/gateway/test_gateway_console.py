"""The console over the real gateway: policies and sessions, officer TOTP sign-in and votes,
a resident's score, accesses and consents, the auditor's verdict, the dashboards."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from gateway_support import Actors, auth
from query_gateway.console.state import console_state

from dexin.officer_key import SoftwareKey, enrol, unb64url
from governance.accounts import ConsoleAccounts, LoginFailed
from governance.credentials import Role
from governance.passkeys import create_invite

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`", UserWarning)
    from starlette.testclient import TestClient

HTML = {"accept": "text/html"}
PASSWORD = "correct horse battery"


@pytest.fixture
def browser(actors: Actors) -> Iterator[TestClient]:
    """A separate cookie jar on the same running app (no second lifespan)."""
    client = TestClient(actors.http.app, raise_server_exceptions=False)
    yield client
    client.close()


def accounts(actors: Actors) -> ConsoleAccounts:
    app = actors.http.app
    return ConsoleAccounts(  # type: ignore[attr-defined]
        app.state.console_settings.home / "console" / "accounts.json",  # type: ignore[attr-defined]
        app.state.gateway.keys.token_key,  # type: ignore[attr-defined]
    )


def csrf(client: TestClient, path: str = "/console/login") -> str:
    page = client.get(path, headers=HTML)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def sign_in_officer(actors: Actors, client: TestClient, name: str) -> str:
    officer_id, _ = actors.token(Role.OFFICER, name)
    secret = accounts(actors).create(name, Role.OFFICER, officer_id, PASSWORD)
    form = {"username": name, "password": PASSWORD, "code": pyotp.TOTP(secret).now(),
            "csrf": csrf(client)}  # fmt: skip
    r = client.post("/console/login", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/officer", r.text
    return officer_id


def test_anonymous_browsers_get_the_sign_in_form_and_apis_a_problem(browser: TestClient) -> None:
    page = browser.get("/console/officer", headers=HTML)
    assert page.status_code == 401 and 'id="officer-login"' in page.text
    assert "审批官员登录" in page.text  # zh-CN first
    assert "Officer and auditor sign-in" in browser.get("/console/login?lang=en").text
    r = browser.get("/console/officer")
    assert r.status_code == 401 and r.json()["type"] == "urn:dexin:problem:unauthenticated"


def test_assets_are_served_locally(browser: TestClient) -> None:
    r = browser.get("/console/static/htmx.min.js")
    assert r.status_code == 200 and b"htmx" in r.content[:2000]
    assert browser.get("/console/static/console.css").status_code == 200


def test_a_form_without_the_csrf_token_is_refused(browser: TestClient) -> None:
    browser.get("/console/login", headers=HTML)
    form = {"username": "x", "password": "y", "code": "123456"}
    r = browser.post("/console/login", data=form)
    assert r.status_code == 422 and r.json()["reason"] == "csrf_token_invalid"


def test_a_wrong_password_or_code_is_refused_and_a_code_is_used_once(actors: Actors) -> None:
    store = accounts(actors)
    officer_id, _ = actors.token(Role.OFFICER, "o-replay")
    secret = store.create("o-replay", Role.OFFICER, officer_id, PASSWORD)
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    with pytest.raises(LoginFailed):
        store.check("o-replay", "wrong password!", code, now)
    with pytest.raises(LoginFailed):
        store.check("o-replay", PASSWORD, "000000" if code != "000000" else "111111", now)
    assert store.check("o-replay", PASSWORD, code, now).client_id == officer_id
    with pytest.raises(LoginFailed):
        store.check("o-replay", PASSWORD, code, now)  # replay
    raw = store.path.read_text()
    assert secret not in raw and PASSWORD not in raw
    assert store.path.stat().st_mode & 0o777 == 0o600


def _console_decide(client: TestClient, key: SoftwareKey, rid: str, decision: str) -> Any:
    """What the officer page's script does: ask for the challenge, sign it with the passkey
    (here an officer-held software key), post the assertion with the CSRF header."""
    headers = {"x-csrf-token": csrf(client, "/console/officer")}
    base = f"/console/officer/requests/{rid}"
    found = client.post(f"{base}/decision-options", json={"decision": decision}, headers=headers)
    assert found.status_code == 200, found.text
    key, assertion = key.assertion(unb64url(found.json()["options"]["challenge"]))
    body: dict[str, Any] = {"assertion": assertion}
    if decision != "revoke":
        body["decision"] = decision
    path = f"{base}/revoke" if decision == "revoke" else f"{base}/vote"
    return key, client.post(path, json=body, headers=headers)


def _with_key(actors: Actors, officer_id: str) -> SoftwareKey:
    return enrol(actors.http, create_invite(actors.control.sessions, officer_id, "admin-test"))


def test_officers_vote_in_the_console_and_the_votes_reach_the_ledger(
    actors: Actors, browser: TestClient
) -> None:
    bank_id, bank = actors.token(Role.BANK, "console-bank")
    rid = actors.file(bank)
    first = sign_in_officer(actors, browser, "officer-console-a")
    inbox = browser.get("/console/officer", headers=HTML)
    assert inbox.status_code == 200 and rid in inbox.text and "console-bank" in inbox.text
    # a TOTP session alone decides nothing: without the officer's passkey there is no vote
    token = csrf(browser, "/console/officer")
    r = browser.post(f"/console/officer/requests/{rid}/vote",
                     json={"decision": "approve"}, headers={"x-csrf-token": token})  # fmt: skip
    assert r.status_code == 422
    _, r = _console_decide(browser, _with_key(actors, first), rid, "approve")
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    second = TestClient(actors.http.app, raise_server_exceptions=False)
    other = sign_in_officer(actors, second, "officer-console-b")
    other_key, r = _console_decide(second, _with_key(actors, other), rid, "approve")
    status = actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()
    assert status["status"] == "approved" and status["approvals"] == 2
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    ledger_id = bytes.fromhex(gw.control.request(rid).ledger_id)
    assert gw.ledger.get_approval(ledger_id).votes == 2
    _, r = _console_decide(second, other_key, rid, "revoke")
    assert r.status_code == 200, r.text
    assert (
        actors.http.get(f"/v1/access-requests/{rid}", headers=auth(bank)).json()["status"]
        == "revoked"
    )
    second.close()
    assert bank_id


def test_a_resident_sees_score_radar_accesses_and_withdraws(
    actors: Actors, browser: TestClient
) -> None:
    bank_id, bank = actors.token(Role.BANK, "console-bank-2")
    rid = actors.approved(bank)
    id_number = actors.world.ids[3]
    consent = actors.consent(actors.subject(id_number), bank_id)
    body = {"id_number": id_number, "purpose": "credit_assessment",
            "access_request_id": rid, "consent_id": consent}  # fmt: skip
    assert actors.http.post("/v1/scores", json=body, headers=auth(bank)).status_code == 200
    r = browser.post("/console/login/subject",
                     data={"id_number": id_number, "csrf": csrf(browser)}, headers=HTML)  # fmt: skip
    assert r.status_code == 200 and 'id="accesses"' in r.text
    assert id_number not in r.text
    assert "console-bank-2" in r.text and "个人道德信用评分" in r.text  # the computation, in words
    assert 'class="radar"' in r.text or "暂无评分" in r.text
    r = browser.post(f"/console/me/consents/{consent}/withdraw",
                     data={"csrf": csrf(browser, "/console/me")}, headers=HTML)  # fmt: skip
    assert "withdrawn" in r.text
    refused = actors.http.post("/v1/scores", json=body, headers=auth(bank))
    assert refused.json()["reason"] == "consent_withdrawn"
    # a resident may not open an officer's page
    assert browser.get("/console/officer", headers=HTML).status_code == 403


def test_the_auditor_runs_the_verifier_and_dashboards_render(
    actors: Actors, browser: TestClient
) -> None:
    _, auditor = actors.token(Role.AUDITOR, "console-auditor")
    page = browser.get("/console/auditor", headers=auth(auditor) | HTML)
    assert page.status_code == 200 and 'id="checkpoints"' in page.text
    r = browser.post(
        "/console/auditor/verify", headers=auth(auditor) | HTML | {"hx-request": "true"}
    )
    assert r.status_code == 200 and 'id="verdict"' in r.text
    dash = browser.get("/console/dashboards", headers=auth(auditor) | HTML)
    assert dash.status_code == 200 and 'id="dash-grades"' in dash.text
    gw, state = console_state_of(actors)
    assert "grades" in state.published  # released once, then reused
    assert gw is not None


def console_state_of(actors: Actors):  # type: ignore[no-untyped-def]
    class _Req:
        app = actors.http.app

    return console_state(_Req())  # type: ignore[arg-type]
