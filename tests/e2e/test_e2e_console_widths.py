"""Every console page at a desktop (1280 px) and a phone (390 px) width, in zh-CN (issue 15 §4).

Each page is screenshotted under test-artifacts/e2e/widths/ and fails if:
- a resident's page scrolls sideways at 390 px (the document wider than the window);
- a table header is taller than about two lines (a header wrapping one character a line);
- its visible text holds an internal code: a snake_case identifier (``credit_assessment``,
  ``approval_pending``), a client id (``officer_1a2b…``) or a Unix time. Codes may appear only
  in elements marked as code (``<code>``, ``.code``: the small type beside their words) or in
  `ALLOWED`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import ARTIFACTS, Served, officer_login
from test_e2e_console import file_request
from test_e2e_rights import resident_login

WIDTHS = {"desktop": 1280, "phone": 390}
SHOTS = ARTIFACTS / "widths"

# what looks like a code on a zh-CN page: snake_case, a client's id, a 10-digit Unix time
CODE = re.compile(r"(?<![\w.@/-])(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|officer_[0-9a-f]{6,}|1\d{9})"
                  r"(?![\w@/-])")  # fmt: skip
ALLOWED: frozenset[str] = frozenset()  # codes a zh-CN page may show outside small type

# the visible text of a page outside elements marked as code (SVG text included)
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.textContent.trim()) continue;
    if (el.closest("code, .code, script, style, template, [hidden], dialog:not([open])")) continue;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") continue;
    if (el.getClientRects().length === 0) continue;
    out.push(node.textContent);
  }
  return out;
}"""

# table headers whose own text is taller than about two lines
TALL_HEADERS = """() => [...document.querySelectorAll("th")].filter((th) => th.offsetParent !== null)
  .map((th) => {
    const s = getComputedStyle(th);
    const line = parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.5;
    const range = document.createRange();
    range.selectNodeContents(th);
    return {text: th.textContent.trim(), lines: range.getBoundingClientRect().height / line};
  }).filter((h) => h.lines > 2.5)"""

SIDEWAYS = """() => ({scroll: document.documentElement.scrollWidth,
               client: document.documentElement.clientWidth})"""


def codes_in(texts: list[str]) -> list[str]:
    """The code-like tokens of ``texts`` that are not allowed."""
    return sorted({m.group(0) for text in texts for m in CODE.finditer(text)} - ALLOWED)


def check(page: Any, name: str, resident: bool) -> list[str]:
    """Open nothing: check the page as it is at each width, screenshot it, say what is wrong."""
    problems: list[str] = []
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 860})
        page.wait_for_timeout(50)  # one layout after the resize
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        tall = page.evaluate(TALL_HEADERS)
        if tall:
            problems.append(f"{name} at {width} px: headers taller than two lines: {tall}")
        if resident and width == WIDTHS["phone"]:
            size = page.evaluate(SIDEWAYS)
            if size["scroll"] > size["client"]:
                problems.append(f"{name} at {width} px scrolls sideways: {size}")
    codes = codes_in(page.evaluate(VISIBLE_TEXT))
    if codes:
        problems.append(f"{name}: untranslated codes on a zh-CN page: {codes}")
    return problems


@pytest.fixture
def zh_page(browser: Any) -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    yield context.new_page()
    context.close()


def visit(page: Any, url: str, name: str, resident: bool = False) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status == 200, (name, response and response.status)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    return check(page, name, resident)


def test_the_code_pattern_finds_codes_and_passes_words() -> None:
    found = codes_in(["用途 credit_assessment", "officer_f4ff768b40824692 批准", "于 1764806400",
                      "approval_pending", "余姚农商银行 Yuyao Rural Commercial Bank",
                      "wuweitu@1 · 2026-11-01 14:03 · 50 / 1000 · officer-wang"])  # fmt: skip
    assert found == ["1764806400", "approval_pending", "credit_assessment",
                     "officer_f4ff768b40824692"]  # fmt: skip


