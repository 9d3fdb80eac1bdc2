"""Issue 13, finding 9: the dashboards' release is paid once from a recorded budget.

The attack: restart the gateway and open the dashboards again, as often as one likes; each
start used to release the grade distribution anew at ε = 1, outside any budget, so averaging
the pages removed the noise. Now the release is kept on disk and shown again (same numbers,
ε spent once, recorded in the audit log); a lost file is not a new budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import Actors, TestClient, World, auth, open_world
from query_gateway.app import create_app
from query_gateway.console.publications import (
    DASHBOARD_BUDGET,
    PUBLISH_ACTION,
    PUBLISH_EPSILON,
    spent_on_dashboards,
)

from audit.entry import decode_entry
from audit.reader import LogReader
from governance.control import ControlPlane
from governance.credentials import Role
from governance.db import open_engine, session_factory

HTML = {"accept": "text/html"}
GRADES = re.compile(r'<section class="card wide" id="dash-grades">.*?</section>', re.S)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(tmp_path_factory.mktemp("dashboards")) as built:
        yield built


def _grades_after_a_start(world: World) -> str:
    """Start the gateway, open the dashboards as an officer, stop it; the grades section."""
    engine = open_engine(world.database_url, schema=world.schema)
    try:
        app = create_app(world.settings, world.components())
        with TestClient(app, raise_server_exceptions=False) as http:
            actors = Actors(http, ControlPlane(session_factory(engine)), world)
            _, officer = actors.token(Role.OFFICER)
            page = http.get("/console/dashboards", headers=auth(officer) | HTML)
            assert page.status_code == 200, page.text[:300]
    finally:
        engine.dispose()
    found = GRADES.search(page.text)
    assert found is not None
    return found.group(0)


def _publications(world: World) -> list[dict[str, str]]:
    with LogReader(world.settings.audit_dir) as reader:
        entries = [decode_entry(d)[1] for d in reader.entries()]
    return [e.parameters_value or {} for e in entries if e.action == PUBLISH_ACTION]


def _kept(world: World) -> Path:
    return world.settings.home / "console" / "published" / "grades.json"


def test_restarts_show_the_same_release_and_spend_its_budget_once(world: World) -> None:
    pages = [_grades_after_a_start(world) for _ in range(3)]  # start, restart, restart
    assert pages[0] == pages[1] == pages[2]
    assert "<svg" in pages[0] and f"({PUBLISH_EPSILON} / {DASHBOARD_BUDGET})" in pages[0]
    assert _publications(world) == [{"epsilon": str(PUBLISH_EPSILON), "min_cell": "10"}]
    assert spent_on_dashboards(world.settings.audit_dir) == PUBLISH_EPSILON
    assert _kept(world).stat().st_mode & 0o777 == 0o644


def test_a_lost_release_is_paid_again_until_the_budget_is_spent(world: World) -> None:
    spent = spent_on_dashboards(world.settings.audit_dir)
    while spent + PUBLISH_EPSILON <= DASHBOARD_BUDGET:
        _kept(world).unlink()  # the operator deletes the kept release
        _grades_after_a_start(world)
        assert spent_on_dashboards(world.settings.audit_dir) == spent + PUBLISH_EPSILON
        spent += PUBLISH_EPSILON
    _kept(world).unlink()
    page = _grades_after_a_start(world)  # the budget is spent: nothing new is released
    assert "<svg" not in page and f"({spent} / {DASHBOARD_BUDGET})" in page
    assert not _kept(world).exists()
    assert len(_publications(world)) == int(DASHBOARD_BUDGET / PUBLISH_EPSILON)
