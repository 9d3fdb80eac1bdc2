"""Disputes in headless Chromium against the served demo (issue 18, part 2): a resident
disputes a penalty in the console, with a PDF attached; the record and their score are
marked at once; its provider answers by a correcting contribution (with its own key, from
another process as a provider's machine would); the resident sees the correction, the
officers' dashboard the answered clock. Screenshots in test-artifacts/e2e/."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
from e2e_support import ARTIFACTS, Served, officer_login

from dexin.admin import subject_token
from dexin.app import ledger_secret
from dexin.settings import Settings
from dexin_client import DexinClient
from governance import ConsoleAccounts, Role, derive_keys

PENALTIES = "administrative_penalties"
PDF = b"%PDF-1.4\n% the revocation decision the resident kept\n%%EOF\n"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _source_rows(served: Served) -> list[dict[str, str]]:
    """market_regulation's penalties as the demo generated them (the provider's own file)."""
    home = Settings.from_env(served.env).home
    [path] = (home / "demo-data").rglob(f"market_regulation/{PENALTIES}.*")
    if path.suffix == ".parquet":
        rows = pq.read_table(path).to_pylist()
        return [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _penalised(served: Served, among: slice = slice(-40, None)) -> tuple[str, dict[str, Any]]:
    """A demo resident with a penalty of market_regulation's that counts (their report)."""
    settings = Settings.from_env(served.env)
    ids = sorted({r["id_number"] for r in _source_rows(served)})
    with httpx.Client(base_url=served.url, timeout=60) as http:
        for id_number in ids[among]:  # the rights tests take theirs from the front
            token = subject_token(settings, id_number, 300).access_token
            doc = http.get("/v1/me/report", headers={"Authorization": f"Bearer {token}"}).json()
            for t in doc["tables"]:
                for r in t["records"]:
                    if (t["table"], r["provider"], r["status"]) == (
                        PENALTIES,
                        "market_regulation",
                        "counts",
                    ):
                        return id_number, r
    raise AssertionError("no demo resident with a counting penalty")


def _provider_key(served: Served, directory: Path) -> Path:
    """A provider client for market_regulation with its own key (`dexin admin`, beside the
    running gateway)."""
    code = "import sys; from dexin.cli import app; sys.argv = ['dexin', *sys.argv[1:]]; app()"
    made = subprocess.run([sys.executable, "-c", code, "admin", "create-client", "--role",
                           "provider", "--name", "market_regulation", "--generate-key",
                           str(directory), "--json"], capture_output=True, text=True,
                          env=os.environ | served.env, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return Path(json.loads(made.stdout)["key_file"])


def _correction(served: Served, key: str, tmp: Path) -> Path:
    """The disputed penalty's source row as its provider holds it, made minor."""
    [row] = [r for r in _source_rows(served) if r["record_id"] == key]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row | {"severity": "minor"})
    path = tmp / "correction.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_a_dispute_is_filed_in_the_console_and_answered_by_correction(
    served: Served, page: Any, browser: Any, tmp_path: Path
) -> None:
    id_number, record = _penalised(served)
    ref = record["record"]
    value = f"{ref['table']}:{ref['contribution_id']}:{ref['row']}"
    page.goto(f"{served.url}/console/login")
    page.fill("#subject-login input[name=id_number]", id_number)
    page.click("#subject-login button[type=submit]")
    page.wait_for_url("**/console/me")
    page.click("#nav-disputes")
    page.wait_for_url("**/console/me/disputes")
    page.select_option("#dispute-record", value)
    page.fill("#file-dispute textarea[name=reason]", "该处罚已被撤销，附撤销决定书。")
    (tmp_path / "decision.pdf").write_bytes(PDF)
    page.set_input_files("#file-dispute input[name=attachment]", str(tmp_path / "decision.pdf"))
    with page.expect_navigation():
        page.click("#file-dispute button")
    row = page.locator(f"#records tr[data-record='{value}']")
    assert "异议中" in row.inner_text()  # marked at once
    filed = page.locator("#disputes tr[data-status=open]")
    assert filed.count() == 1 and record["key"] in filed.inner_text()
    assert "20" in filed.inner_text() or "19" in filed.inner_text()  # days left
    shot(page, "resident-dispute-filed")
    page.goto(f"{served.url}/console/me")
    assert page.locator("#score-disputed").count() == 1
    assert id_number not in page.content()

    key = _provider_key(served, tmp_path / "keys")
    with DexinClient.from_key_file(served.url, key) as provider:
        [dispute] = [d for d in provider.disputes() if d["record_key"] == record["key"]]
        assert provider.dispute(dispute["id"])["reason"].startswith("该处罚已被撤销")
        assert provider.dispute_attachment(dispute["id"]) == ("application/pdf", PDF)
        answered = provider.correct_dispute(
            dispute["id"], PENALTIES, _correction(served, record["key"], tmp_path)
        )
    assert answered["dispute"]["outcome"] == "corrected" and answered["contribution"]["anchor"]

    page.goto(f"{served.url}/console/me/disputes")
    done = page.locator(f"#dispute-{dispute['id']}")
    assert done.get_attribute("data-outcome") == "corrected"
    assert answered["contribution"]["contribution_id"] in done.inner_text()
    assert page.locator("#records .mark.disputed").count() == 0  # the mark is cleared
    shot(page, "resident-dispute-corrected")

    officer = served.people["officers"][2]
    other = browser.new_context(locale="zh-CN").new_page()
    officer_login(other, served.url, officer)
    other.click("#nav-disputes")
    other.wait_for_url("**/console/officer/disputes")
    assert other.locator(f"#dispute-{dispute['id']}").get_attribute("data-status") == "answered"
    assert int(other.inner_text("#count-answered")) >= 1
    assert id_number not in other.content()
    shot(other, "officer-disputes")
    other.context.close()