def test_the_checks_find_what_they_look_for(zh_page: Any) -> None:
    """A header wrapping a character a line, a page wider than a phone, a bare code: each is
    reported (and a code in small type, or hidden, is not)."""
    zh_page.set_content(
        '<html lang="zh-CN"><body><table><tr><th style="width:1em">有效期至</th>'
        "<th>状态</th></tr></table><div style=\"width:600px\">用途 credit_assessment "
        '<code>morality_credit_score</code> <span class="code">approval_pending</span>'
        '<span hidden>officer_f4ff768b</span></div></body></html>'
    )  # fmt: skip
    problems = check(zh_page, "checks", resident=True)
    assert len(problems) == 4, problems
    for said in problems[:2]:  # at each width: the narrow header, not its neighbour
        assert "headers taller" in said and "有效期至" in said and "状态" not in said
    assert "scrolls sideways" in problems[2]
    assert problems[3].endswith("['credit_assessment']")  # not the ones in small type


def test_officer_pages_at_both_widths(served: Served, zh_page: Any) -> None:
    rid = file_request(served)  # a pending request, so the inbox has a row to check
    officer_login(zh_page, served.url, served.people["officers"][2])
    problems = visit(zh_page, f"{served.url}/console/officer", "officer-inbox")
    row = zh_page.locator(f"#inbox #row-{rid}")
    assert "个人道德信用评分" in row.inner_text()  # the computation in words ...
    assert "morality_credit_score" in row.locator("td.computation code.code").inner_text()
    assert "信用评估" in row.inner_text()
    assert served.people["bank"]["name"] in row.inner_text()
    assert "officer-zhang" in zh_page.inner_text("#signed-in-as")  # a name, not a client id
    row.locator("button[value=approve]").click()  # the confirmation, before any passkey
    dialog = zh_page.locator("#confirm-decision")
    dialog.wait_for()
    assert "批准" in dialog.inner_text() and "个人道德信用评分" in dialog.inner_text()
    assert served.people["bank"]["name"] in dialog.inner_text()
    problems += check(zh_page, "officer-confirm", resident=False)
    dialog.locator("button[value=cancel]").click()
    assert not dialog.is_visible()
    assert zh_page.locator("#passkey-status").is_hidden()  # cancelled: nothing was signed
    for path, name in (("/console/officer/registry", "officer-registry"),
                       ("/console/officer/disputes", "officer-disputes"),
                       ("/console/dashboards", "dashboards")):  # fmt: skip
        problems += visit(zh_page, f"{served.url}{path}", name)
    assert not problems, "\n".join(problems)


def test_auditor_pages_at_both_widths(served: Served, zh_page: Any) -> None:
    officer_login(zh_page, served.url, served.people["auditor"], lands_on="auditor")
    problems = visit(zh_page, f"{served.url}/console/auditor", "auditor")
    zh_page.click("#run-verify")
    zh_page.locator("#verdict").wait_for()
    problems += check(zh_page, "auditor-verdict", resident=False)
    problems += visit(zh_page, f"{served.url}/console/dashboards", "auditor-dashboards")
    assert not problems, "\n".join(problems)


def test_resident_pages_at_both_widths(served: Served, zh_page: Any) -> None:
    resident_login(zh_page, served, served.people["subjects"][2]["id_number"])
    zh_page.select_option("#grant select[name=purpose]", "credit_assessment")
    with zh_page.expect_navigation():
        zh_page.click("#grant button")
    problems = visit(zh_page, f"{served.url}/console/me", "resident-me", resident=True)
    consents = zh_page.inner_text("#consents")
    assert "信用评估" in consents and "有效" in consents, consents
    for path, name in (("/console/me/report", "resident-report"),
                       ("/console/me/disputes", "resident-disputes")):  # fmt: skip
        problems += visit(zh_page, f"{served.url}{path}", name, resident=True)
    assert not problems, "\n".join(problems)


def test_the_sign_in_page_and_the_favicon(served: Served, zh_page: Any) -> None:
    problems = visit(zh_page, f"{served.url}/console/login", "login", resident=True)
    assert not problems, "\n".join(problems)
    icon = zh_page.locator("link[rel=icon]").get_attribute("href")
    assert icon == "/console/static/favicon.svg"
    got = zh_page.request.get(f"{served.url}{icon}")
    assert got.status == 200 and got.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in got.body()
