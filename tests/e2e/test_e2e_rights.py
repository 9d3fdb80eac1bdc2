"""Residents' rights in headless Chromium against the served demo (issue 18, parts 1, 3, 4):
the report page and its PDF, a statement written in the browser and returned with the next
bank answer, a review requested by the resident and recorded by an officer. Screenshots in
test-artifacts/e2e/."""

from __future__ import annotations

import csv
from typing import Any

import httpx
import pytest
from e2e_passkeys_support import invite, local
from e2e_support import ARTIFACTS, Served, officer_login
from test_e2e_console import bank_client

from dexin.admin import subject_token
from dexin.officer_key import decide, enrol
from dexin.settings import Settings


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def resident_login(page: Any, served: Served, id_number: str) -> None:
    page.goto(f"{served.url}/console/login")
    page.fill("#subject-login input[name=id_number]", id_number)
    page.click("#subject-login button[type=submit]")
    page.wait_for_url("**/console/me")


def _token(http: httpx.Client, client: dict[str, Any]) -> str:
    form = {"grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"]}  # fmt: skip
    r = http.post("/v1/oauth/token", data=form)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def stated(served: Served) -> tuple[str, dict[str, Any]]:
    """A demo resident with a negative record the score uses (found through the API)."""
    settings = Settings.from_env(served.env)
    data = next((settings.home / "demo-data").glob("scale-*"))  # what make demo generated
    ids: list[str] = []
    for provider, table in (("traffic_police", "traffic_violations"),
                            ("market_regulation", "administrative_penalties")):  # fmt: skip
        with (data / provider / f"{table}.csv").open(newline="", encoding="utf-8") as f:
            ids += [row["id_number"] for row in csv.DictReader(f)]
    with httpx.Client(base_url=served.url, timeout=60) as http:
        for id_number in sorted(set(ids))[:60]:
            token = subject_token(settings, id_number, 300).access_token
            doc = http.get("/v1/me/report", headers={"Authorization": f"Bearer {token}"}).json()
            used = [r for t in doc["tables"] for r in t["records"] if r["negative"] and r["used"]]
            if used:
                return id_number, used[0]["record"]
    raise AssertionError("no demo resident with a used negative record")


def test_the_resident_reads_the_report_and_downloads_the_pdf(served: Served, page: Any) -> None:
    resident = served.people["subjects"][1]["id_number"]
    resident_login(page, served, resident)
    page.click("#my-report")
    page.wait_for_url("**/console/me/report")
    assert "本年度第" in page.inner_text("#report-issue")
    assert page.locator("#report-score svg .radar-shape").count() == 1
    assert page.locator("#report-records table.records").count() >= 1
    assert "wuweitu@1" in page.inner_text("#report-history")  # the demo released the model
    assert resident not in page.content()
    shot(page, "resident-report")
    pdf = page.request.get(f"{served.url}/console/me/report.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    body = pdf.body()
    assert body.startswith(b"%PDF-") and b"NotoSansCJK" in body  # the CJK font, embedded
    page.goto(f"{served.url}/console/me/report?lang=en")
    assert "Personal credit report" in page.inner_text("main")
    assert page.locator("#report-issue").inner_text().startswith("Report ")


def test_a_statement_is_shown_in_the_next_bank_answer(
    served: Served, page: Any, stated: tuple[str, dict[str, Any]]
) -> None:
    id_number, record = stated
    resident_login(page, served, id_number)
    page.goto(f"{served.url}/console/me/report")
    row = page.locator(f"#rec-{record['contribution_id']}-{record['row']}")
    row.locator("details.add-statement summary").click()
    row.locator("textarea[name=text]").fill("此记录所涉罚款已按期缴纳，特此说明。")
    row.locator("input[name=short]").fill("罚款已按期缴纳")
    with page.expect_navigation():
        row.locator("button.ok").click()
    assert "此记录所涉罚款已按期缴纳" in page.inner_text(
        f"#rec-{record['contribution_id']}-{record['row']}"
    )
    shot(page, "resident-statement")
    answer = _bank_score(served, id_number)
    assert [s["statement"] for s in answer["statements"]] == ["罚款已按期缴纳"]
    assert id_number not in str(answer)


def _bank_score(served: Served, id_number: str) -> dict[str, Any]:
    """The bank's signed score of the resident: an access request approved by two officers'
    own keys, the resident's consent, then the score (the bank with its own key)."""
    with bank_client(served) as bank, httpx.Client(base_url=local(served), timeout=60) as http:
        filed = bank.request_access("morality_credit_score", purpose="credit_assessment",
                                    valid_until="2030-01-01T00:00:00Z", quota=5)  # fmt: skip
        rid = filed["id"]
        for officer in served.people["officers"][:2]:
            key = enrol(http, invite(served, officer["client_id"]).split("#", 1)[1])
            _, voted = decide(http, key, _token(http, officer), rid, "approve")
            assert voted.status_code == 200, voted.text
        subject = subject_token(Settings.from_env(served.env), id_number, 300).access_token
        consent = http.post("/v1/consents", headers={"Authorization": f"Bearer {subject}"}, json={
            "bank": served.people["bank"]["client_id"], "purpose": "credit_assessment",
            "expires_at": "2029-01-01T00:00:00Z"}).json()["id"]  # fmt: skip
        answer = bank.score(id_number, purpose="credit_assessment", access_request_id=rid,
                            consent_id=consent)  # fmt: skip
        return dict(answer.body)


def test_a_review_is_requested_and_recorded(served: Served, page: Any, browser: Any) -> None:
    resident = served.people["subjects"][2]["id_number"]
    resident_login(page, served, resident)
    page.goto(f"{served.url}/console/me/report")
    page.fill("#request-review textarea[name=ask]", "请说明我的诚信维度为何偏低，并人工复核。")
    with page.expect_navigation():
        page.click("#request-review button")
    assert "处理中" in page.inner_text("#report-reviews")
    officer = served.people["officers"][2]
    other = browser.new_context(locale="zh-CN").new_page()
    officer_login(other, served.url, officer)
    other.click("#nav-reviews")
    other.locator("#review-queue a").first.click()
    assert "诚信维度" in other.inner_text("#review-ask")
    assert other.locator("#case-features tr").count() > 5
    assert resident not in other.content()
    shot(other, "officer-review-case")
    other.fill("#review-outcome textarea[name=note]", "经核实，评分依据无误，维持。")
    with other.expect_navigation():
        other.click("#review-outcome button")
    assert "/console/officer/reviews" in other.url
    other.context.close()
    page.goto(f"{served.url}/console/me/report")
    assert "维持评分" in page.inner_text("#report-reviews")
    shot(page, "resident-review-decided")