def _staff_account(served: Served, key: Path) -> dict[str, str]:
    """A console account of the provider's staff (role provider_staff), bound to the client of
    ``key``, written beside the running gateway as the demo writes its accounts."""
    settings = Settings.from_env(served.env)
    accounts = ConsoleAccounts(settings.console_accounts,
                               derive_keys(ledger_secret(settings)).token_key)  # fmt: skip
    client_id = json.loads(key.read_text(encoding="utf-8"))["client_id"]
    password = "staff password e2e"
    secret = accounts.create("mr-staff", Role.PROVIDER_STAFF, client_id, password)
    return {"username": "mr-staff", "password": password, "totp_secret": secret}


def test_a_providers_staff_follow_the_clocks_in_the_console(
    served: Served, page: Any, tmp_path: Path
) -> None:
    """The provider's staff sign in to its inbox (zh-CN): each dispute's clock and the exact
    command that answers it with the provider's key; the signed answer then shows there."""
    id_number, record = _penalised(served, slice(-80, -40))
    token = subject_token(Settings.from_env(served.env), id_number, 300).access_token
    filed = httpx.post(f"{served.url}/v1/me/disputes", headers={"Authorization": f"Bearer {token}"},
                       json={"record": record["record"], "reason": "金额有误"}, timeout=60)  # fmt: skip
    assert filed.status_code == 201, filed.text
    dispute = filed.json()["id"]
    key = _provider_key(served, tmp_path / "keys")

    officer_login(page, served.url, _staff_account(served, key), lands_on="provider/disputes")
    row = page.locator(f"#dispute-{dispute}")
    assert row.get_attribute("data-status") == "open" and "处理中" in row.inner_text()
    assert row.locator(".days-left").inner_text() in ("19", "20")
    assert record["key"] in row.inner_text()
    commands = page.inner_text(f"#commands-{dispute}")
    assert f"dexin provider answer {dispute} confirmed --gateway {served.url} --key" in commands
    assert f"dexin provider correct {dispute} --table {PENALTIES}" in commands
    assert id_number not in page.content()
    assert page.inner_text("#signed-in-as").startswith("数据提供部门工作人员")  # not its code
    shot(page, "provider-inbox")

    with DexinClient.from_key_file(served.url, key) as provider:  # the provider's own key
        assert provider.answer_dispute(dispute, "confirmed", "经核查无误")["outcome"] == "confirmed"
    page.reload()
    row = page.locator(f"#dispute-{dispute}")
    assert row.get_attribute("data-status") == "answered"
    assert "经核查，记录无误" in row.inner_text()
    page.goto(f"{served.url}/console/provider/disputes?lang=en")
    assert "Dispute inbox" in page.inner_text("h1")
