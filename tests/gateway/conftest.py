"""The gateway over a real vault (a tiny synthetic Yuyao) and a real embedded ledger.

One vault, ledger and gateway per test session (building them costs seconds); every test
makes its own clients, so tests do not see each other's approvals or consents. The control
plane is SQLite, or PostgreSQL when ``DEXIN_TEST_DATABASE_URL`` names one: then a fresh
schema is created for the run and dropped after it, so parallel runs do not collide.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from gateway_support import Actors, TestClient, World
from query_gateway.app import create_app
from query_gateway.audit_sink import JsonlAuditSink
from query_gateway.control import ControlPlane
from query_gateway.db import normalise_url, open_engine, session_factory
from query_gateway.settings import GatewaySettings
from sqlalchemy import create_engine, text

from credit_model.spec import load_spec
from dexin.app import open_ledger, open_vault, vault_config
from dexin.keys import key_provider
from dexin.scoring import score_all
from dexin.settings import Settings
from dexin.synthetic import generate
from vault.ingest import ingest_file
from vault.registry import load_registry
from vault.store import Vault

INGESTED = [
    ("public_security", "residents"),
    ("market_regulation", "administrative_penalties"),
    ("court", "criminal_judgments"),
    ("traffic_police", "traffic_violations"),
]


def _database(tmp: Path) -> tuple[str, str | None, Callable[[], None]]:
    url = os.environ.get("DEXIN_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'control.sqlite'}", None, lambda: None
    schema = f"gw_{secrets.token_hex(6)}"
    admin = create_engine(normalise_url(url))
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url, schema, drop


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("gateway")
    env = {
        "DEXIN_HOME": str(tmp / "home"),
        "DEXIN_MASTER_KEY": secrets.token_hex(32),
        "DEXIN_AS_OF": "2026-11-01",
        "DEXIN_MEMORY_LIMIT": "1GB",
    }
    settings = Settings.from_env(env)
    generate(tmp / "data", 0.002, 0, "parquet")
    ids = (
        pq.read_table(tmp / "data/public_security/residents.parquet")
        .column("id_number")
        .to_pylist()
    )
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    url, schema, drop = _database(tmp)
    with open_vault(settings) as vault, open_ledger(settings) as ledger:
        for provider, table in INGESTED:
            ingest_file(vault, provider, table, tmp / "data" / provider / f"{table}.parquet")
        score_all(
            vault,
            load_spec(registry=vault.registry),
            computed_at=dt.datetime.now(dt.UTC),
            release=None,
        )
        gateway = GatewaySettings(
            database_url=url,
            audit_path=tmp / "audit.jsonl",
            approval_threshold=2,
            rate_limit=1000,
            rate_burst=1000,
        )
        yield World(settings, gateway, vault, ledger, ids, url, schema)
    drop()


@pytest.fixture(scope="session")
def app_client(world: World) -> Iterator[TestClient]:
    app = create_app(world.settings, world.gateway_settings, world.components())
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


@pytest.fixture
def jsonl_sink(tmp_path: Path) -> Iterator[JsonlAuditSink]:
    sink = JsonlAuditSink(tmp_path / "audit.jsonl")
    yield sink
    sink.close()
