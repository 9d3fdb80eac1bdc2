"""Issue 13, finding 3: guessing at the console's sign-in, performed through the HTTP API.

Each test runs a gateway of its own (its own sign-in guard and audit log, the session's
vault, ledger and accounts file) with the login settings the attack needs, and signs in the
way a browser does: the form with its CSRF token, from a client address of its choosing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from gateway_support import Actors, TestClient, World, admin_cli, auth
from query_gateway.app import create_app

from audit import AuditEntry
from audit.entry import decode_entry
from audit.log import AuditLog
from audit.note import NoteSigner
from governance.accounts import ConsoleAccounts
from governance.audit_trail import AuditTrail
from governance.credentials import Role

HTML = {"accept": "text/html"}
PASSWORD = "correct horse battery"
WRONG = "not the password at all"


class Console:
    """A gateway of the test's own, its audit trail, and browsers from chosen addresses."""

    def __init__(self, http: TestClient, trail: AuditTrail, actors: Actors) -> None:
        self.http = http
        self.trail = trail
        self.actors = actors

    def browser(self, address: str = "198.51.100.7") -> TestClient:
        return TestClient(self.http.app, raise_server_exceptions=False, client=(address, 50000))

    def officer(self, name: str) -> tuple[str, str]:
        """(client id, TOTP secret) of a new officer account ``name``."""
        made = self.http.app.state.gateway.control.create_client(Role.OFFICER, name)  # type: ignore[attr-defined]
        accounts = ConsoleAccounts(self.actors.world.settings.console_accounts, token_key(self))
        return made.client_id, accounts.create(name, Role.OFFICER, made.client_id, PASSWORD)

    def entries(self) -> list[AuditEntry]:
        return [decode_entry(raw)[1] for raw in self.trail.entries()]


def token_key(console: Console) -> bytes:
    return bytes(console.http.app.state.gateway.keys.token_key)  # type: ignore[attr-defined]


