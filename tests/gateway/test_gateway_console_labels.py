"""The console in its users' language (issue 15 §4): the labels of codes, local times, names
instead of client ids, charts that do not cut names, the confirmation before a vote, the
favicon. Pure functions directly; pages over the real gateway (TestClient)."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterator
from typing import get_args

import pytest
from gateway_support import Actors, auth
from query_gateway.console.charts import bars, stacked, text_width
from query_gateway.console.i18n import (
    LABELS,
    coded,
    label,
    local_time,
    provider_label,
    table_label,
    town_label,
    value_label,
)

from governance import load_catalogue
from governance.approvals import Status
from governance.catalogue import PURPOSES
from governance.consents import ConsentStatus
from governance.credentials import Role
from vault import load_registry

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`", UserWarning)
    from starlette.testclient import TestClient

HTML = {"accept": "text/html"}


@pytest.fixture
def browser(actors: Actors) -> Iterator[TestClient]:
    client = TestClient(actors.http.app, raise_server_exceptions=False)
    yield client
    client.close()


def test_codes_read_as_words_in_both_languages() -> None:
    assert label("zh", "purpose", "credit_assessment") == "信用评估"
    assert label("en", "purpose", "credit_assessment") == "Credit assessment"
    assert label("zh", "status", "approved") == "已批准"
    assert label("zh", "computation", "morality_credit_score") == "个人道德信用评分"
    assert label("zh", "reason", "approval_pending") == "审批尚未通过"
    assert label("zh", "purpose", "no_such_purpose") == "no_such_purpose"  # shown, so found
    assert label("zh", "status", None) == "—"


def test_every_code_the_console_shows_has_words() -> None:
    """Every purpose, request and consent status, catalogued computation and enumerated value
    of the registry: a new one without a label fails here before a page shows it raw."""
    kinds = {"purpose": set(PURPOSES),
             "status": set(get_args(Status)) | set(get_args(ConsentStatus)),
             "computation": {c.id for c in load_catalogue()},
             "value": {v for t in load_registry().tables for c in t.columns
                       for v in c.values or ()}}  # fmt: skip
    for kind, codes in kinds.items():
        missing = sorted(codes - set(LABELS[kind]))
        assert not missing, (kind, missing)
    for kind, pairs in LABELS.items():
        for code, (zh, en) in pairs.items():
            assert zh and en, (kind, code)
            assert not re.search(r"[a-z]_[a-z]", zh), (kind, code, zh)  # no code as the words


def test_the_code_goes_beside_its_words_in_small_type_escaped() -> None:
    assert str(coded("信用评估", "credit_assessment")) == (
        '信用评估 <code class="code">credit_assessment</code>'
    )
    assert str(coded("<b>", "a<b")) == '&lt;b&gt; <code class="code">a&lt;b</code>'
    assert str(coded("x_y", "x_y")) == '<code class="code">x_y</code>'  # no words: code only


def test_times_are_local_dates_in_shanghai_never_unix_numbers() -> None:
    late_utc = dt.datetime(2026, 11, 1, 16, 30)  # naive: UTC, as the control plane stores it
    assert local_time(late_utc) == "2026-11-02 00:30"  # the next day in Yuyao
    assert local_time(late_utc.replace(tzinfo=dt.UTC), "date") == "2026-11-02"
    assert local_time("2026-11-01T16:30:05.123+00:00", "second") == "2026-11-02 00:30:05"
    assert local_time("2026-11-01T16:30:05Z") == "2026-11-02 00:30"
    assert local_time(1764806400) == "2025-12-04 08:00"  # a ledger block time
    assert local_time("1764806400", "date") == "2025-12-04"
    assert local_time(dt.date(2027, 6, 3), "date") == "2027-06-03"  # a date stays that date
    assert local_time(None) == "—" and local_time("") == "—"
    assert local_time("not a time") == "not a time"


def test_providers_tables_towns_and_values_by_their_registry_names() -> None:
    registry = load_registry()
    assert provider_label("zh", registry, "court") == "人民法院"
    assert provider_label("en", registry, "traffic_police") == "Traffic police"
    assert provider_label("zh", registry, "unknown-bank") == "unknown-bank"
    assert table_label("zh", registry, "traffic_violations") == "交通违法"
    assert table_label("en", registry, "traffic_violations") == "Traffic violations"
    assert town_label(registry, "T01") == registry.towns[0] == "阳明街道"
    assert town_label(registry, "T99") == "T99" and town_label(registry, "X1") == "X1"
    assert value_label("zh", "fire_safety") == "消防安全"
    assert value_label("en", "fire_safety") == "Fire safety"
    assert value_label("zh", True) == "是" and value_label("zh", None) == "—"
    assert value_label("zh", "T20V008") == "T20V008" and value_label("zh", 12) == "12"


def _texts(svg: str) -> list[str]:
    return re.findall(r"<(?:text|tspan)[^>]*>([^<]+)</(?:text|tspan)>", svg)


def test_long_names_are_wrapped_in_bar_charts_not_cut() -> None:
    name = "余姚农商银行 Yuyao Rural Commercial Bank of a Very Long Registered Name Indeed"
    svg = str(bars([(name, 12), ("短", 3), (("缺少居民授权", "consent_missing"), 2)]))
    lines = _texts(svg)
    assert " ".join(t for t in lines if not t[0].isdigit()).startswith(name)  # whole, wrapped
    first_x = [float(x) for x in re.findall(r'<tspan x="([0-9.]+)"', svg)]
    widest = max(text_width(t, 12) for t in lines)
    assert min(first_x) >= widest  # right-aligned at x: every line starts inside the chart
    assert '<tspan x="' in svg and 'class="code"' in svg and ">consent_missing</tspan>" in svg
    assert "暂无数据" in str(bars([], empty="暂无数据"))


def test_stacked_charts_write_every_group_and_series_name_whole() -> None:
    towns = [f"T{i:02d}" for i in range(1, 22)]
    names = {t: town_label(load_registry(), t) for t in towns} | {"court": "人民法院"}
    svg = str(stacked(towns, ["court", "A"], {("T01", "court"): 3.0, ("T21", "A"): 1.0},
                      width=900, names=names))  # fmt: skip
    texts = _texts(svg)
    for town in load_registry().towns:
        assert town in texts  # 黄家埠镇, 三七市镇 … whole, slanted under their columns
    assert "人民法院" in texts and "A" in texts
    assert "court" not in texts
    assert 'transform="rotate(-45' in svg
    assert "暂无数据" in str(stacked([], [], {}, empty="暂无数据"))


def test_the_favicon_is_served_and_every_page_links_it(browser: TestClient) -> None:
    icon = browser.get("/console/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
    moved = browser.get("/favicon.ico", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/console/static/favicon.svg"
    for path in ("/console/login", "/console/officer"):  # the sign-in page, a 401 page
        page = browser.get(path, headers=HTML)
        assert '<link rel="icon" href="/console/static/favicon.svg"' in page.text, path


def test_officers_read_names_words_and_local_dates_and_confirm_before_signing(
    actors: Actors, browser: TestClient
) -> None:
    _, bank = actors.token(Role.BANK, "labels-bank")
    active = actors.approved(bank, valid_until="2030-01-01T20:00:00Z")
    pending = actors.file(bank)
    officer_id, token = actors.token(Role.OFFICER, "李敏")
    page = browser.get("/console/officer", headers=auth(token) | HTML)
    assert page.status_code == 200
    header = page.text.split("<main>")[0]
    assert "李敏" in header and officer_id not in header  # the officer by name
    row = page.text.split(f'id="row-{active}"')[1].split("</tr>")[0]
    assert "个人道德信用评分" in row and '<code class="code">morality_credit_score@1</code>' in row
    assert "信用评估" in row and "labels-bank" in row
    assert "2030-01-02" in row  # 20:00 UTC is the next morning in Shanghai
    confirm = page.text.split('<dialog id="confirm-decision"')[1].split("</dialog>")[0]
    assert "确认并签名" in confirm and "通行密钥签名" in confirm
    what = page.text.split(f'id="what-{pending}"')[1].split("</div>")[0]
    assert "labels-bank" in what and "个人道德信用评分" in what and "信用评估" in what
    english = browser.get("/console/officer?lang=en", headers=auth(token) | HTML).text
    assert "Morality-credit score of a person" in english and "Confirm and sign" in english


def _page(template: str, lang: str, **context: object) -> str:
    """A console template rendered as `route.render` would, for nobody signed in."""
    from query_gateway.console.i18n import translate
    from query_gateway.console.route import TEMPLATES

    return TEMPLATES.get_template(template).render(
        t=lambda key: translate(lang, key), lang=lang, csrf="x", who=None, who_name=None,
        path="/console/x", identity={"idp": False, "dev": False}, registry=load_registry(),
        **context,
    )  # fmt: skip


@pytest.mark.parametrize(("lang", "words"), [("zh", ("暂无模型发布记录", "暂无数据贡献回执")),
                                             ("en", ("No model release", "No contribution"))])  # fmt: skip
def test_empty_tables_say_so(lang: str, words: tuple[str, str]) -> None:
    registry = _page("registry.html", lang, releases=[], receipts=[])
    for said in words:
        assert said in registry
    auditor = _page("auditor.html", lang, checkpoints=[], contributions=[], verdict=None,
                    consent_log={"size": 0, "root": "00" * 32, "anchor": None})  # fmt: skip
    assert ("暂无检查点" if lang == "zh" else "No checkpoint yet") in auditor
    officer = _page("officer.html", lang, pending=[], active=[], others=[], keys=[])
    assert ("暂无待审批的申请" if lang == "zh" else "No request awaits a decision") in officer
    assert 'id="inbox"' not in officer
