"""The gateway's relying party (`governance.RelyingParty`) against the real local IdP: a
consent's terms bound as the nonce, the evidence kept and checked as an auditor would."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from identity_support import LocalIdp, authorize, browser

from governance import (
    EvidenceRejected,
    OidcSettings,
    RelyingParty,
    grant_terms,
    verify_evidence,
    withdrawal_terms,
)

TERMS = grant_terms("bank_0123456789abcdef", "credit_assessment", ["morality_credit_score"],
                    dt.datetime(2027, 6, 30, tzinfo=dt.UTC))  # fmt: skip


def _rp(local_idp: LocalIdp, client_id: str = "gateway") -> RelyingParty:
    client = local_idp.client(client_id)
    return RelyingParty(OidcSettings(local_idp.running.issuer, client.client_id,
                                     client.client_secret, client.redirect_uris[0]))  # fmt: skip


def _sign_in(local_idp: LocalIdp, rp: RelyingParty, terms: dict, identify: bool = False):  # type: ignore[no-untyped-def]
    url, pending = rp.begin(terms, identify=identify)
    with browser() as user_agent:
        done = authorize(user_agent, url, rp.settings.redirect_uri, local_idp.credentials())
    return pending, done


def test_a_fresh_sign_in_proves_exactly_the_terms(local_idp: LocalIdp) -> None:
    rp = _rp(local_idp)
    pending, done = _sign_in(local_idp, rp, TERMS)
    assert done.login_shown  # prompt=login: a fresh sign-in, even with a live IdP session
    signed = rp.finish(pending, done.callback)
    assert signed.evidence.issuer == local_idp.running.issuer and signed.evidence.sub
    assert "dexin_id_number" not in signed.evidence.claims  # consent sign-ins name no ID number
    # an auditor, with nothing but the pinned JWKS, checks the kept token against the terms
    kept = verify_evidence(signed.id_token, local_idp.running.jwks(), issuer=rp.settings.issuer,
                           audience=rp.settings.client_id, terms=TERMS,
                           recorded_at=signed.evidence.auth_time)  # fmt: skip
    assert kept.digest == signed.evidence.digest
    with pytest.raises(EvidenceRejected) as other:
        verify_evidence(signed.id_token, local_idp.running.jwks(), issuer=rp.settings.issuer,
                        audience=rp.settings.client_id, terms={**TERMS, "bank": "bank_other"})  # fmt: skip
    assert other.value.reason == "evidence_other_terms"


def test_an_identifying_sign_in_releases_the_id_number(local_idp: LocalIdp) -> None:
    rp = _rp(local_idp)
    pending, done = _sign_in(local_idp, rp, {"action": "sign_in", "at": "x"}, identify=True)
    signed = rp.finish(pending, done.callback)
    assert signed.evidence.claims["dexin_id_number"] == local_idp.config.residents[0].id_number


def test_forged_callbacks_and_tokens_are_refused(local_idp: LocalIdp) -> None:
    rp = _rp(local_idp)
    pending, done = _sign_in(local_idp, rp, TERMS)
    for params, reason in [
        ({**done.callback, "state": "forged"}, "sign_in_state_mismatch"),
        ({**done.callback, "iss": "https://evil.example"}, "evidence_wrong_issuer"),
        ({"error": "access_denied", "state": pending.state}, "sign_in_refused"),
    ]:
        with pytest.raises(EvidenceRejected) as refused:
            rp.finish(pending, params)
        assert refused.value.reason == reason
    signed = rp.finish(pending, done.callback)
    with pytest.raises(EvidenceRejected):  # a code is redeemed once
        rp.finish(pending, done.callback)
    tampered = signed.id_token[:-4] + ("AAAA" if not signed.id_token.endswith("AAAA") else "BBBB")
    with pytest.raises(EvidenceRejected) as bad:
        rp.verify(tampered, TERMS)
    assert bad.value.reason == "evidence_signature_invalid"
    with pytest.raises(EvidenceRejected) as wrong:
        rp.verify(signed.id_token, withdrawal_terms("cs_0123456789abcdef"))
    assert wrong.value.reason == "evidence_other_terms"


def test_a_token_for_another_client_or_too_old_proves_nothing(local_idp: LocalIdp) -> None:
    console = _rp(local_idp, "console")
    pending, done = _sign_in(local_idp, console, TERMS)
    signed = console.finish(pending, done.callback)
    gateway = _rp(local_idp)
    with pytest.raises(EvidenceRejected) as audience:
        gateway.verify(signed.id_token, TERMS)
    assert audience.value.reason == "evidence_wrong_audience"
    later = signed.evidence.auth_time + dt.timedelta(hours=1)
    with pytest.raises(EvidenceRejected) as stale:
        verify_evidence(signed.id_token, local_idp.running.jwks(), issuer=console.settings.issuer,
                        audience=console.settings.client_id, terms=TERMS, recorded_at=later)  # fmt: skip
    assert stale.value.reason == "evidence_not_fresh"
    assert dataclasses.asdict(signed.evidence)["claims"].get("nonce")