@pytest.fixture
def console_with(world: World, actors: Actors, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``console_with(**gateway_changes)``: a running gateway with those settings."""
    opened: list[Any] = []

    def open_console(**changes: Any) -> Console:
        trail = AuditTrail(AuditLog.open(tmp_path / f"audit{len(opened)}",
                                         NoteSigner.generate("test.local/log")))  # fmt: skip
        app = create_app(world.with_gateway(**changes), world.components(audit=trail))
        manager = TestClient(app, raise_server_exceptions=False)
        http = manager.__enter__()
        opened.append(manager)
        return Console(http, trail, actors)

    yield open_console
    for manager in opened:
        manager.__exit__(None, None, None)


def sign_in(browser: TestClient, name: str, password: str, code: str) -> Any:
    page = browser.get("/console/login", headers=HTML)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    form = {"username": name, "password": password, "code": code, "csrf": found.group(1)}
    return browser.post("/console/login", data=form, headers=HTML, follow_redirects=False)


def test_repeated_wrong_passwords_lock_the_account_until_an_audited_unlock(
    console_with: Callable[..., Console],
) -> None:
    console = console_with(login_lockout=3, login_backoff=0.05, login_backoff_max=0.1)
    officer_id, secret = console.officer("guessed-officer")
    browser = console.browser()
    for _ in range(3):
        assert sign_in(browser, "guessed-officer", WRONG, "000000").status_code == 401
        time.sleep(0.15)  # past the backoff: only the lockout is left to stop the guesser
    # today's code lets the right password in after any number of wrong ones
    r = sign_in(browser, "guessed-officer", PASSWORD, pyotp.TOTP(secret).now())
    assert r.status_code == 401 and "已被锁定" in r.text
    locked = [e for e in console.entries() if e.action == "console_account_locked"]
    assert [(e.actor, e.role, e.decision, e.reason) for e in locked] == [
        (officer_id, "officer", "deny", "too_many_failures")
    ]
    refused = [e.reason for e in console.entries() if e.action == "POST /console/login"]
    assert refused == ["login_failed"] * 3 + ["account_locked"]

    done = admin_cli(console.actors, "unlock-officer", "guessed-officer")
    assert done.returncode == 0, done.stderr
    assert admin_cli(console.actors, "unlock-officer", "nobody-here").returncode == 2
    r = sign_in(browser, "guessed-officer", PASSWORD, pyotp.TOTP(secret).now())
    assert r.status_code == 303 and r.headers["location"] == "/console/officer"
    actions = [(e.action, e.actor) for e in console.entries()][-2:]
    assert actions == [
        ("console_account_unlocked", officer_id),
        ("POST /console/login", officer_id),
    ]


def test_one_address_guessing_many_names_backs_off(
    console_with: Callable[..., Console],
) -> None:
    console = console_with(login_backoff=5.0, login_backoff_max=10.0)
    browser = console.browser("198.51.100.20")
    assert sign_in(browser, "spray-a", WRONG, "000000").status_code == 401
    r = sign_in(browser, "spray-b", WRONG, "000000")  # another name, the same address
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "秒后重试" in r.text
    assert console.entries()[-1].reason == "login_throttled"
    elsewhere = console.browser("198.51.100.21")  # the throttle is per address, not global
    assert sign_in(elsewhere, "spray-c", WRONG, "000000").status_code == 401


def test_parallel_guesses_from_many_addresses_get_one_check(
    console_with: Callable[..., Console],
) -> None:
    console = console_with(login_backoff=5.0, login_backoff_max=10.0, login_queue=16)
    console.officer("parallel-officer")
    browsers = [console.browser(f"203.0.113.{i}") for i in range(8)]
    statuses = run_together([lambda b=b: sign_in(b, "parallel-officer", WRONG, "000000")
                             for b in browsers])  # fmt: skip
    assert sorted(r.status_code for r in statuses) == [401] + [429] * 7


def test_a_flood_of_sign_ins_is_refused_rather_than_queued(
    console_with: Callable[..., Console],
) -> None:
    console = console_with(login_backoff=0.0, login_hashers=1, login_queue=1)
    browsers = [console.browser(f"192.0.2.{i}") for i in range(24)]
    statuses = run_together([lambda i=i, b=b: sign_in(b, f"flood-{i}", WRONG, "000000")
                             for i, b in enumerate(browsers)])  # fmt: skip
    busy = [r for r in statuses if r.status_code == 503]
    assert busy and all(r.status_code in (401, 503) for r in statuses)
    assert all(int(r.headers["retry-after"]) >= 1 for r in busy)
    assert "login_busy" in {e.reason for e in console.entries()}


def test_a_code_is_accepted_once_across_gateway_processes(
    console_with: Callable[..., Console], actors: Actors
) -> None:
    first = console_with()
    _, secret = first.officer("replayed-officer")
    code = pyotp.TOTP(secret).now()
    assert sign_in(first.browser(), "replayed-officer", PASSWORD, code).status_code == 303
    # another gateway process on the same data directory (or this one after a restart)
    other = TestClient(actors.http.app, raise_server_exceptions=False)
    assert sign_in(other, "replayed-officer", PASSWORD, code).status_code == 401


def test_cookie_sessions_and_anonymous_console_requests_are_rate_limited(
    console_with: Callable[..., Console],
) -> None:
    console = console_with(rate_limit=1.0, rate_burst=4)
    _, secret = console.officer("hasty-officer")
    browser = console.browser("198.51.100.40")
    r = sign_in(browser, "hasty-officer", PASSWORD, pyotp.TOTP(secret).now())
    assert r.status_code == 303
    codes = [browser.get("/console/officer", headers=HTML).status_code for _ in range(8)]
    assert codes[0] == 200 and codes[-1] == 429  # today: 200 for ever
    anonymous = console.browser("198.51.100.41")
    codes = [anonymous.get("/console/officer").status_code for _ in range(8)]
    assert codes[0] == 401 and codes[-1] == 429
    forged = console.browser("198.51.100.42")
    forged.cookies.set("dexin_session", "dx1.forged", path="/console")
    codes = [forged.get("/console/officer").status_code for _ in range(8)]
    assert codes[0] == 401 and codes[-1] == 429
    _, bank = console.actors.token(Role.BANK, "wrong-role-bank")
    codes = [console.http.get("/console/officer", headers=auth(bank)).status_code
             for _ in range(8)]  # fmt: skip
    assert codes[0] == 403 and codes[-1] == 429


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on threads released at the same moment; their results in order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results
