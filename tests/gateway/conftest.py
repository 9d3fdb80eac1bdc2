"""The gateway over a real vault (a tiny synthetic Yuyao) and a real embedded ledger.

One vault, ledger and gateway per test session (building them costs seconds); every test
makes its own clients, so tests do not see each other's approvals or consents. The control
plane is SQLite, or PostgreSQL when ``DEXIN_TEST_DATABASE_URL`` names one: then a fresh
schema is created for the run and dropped after it, so parallel runs do not collide.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway_support import Actors, TestClient, World, open_world
from query_gateway.app import create_app

from governance.control import ControlPlane
from governance.db import open_engine, session_factory


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(tmp_path_factory.mktemp("gateway")) as built:
        yield built


@pytest.fixture(scope="session")
def app_client(world: World) -> Iterator[TestClient]:
    app = create_app(world.settings, world.components())
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="session")
def control(world: World, app_client: TestClient) -> Iterator[ControlPlane]:
    engine = open_engine(world.database_url, schema=world.schema)
    yield ControlPlane(session_factory(engine))
    engine.dispose()


@pytest.fixture
def actors(app_client: TestClient, control: ControlPlane, world: World) -> Actors:
    return Actors(app_client, control, world)
