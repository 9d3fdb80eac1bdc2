"""Fixtures of the browser tests: one tiny demo served for the session, one Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import ARTIFACTS, FLAGS, Served, build_demo, require_chromium, serve


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env, people = build_demo(tmp_path_factory.mktemp("e2e") / "home")
    for url in serve(env):
        yield Served(url, people, env)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        executable = require_chromium()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    yield context.new_page()
    context.close()
