"""The demo's identity provider: the local `oidc-provider` with the demo's residents, and a
resident's browser that signs in there (for ``dexin demo --script``).

`running_idp` starts the IdP for a gateway that will serve on ``gateway_url`` (its callback is
registered as the client's redirect URI) and writes ``$DEXIN_HOME/idp/running.json`` (issuer,
client id) so a script against an already running demo finds it; `oidc_settings` /
`oidc_env` configure the gateway as its relying party. `ResidentBrowser` walks the console's
flows as a resident's browser would: sign in, consent, withdraw, each a fresh sign-in at the
IdP, entering the password there.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from dexin.identity_provider import (
    IdentityProviderConfig,
    IdpClient,
    IdpResident,
    RunningIdentityProvider,
    run_identity_provider,
)
from dexin.settings import Settings
from governance import OidcSettings

__all__ = ["ResidentBrowser", "ensure_residents", "oidc_env", "oidc_settings", "running_idp",
           "sign_in_at_idp"]  # fmt: skip

CLIENT_ID = "dexin-gateway"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_LOGIN_ACTION = re.compile(r'action="([^"]+/login)"')


def ensure_residents(people: dict[str, Any]) -> bool:
    """Give the demo's residents an IdP login and password, and the gateway its client secret
    at the IdP, where an older identities file has none; returns whether anything changed."""
    changed = False
    for i, s in enumerate(people["subjects"]):
        if "login" not in s:
            s["login"], s["password"] = f"resident{i + 1}", secrets.token_urlsafe(12)
            changed = True
    if "idp_client_secret" not in people:
        people["idp_client_secret"] = secrets.token_urlsafe(32)
        changed = True
    return changed


def callback(gateway_url: str) -> str:
    return f"{gateway_url.rstrip('/')}/console/oidc/callback"


@contextmanager
def running_idp(
    settings: Settings, people: dict[str, Any], gateway_url: str
) -> Iterator[RunningIdentityProvider]:
    residents = tuple(
        IdpResident(f"demo-{i}", s["login"], s["password"], s["id_number"])
        for i, s in enumerate(people["subjects"])
    )
    client = IdpClient(CLIENT_ID, people["idp_client_secret"], (callback(gateway_url),),
                       client_name="德信 Dexin")  # fmt: skip
    config = IdentityProviderConfig(clients=(client,), residents=residents)
    workdir = settings.home / "idp"
    with run_identity_provider(config, workdir) as idp:
        note = workdir / "running.json"
        note.write_text(json.dumps({"issuer": idp.issuer, "client_id": CLIENT_ID}) + "\n")
        try:
            yield idp
        finally:
            note.unlink(missing_ok=True)


def oidc_settings(
    idp: RunningIdentityProvider, people: dict[str, Any], gateway_url: str
) -> OidcSettings:
    return OidcSettings(idp.issuer, CLIENT_ID, people["idp_client_secret"], callback(gateway_url))


def oidc_env(
    idp: RunningIdentityProvider, people: dict[str, Any], gateway_url: str
) -> dict[str, str]:
    """The gateway's environment for this IdP (for a `dexin serve` subprocess)."""
    return {"DEXIN_OIDC_ISSUER": idp.issuer, "DEXIN_OIDC_CLIENT_ID": CLIENT_ID,
            "DEXIN_OIDC_CLIENT_SECRET": people["idp_client_secret"],
            "DEXIN_OIDC_REDIRECT_URI": callback(gateway_url)}  # fmt: skip


class ResidentBrowser:
    """A resident's browser: the console's pages on ``gateway`` and the IdP's login page."""

    def __init__(self, gateway: str, login: str, password: str) -> None:
        self.console = httpx.Client(base_url=gateway, timeout=60, follow_redirects=False,
                                    trust_env=False, headers={"accept": "text/html"})  # fmt: skip
        self._idp = httpx.Client(timeout=30, follow_redirects=False, trust_env=False)
        self._login, self._password = login, password

    def close(self) -> None:
        self.console.close()
        self._idp.close()

    def sign_in(self) -> None:
        self._through_idp(self.console.get("/console/login/resident"))

    def grant(self, bank: str, purpose: str, days: int = 30) -> None:
        form = {"bank": bank, "purpose": purpose, "days": str(days), "csrf": self._csrf()}
        self._through_idp(self.console.post("/console/me/consents", data=form))

    def withdraw(self, consent_id: str) -> None:
        form = {"csrf": self._csrf()}
        self._through_idp(
            self.console.post(f"/console/me/consents/{consent_id}/withdraw", data=form)
        )

    @property
    def session(self) -> str:
        """The console session's sealed token (also a bearer token for the resident's API)."""
        token = self.console.cookies.get("dexin_session")
        if not token:
            raise RuntimeError("not signed in")
        return token

    def _csrf(self) -> str:
        found = _CSRF.search(self.console.get("/console/me").text)
        if not found:
            raise RuntimeError("no console form: not signed in")
        return found.group(1)

    def _through_idp(self, start: httpx.Response) -> None:
        """Follow the console's redirect to the IdP, sign in there, come back."""
        if start.status_code != 303:
            raise RuntimeError(
                f"the console did not send the browser to the IdP: {start.status_code}"
            )
        back = self._at_idp(start.headers["location"])
        done = self.console.get(back.removeprefix(str(self.console.base_url).rstrip("/")))
        if done.status_code != 200 or 'id="continue"' not in done.text:
            raise RuntimeError(f"the IdP's callback was refused: {done.status_code}")

    def _at_idp(self, url: str) -> str:
        return sign_in_at_idp(self._idp, url, self._login, self._password)


def sign_in_at_idp(agent: httpx.Client, url: str, login: str, password: str) -> str:
    """Follow an authorization request at the IdP as the resident's browser does, entering
    the password on its login page; returns the console callback URL it sends back to."""
    response, signed = agent.get(url), False
    for _ in range(12):
        if response.is_redirect:
            location = str(response.url.join(response.headers["location"]))
            if "/console/oidc/callback" in location:
                return location
            response = agent.get(location)
        elif response.status_code == 200 and not signed:
            response, signed = _submit_login(agent, response, login, password), True
        else:
            break
    raise RuntimeError(f"the IdP did not come back: {response.status_code}")


def _submit_login(
    agent: httpx.Client, page: httpx.Response, login: str, password: str
) -> httpx.Response:
    action, token = _LOGIN_ACTION.search(page.text), _CSRF.search(page.text)
    if not action or not token:
        raise RuntimeError("no login form at the IdP")
    form = {"csrf": token.group(1), "login": login, "password": password}
    return agent.post(str(page.url.join(action.group(1))), data=form)


def running_note(settings: Settings) -> dict[str, Any] | None:
    """What `running_idp` wrote for a running demo, if it is running."""
    path: Path = settings.home / "idp" / "running.json"
    return json.loads(path.read_text()) if path.exists() else None
