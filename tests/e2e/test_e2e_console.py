"""Each role's main path in headless Chromium against a served demo; screenshots kept in
test-artifacts/e2e/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2e_passkeys_support import enrol, invite, local, with_authenticator
from e2e_support import ARTIFACTS, Served, officer_login

from dexin_client import DexinClient


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def bank_client(served: Served) -> DexinClient:
    """The demo's bank, with its own key (private_key_jwt, DPoP-bound tokens)."""
    return DexinClient.from_key_file(served.url, Path(served.people["bank"]["key_file"]),
                                     timeout=60)  # fmt: skip


def file_request(served: Served) -> str:
    with bank_client(served) as bank:
        filed = bank.request_access("morality_credit_score", purpose="credit_assessment",
                                    valid_until="2030-01-01T00:00:00Z", quota=50)  # fmt: skip
        return str(filed["id"])


def test_officers_log_in_with_totp_and_approve(served: Served, page: Any, browser: Any) -> None:
    """The TOTP sign-in stays as a fallback, but a vote is always signed by the officer's
    passkey (enrolled here on Chromium's virtual authenticator)."""
    rid = file_request(served)
    first, second = served.people["officers"][:2]
    officer_login(page, local(served), first)
    row = page.locator(f"#row-{rid}")
    assert "morality_credit_score" in row.inner_text()
    shot(page, "officer-inbox")
    with_authenticator(page)
    enrol(page, invite(served, first["client_id"]))
    page.goto(f"{local(served)}/console/officer")
    page.locator(f"#row-{rid} button[value=approve]").click()
    confirm = page.locator("#confirm-decision")  # names what is approved before it is signed
    assert "批准" in confirm.inner_text() and "个人道德信用评分" in confirm.inner_text()
    with page.expect_navigation():  # the page reloads once the vote is recorded
        confirm.locator("button[value=confirm]").click()
    assert "✓" in page.locator(f"#row-{rid}").inner_text()
    other = browser.new_context(locale="zh-CN").new_page()
    with_authenticator(other)
    enrol(other, invite(served, second["client_id"]))
    officer_login(other, local(served), second)
    other.locator(f"#row-{rid} button[value=approve]").click()
    with other.expect_navigation():
        other.locator("#confirm-decision button[value=confirm]").click()
    assert other.locator(f"#active #row-{rid}").count() == 1  # m of n reached: active
    shot(other, "officer-approved")
    other.goto(f"{local(served)}/console/officer/registry")
    assert "wuweitu@1" in other.inner_text("#releases")
    shot(other, "officer-registry")
    other.context.close()


def test_a_wrong_code_is_refused(served: Served, page: Any) -> None:
    officer = served.people["officers"][2]
    page.goto(f"{served.url}/console/login")
    page.fill("#officer-login input[name=username]", officer["username"])
    page.fill("#officer-login input[name=password]", officer["password"])
    page.fill("#officer-login input[name=code]", "000000")
    page.click("#officer-login button[type=submit]")
    assert page.locator(".alert:not([hidden])").is_visible()
    assert "/console/officer" not in page.url


def test_a_resident_sees_score_radar_accesses_and_withdraws(served: Served, page: Any) -> None:
    resident = served.people["subjects"][0]["id_number"]
    page.goto(f"{served.url}/console/login")
    page.fill("#subject-login input[name=id_number]", resident)
    page.click("#subject-login button[type=submit]")
    page.wait_for_url("**/console/me")
    assert page.locator("#radar svg .radar-shape").count() == 1
    assert page.locator("#morality-code").inner_text().strip()
    page.select_option("#grant select[name=purpose]", "credit_assessment")
    page.click("#grant button")
    page.wait_for_load_state()
    assert page.locator("#consents tr[data-status=active]").count() >= 1
    assert "有效" in page.inner_text("#consents")
    shot(page, "resident")
    page.locator("#consents button.danger").first.click()
    page.wait_for_load_state()
    assert "已撤回" in page.inner_text("#consents")
    assert resident not in page.content()
    page.goto(f"{served.url}/console/me?lang=en")
    assert "Who accessed my data" in page.inner_text("main")
    shot(page, "resident-en")


def test_the_auditor_runs_the_verification(served: Served, page: Any) -> None:
    officer_like = served.people["auditor"]
    officer_login(page, served.url, officer_like, lands_on="auditor")
    page.click("#run-verify")
    verdict = page.locator("#verdict")
    verdict.wait_for()
    assert "验证通过" in verdict.inner_text(), verdict.inner_text()
    shot(page, "auditor")
    page.goto(f"{served.url}/console/dashboards")
    for section in ("#dash-contributions", "#dash-queries", "#dash-denials", "#dash-grades"):
        assert page.locator(f"{section} svg, {section} .empty").count() >= 1
    shot(page, "dashboards")


def test_anonymous_visitors_are_asked_to_sign_in(served: Served, page: Any) -> None:
    response = page.goto(f"{served.url}/console/officer")
    assert response.status == 401
    assert page.locator("#officer-login").is_visible()
