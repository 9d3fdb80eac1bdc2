"""Officers' passkeys in headless Chromium with its virtual authenticator (issue 14): an
invite link enrols a passkey, the officer signs in with it, votes with it (the console asks
the authenticator for an assertion over the decision), and a vote whose assertion was
altered in flight, or replayed, is refused and recorded nowhere."""

from __future__ import annotations

import json
from typing import Any

from e2e_passkeys_support import enrol, invite, local, passkey_sign_in, with_authenticator
from e2e_support import ARTIFACTS, Served
from test_e2e_console import bank_client, file_request


def _votes(served: Served, rid: str) -> int:
    with bank_client(served) as bank:
        return int(bank.access_request(rid)["approvals"])


def test_enrol_sign_in_and_vote_with_a_passkey(served: Served, page: Any) -> None:
    officer = served.people["officers"][0]
    cdp, authenticator = with_authenticator(page)
    enrol(page, invite(served, officer["client_id"]))
    assert "#" not in page.url  # the spent invite left the address bar
    page.screenshot(path=str(ARTIFACTS / "passkey-enrolled.png"), full_page=True)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1  # a discoverable credential on the device
    passkey_sign_in(page, served)
    assert "有效" in page.locator("#my-keys").inner_text()  # live, as the ledger has it
    rid = file_request(served)
    page.reload()
    page.locator(f"#row-{rid} button[data-decide=approve]").click()
    with page.expect_navigation():  # the page reloads once the confirmed vote is recorded
        page.click("#confirm-decision button[value=confirm]")
    assert "✓" in page.locator(f"#row-{rid}").inner_text()
    assert _votes(served, rid) == 1
    page.screenshot(path=str(ARTIFACTS / "passkey-voted.png"), full_page=True)


def test_an_altered_or_replayed_assertion_is_refused(served: Served, page: Any) -> None:
    officer = served.people["officers"][2]
    with_authenticator(page)
    enrol(page, invite(served, officer["client_id"]))
    passkey_sign_in(page, served)
    altered, genuine = file_request(served), file_request(served)
    page.reload()

    def alter(route: Any) -> None:
        body = json.loads(route.request.post_data)
        signature = body["assertion"]["response"]["signature"]
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        body["assertion"]["response"]["signature"] = flipped
        route.continue_(post_data=json.dumps(body))

    page.route(f"**/console/officer/requests/{altered}/vote", alter)
    page.locator(f"#row-{altered} button[data-decide=approve]").click()
    page.click("#confirm-decision button[value=confirm]")
    status = page.locator("#passkey-status")
    status.wait_for(state="visible")
    assert "officer_signature_invalid" in status.inner_text()
    assert _votes(served, altered) == 0
    page.screenshot(path=str(ARTIFACTS / "passkey-refused.png"), full_page=True)

    sent: list[str] = []
    page.route(f"**/console/officer/requests/{genuine}/vote",
               lambda route: (sent.append(route.request.post_data), route.continue_()))  # fmt: skip
    page.reload()
    page.locator(f"#row-{genuine} button[data-decide=approve]").click()
    with page.expect_navigation():  # the page reloads once the confirmed vote is recorded
        page.click("#confirm-decision button[value=confirm]")
    assert "✓" in page.locator(f"#row-{genuine}").inner_text()
    assert _votes(served, genuine) == 1
    csrf = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    headers = {"content-type": "application/json", "accept": "application/json",
               "x-csrf-token": csrf}  # fmt: skip
    for target in (genuine, altered):  # the same bytes again, here and on the other request
        replay = page.request.post(f"{local(served)}/console/officer/requests/{target}/vote",
                                   data=sent[0], headers=headers)  # fmt: skip
        assert replay.status == 403 and replay.json()["reason"] == "officer_signature_invalid"
    assert (_votes(served, genuine), _votes(served, altered)) == (1, 0)
