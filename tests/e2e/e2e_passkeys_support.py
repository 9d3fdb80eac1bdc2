"""Passkeys in the browser tests: Chromium's virtual authenticator (the DevTools protocol's
WebAuthn domain, through Playwright's CDP session) and invites from `dexin admin`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from e2e_support import Served

AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                 "hasUserVerification": True, "isUserVerified": True,
                 "automaticPresenceSimulation": True}  # fmt: skip


def local(served: Served) -> str:
    """The served gateway as ``localhost``: a WebAuthn relying party is a domain, never an IP
    address, and Chromium treats http://localhost as a secure context."""
    return served.url.replace("127.0.0.1", "localhost")


def with_authenticator(page: Any) -> tuple[Any, str]:
    """Attach a virtual platform authenticator (user verification on) to ``page``'s browser;
    (the CDP session, the authenticator's id)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    made = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, str(made["authenticatorId"])


def invite(served: Served, officer: str) -> str:
    """A one-time enrolment link for ``officer`` (a client id), as an admin makes it."""
    exe = Path(sys.executable).parent / "dexin"
    r = subprocess.run([str(exe), "admin", "invite-officer", officer, "--gateway", local(served),
                        "--json"], env=os.environ | served.env, capture_output=True, text=True,
                       timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return str(json.loads(r.stdout)["enrol_url"])


def enrol(page: Any, link: str) -> None:
    """Open the invite and register a passkey on the page's authenticator."""
    page.goto(link)
    page.click("#enrol-passkey")
    page.wait_for_function("document.getElementById('enrolled').textContent.length > 0")


def passkey_sign_in(page: Any, served: Served) -> None:
    page.goto(f"{local(served)}/console/login")
    page.click("#passkey-sign-in")
    page.wait_for_url("**/console/officer")
