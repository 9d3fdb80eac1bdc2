"""The demo's provider staff: a console account bound to the court's client, whose TOTP code
`dexin demo --totp` gives and whose sign-in line the demo prints."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pyotp

from dexin import demo, demo_identities
from dexin.settings import Settings
from governance import ConsoleAccounts, Role

AUDITOR = {"username": "a", "password": "p", "totp_secret": "s"}
BANK = {"client_id": "bank_0a1b2c3d4e5f6071", "key_file": "k"}


def test_the_demo_makes_the_courts_staff_an_account_once(tmp_path: Path) -> None:
    settings = Settings.from_env({"DEXIN_HOME": str(tmp_path)})
    settings.home.mkdir(parents=True, exist_ok=True)
    people: dict[str, Any] = {
        "provider": {"name": "court", "client_id": "provider_0a1b2c3d4e5f6071", "key_file": "k"}
    }
    accounts = ConsoleAccounts(settings.console_accounts, secrets.token_bytes(32))
    assert demo_identities.ensure_provider_staff(settings, people, accounts)
    assert not demo_identities.ensure_provider_staff(settings, people, accounts)  # kept
    staff = people["provider_staff"]
    account = accounts.account(staff["username"])
    assert account is not None
    assert (account.role, account.client_id) == (Role.PROVIDER_STAFF, "provider_0a1b2c3d4e5f6071")
    demo_identities.write(settings, people)
    lines = demo_identities.how_to_log_in(people | {"officers": [], "subjects": [],
                                                    "auditor": AUDITOR, "bank": BANK,
                                                    "witness": {"name": "w", "state": "s"}},
                                          "http://127.0.0.1:8000")  # fmt: skip
    assert any(line.startswith(f"staff    {staff['username']}") for line in lines)
    assert demo.totp_code(settings, staff["username"]) == pyotp.TOTP(staff["totp_secret"]).now()
