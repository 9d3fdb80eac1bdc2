"""The login page: wrong passwords, forged forms, and fresh sign-ins on a live session."""

from __future__ import annotations

import httpx
from identity_support import (
    WRONG_PASSWORD,
    Flow,
    LocalIdp,
    authorize,
    browser,
    callback_params,
    follow,
    submit_login,
)


def _login_page(user_agent: httpx.Client, flow: Flow, redirect_uri: str) -> httpx.Response:
    page = follow(user_agent, user_agent.get(flow.url), redirect_uri)
    assert page.status_code == 200
    assert "居民登录" in page.text and "Resident sign-in" in page.text
    assert page.text.index("用户名") < page.text.index("User name")
    return page


def test_a_wrong_password_is_refused_and_the_right_one_then_works(local_idp: LocalIdp) -> None:
    client = local_idp.client("gateway")
    login, password = local_idp.credentials()
    flow = Flow.start(local_idp.running, client, "openid", "n")
    with browser() as user_agent:
        page = _login_page(user_agent, flow, client.redirect_uris[0])
        for wrong in [(login, password + "x"), ("nobody", password)]:
            refused = submit_login(user_agent, page, *wrong)
            assert refused.status_code == 401
            assert WRONG_PASSWORD in refused.text
            assert "location" not in refused.headers
        right = submit_login(user_agent, refused, login, password)
        done = follow(user_agent, right, client.redirect_uris[0])
    assert "code" in callback_params(done)


def test_repeated_wrong_passwords_end_the_attempt(local_idp: LocalIdp) -> None:
    client = local_idp.client("gateway")
    login = local_idp.credentials()[0]
    flow = Flow.start(local_idp.running, client, "openid", "n")
    with browser() as user_agent:
        page = _login_page(user_agent, flow, client.redirect_uris[0])
        for _ in range(5):
            page = submit_login(user_agent, page, login, "wrong")
        assert page.is_redirect
        done = follow(user_agent, page, client.redirect_uris[0])
    callback = callback_params(done)
    assert callback["error"] == "access_denied"
    assert "code" not in callback


def test_a_login_form_without_its_token_is_refused(local_idp: LocalIdp) -> None:
    client = local_idp.client("gateway")
    login, password = local_idp.credentials()
    flow = Flow.start(local_idp.running, client, "openid", "n")
    with browser() as user_agent:
        page = _login_page(user_agent, flow, client.redirect_uris[0])
        forged = submit_login(user_agent, page, login, password, csrf="forged")
    assert forged.status_code == 403
    assert "location" not in forged.headers


def test_prompt_login_and_max_age_0_force_a_fresh_sign_in(local_idp: LocalIdp) -> None:
    client = local_idp.client("gateway")
    redirect = client.redirect_uris[0]
    credentials = local_idp.credentials()
    with browser() as user_agent:
        first = authorize(
            user_agent,
            Flow.start(local_idp.running, client, "openid", "n1").url,
            redirect,
            credentials,
        )
        assert first.login_shown and first.code
        silent = authorize(
            user_agent, Flow.start(local_idp.running, client, "openid", "n2").url, redirect
        )
        assert not silent.login_shown and silent.code  # the IdP session is live
        for fresh in [{"prompt": "login"}, {"max_age": "0"}]:
            flow = Flow.start(local_idp.running, client, "openid", "n3", **fresh)
            page = follow(user_agent, user_agent.get(flow.url), redirect)
            assert page.status_code == 200 and "重新登录" in page.text
            done = follow(user_agent, submit_login(user_agent, page, *credentials), redirect)
            assert "code" in callback_params(done)
