"""Residents through the real identity provider (issue 14): sign-in, a consent proved by a
fresh sign-in for exactly its terms, a bank's score under it; and the attacks: the ID-number
sign-in gone, a consent without evidence, evidence for other terms, another resident's."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from gateway_support import Actors, TestClient, World, auth, score_body
from query_gateway.app import create_app
from sqlalchemy import select

from audit.log import AuditLog
from audit.note import NoteSigner
from dexin.demo_idp import sign_in_at_idp
from dexin.identity_provider import (
    IdentityProviderConfig,
    IdpClient,
    IdpResident,
    run_identity_provider,
)
from governance import OidcSettings, Role, check_consent_evidence, grant_terms
from governance.audit_trail import AuditTrail
from governance.control import ControlPlane
from governance.models import ConsentEvent, ResidentLink

CALLBACK = "http://testserver/console/oidc/callback"
HTML = {"accept": "text/html"}
FORM_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Residents:
    http: TestClient
    actors: Actors
    config: IdentityProviderConfig

    def password(self, index: int) -> tuple[str, str]:
        r = self.config.residents[index]
        return r.login, r.password

    def at_idp(self, url: str, index: int) -> str:
        """Run the IdP's side as the resident's browser would; the callback URL it returns."""
        with httpx.Client(trust_env=False, follow_redirects=False, timeout=10.0) as agent:
            return sign_in_at_idp(agent, url, *self.password(index))

    def sign_in(self, browser: TestClient, index: int) -> None:
        start = browser.get("/console/login/resident", follow_redirects=False)
        assert start.status_code == 303, start.text
        back = self.at_idp(start.headers["location"], index)
        done = browser.get(back.removeprefix("http://testserver"), headers=HTML)
        assert done.status_code == 200 and 'id="continue"' in done.text, done.text

    def grant(self, browser: TestClient, index: int, bank: str) -> httpx.Response:
        form = {"bank": bank, "purpose": "credit_assessment", "days": "30", "csrf": _csrf(browser)}
        start = browser.post("/console/me/consents", data=form, headers=HTML,
                             follow_redirects=False)  # fmt: skip
        assert start.status_code == 303, start.text
        back = self.at_idp(start.headers["location"], index)
        return browser.get(back.removeprefix("http://testserver"), headers=HTML)


def _csrf(browser: TestClient) -> str:
    page = browser.get("/console/me", headers=HTML)
    found = FORM_CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


@pytest.fixture(scope="module")
def residents(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Residents]:
    client = IdpClient("dexin-gateway", secrets.token_urlsafe(32), (CALLBACK,))
    people = tuple(
        IdpResident(f"acct-{i}", f"resident{i}", secrets.token_urlsafe(12), world.ids[140 + i])
        for i in range(2)
    )
    config = IdentityProviderConfig(clients=(client,), residents=people)
    tmp = tmp_path_factory.mktemp("residents")
    with run_identity_provider(config, tmp / "idp") as idp:
        oidc = OidcSettings(idp.issuer, client.client_id, client.client_secret, CALLBACK)
        settings = world.with_gateway(oidc=oidc, unsafe_dev_identity=False)
        trail = AuditTrail(AuditLog.open(tmp / "audit", NoteSigner.generate("test.local/idp")))
        app = create_app(settings, world.components(audit=trail))
        with TestClient(app, raise_server_exceptions=False) as http:
            control = ControlPlane(app.state.gateway.control.sessions)
            yield Residents(http, Actors(http, control, world), config)


def _browser(residents: Residents) -> TestClient:
    return TestClient(residents.http.app, raise_server_exceptions=False)


def test_the_id_number_alone_no_longer_signs_anyone_in(residents: Residents, world: World) -> None:
    browser = _browser(residents)
    page = browser.get("/console/login", headers=HTML)
    assert 'id="resident-idp"' in page.text and 'id="subject-login"' not in page.text
    form = {"id_number": world.ids[140], "csrf": FORM_CSRF.search(page.text).group(1)}  # type: ignore[union-attr]
    r = browser.post("/console/login/subject", data=form, headers=HTML, follow_redirects=False)
    assert r.status_code == 404 and "dexin_session" not in r.cookies


def test_a_resident_signs_in_consents_at_the_idp_and_a_bank_scores(
    residents: Residents, world: World
) -> None:
    actors = residents.actors
    bank_id, bank = actors.token(Role.BANK, "idp-bank")
    rid = actors.approved(bank)
    browser = _browser(residents)
    residents.sign_in(browser, 0)
    me = browser.get("/console/me", headers=HTML)
    assert me.status_code == 200 and 'id="accesses"' in me.text
    assert residents.grant(browser, 0, bank_id).status_code == 200
    subject = world.vault.subject_pseudonym(world.ids[140])
    (consent,) = [c for c in actors.control.consents_of(subject) if c.bank_id == bank_id]
    with actors.control.sessions() as s:
        event = s.scalars(select(ConsentEvent).where(ConsentEvent.consent_id == consent.id)).one()
    assert event.evidence and '"evidence":"' in event.entry  # the log binds the token's digest
    assert world.ids[140] not in event.evidence and world.ids[140] not in event.entry
    r = actors.http.post("/v1/scores", headers=auth(bank),
                         json=score_body(world.ids[140], rid, consent.id))  # fmt: skip
    assert r.status_code == 200, r.text


def test_a_consent_without_fresh_evidence_is_refused(residents: Residents) -> None:
    actors = residents.actors
    bank_id, _ = actors.token(Role.BANK, "idp-bank-2")
    browser = _browser(residents)
    residents.sign_in(browser, 1)
    session = browser.cookies.get("dexin_session")
    assert session
    body = {"bank": bank_id, "purpose": "credit_assessment",
            "expires_at": "2030-01-01T00:00:00Z"}  # fmt: skip
    r = actors.http.post("/v1/consents", json=body, headers=auth(session))
    assert (r.status_code, r.json()["reason"]) == (403, "consent_evidence_missing")
    forged = {**body, "evidence": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}
    r = actors.http.post("/v1/consents", json=forged, headers=auth(session))
    assert (r.status_code, r.json()["reason"]) == (403, "evidence_signature_invalid")


def test_evidence_proves_only_its_own_terms_and_its_own_resident(
    residents: Residents, world: World
) -> None:
    """A genuine ID token of resident 0's fresh sign-in for one bank neither grants another
    bank nor anything to resident 1."""
    actors = residents.actors
    bank_a, _ = actors.token(Role.BANK, "idp-bank-a")
    bank_b, _ = actors.token(Role.BANK, "idp-bank-b")
    gw = residents.http.app.state.gateway  # type: ignore[attr-defined]
    terms = grant_terms(bank_a, "credit_assessment", ["dimension_profile", "morality_credit_score"],
                        _in_days(30))  # fmt: skip
    url, pending = gw.relying_party.begin(terms, identify=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(residents.at_idp(url, 0)).query).items()}
    token = gw.relying_party.finish(pending, params).id_token
    for who, bank, reason in [
        (0, bank_b, "evidence_other_terms"),
        (1, bank_a, "evidence_other_resident"),
    ]:
        browser = _browser(residents)
        residents.sign_in(browser, who)
        body = {"bank": bank, "purpose": "credit_assessment", "evidence": token,
                "expires_at": terms["expires_at"]}  # fmt: skip
        r = actors.http.post(
            "/v1/consents", json=body, headers=auth(browser.cookies["dexin_session"])
        )
        assert (r.status_code, r.json()["reason"]) == (403, reason), r.text
    browser = _browser(residents)
    residents.sign_in(browser, 0)
    body = {"bank": bank_a, "purpose": "credit_assessment", "evidence": token,
            "expires_at": terms["expires_at"]}  # fmt: skip
    r = actors.http.post("/v1/consents", json=body, headers=auth(browser.cookies["dexin_session"]))
    assert r.status_code == 201, r.text


def _in_days(days: int):  # type: ignore[no-untyped-def]
    import datetime as dt

    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).replace(microsecond=0)


def test_a_forged_or_stale_callback_signs_nobody_in(residents: Residents, tmp_path: Path) -> None:
    browser = _browser(residents)
    r = browser.get("/console/oidc/callback?code=x&state=y", headers=HTML)
    assert r.status_code == 400 and "dexin_session" not in r.cookies
    start = browser.get("/console/login/resident", follow_redirects=False)
    back = residents.at_idp(start.headers["location"], 0)
    tampered = back.replace("state=", "state=x")
    r = browser.get(tampered.removeprefix("http://testserver"), headers=HTML)
    assert r.status_code == 400 and "dexin_session" not in r.cookies


def test_the_auditor_checks_every_consent_against_the_pinned_jwks(
    residents: Residents, world: World, actors: Actors
) -> None:
    """With nothing but the IdP's JWKS: a proved consent passes; evidence swapped behind the
    gateway's back, or a link moved to another resident, is named; a consent recorded on the
    unsafe development path is named as recorded without a sign-in."""
    dev_actors, actors = actors, residents.actors  # the dev-path app shares the control plane
    bank_id, _ = actors.token(Role.BANK, "idp-bank-audit")
    browser = _browser(residents)
    residents.sign_in(browser, 1)
    assert residents.grant(browser, 1, bank_id).status_code == 200
    gw = residents.http.app.state.gateway  # type: ignore[attr-defined]
    oidc = gw.settings.oidc
    jwks = gw.relying_party.jwks()
    subject = world.vault.subject_pseudonym(world.ids[141])
    (mine,) = [c for c in actors.control.consents_of(subject) if c.bank_id == bank_id]

    def findings() -> dict[str, str]:
        _, found = check_consent_evidence(gw.engine, jwks, issuer=oidc.issuer,
                                          audience=oidc.client_id)  # fmt: skip
        return {f.consent_id: f.problem for f in found}

    assert mine.id not in findings()
    dev_bank, _ = dev_actors.token(Role.BANK, "idp-bank-dev")
    dev = dev_actors.consent(dev_actors.subject(world.ids[160]), dev_bank)  # unsafe dev path
    assert findings()[dev] == "recorded_without_sign_in"
    with actors.control.sessions.begin() as s:
        event = s.scalars(select(ConsentEvent).where(ConsentEvent.consent_id == mine.id)).one()
        kept, event.evidence = event.evidence, event.evidence[:-8] + "AAAAAAAA"
    assert findings()[mine.id] == "evidence_not_the_bound_one"
    with actors.control.sessions.begin() as s:
        s.scalars(
            select(ConsentEvent).where(ConsentEvent.consent_id == mine.id)
        ).one().evidence = kept
        link = s.scalars(select(ResidentLink).where(ResidentLink.subject == mine.subject)).one()
        link.subject = "ab" * 16
    assert findings()[mine.id] == "evidence_other_resident"
    with actors.control.sessions.begin() as s:
        s.scalars(
            select(ResidentLink).where(ResidentLink.subject == "ab" * 16)
        ).one().subject = mine.subject
    assert mine.id not in findings()
