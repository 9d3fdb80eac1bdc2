"""The control plane: migrations match the models; `dexin admin` works beside the gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from gateway_support import Actors, auth
from query_gateway.models import Base


def test_migrations_create_exactly_the_models(actors: Actors) -> None:
    engine = actors.http.app.state.gateway.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def _admin(actors: Actors, *args: str) -> subprocess.CompletedProcess[str]:
    """`dexin admin …` in another process, while this one holds the vault and ledger open."""
    world = actors.world
    env = os.environ | {
        "DEXIN_HOME": str(world.settings.home),
        "DATABASE_URL": world.database_url,
        "DEXIN_MASTER_KEY": world.settings.master_key_hex or "",
    }
    code = (
        "import sys, typer; from dexin.admin_cli import app; "
        "sys.argv = ['dexin-admin', *sys.argv[1:]]; app()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_admin_commands_work_while_the_gateway_runs(actors: Actors) -> None:
    if actors.world.schema is not None:  # the CLI takes DATABASE_URL only (no test schema)
        return
    made = _admin(actors, "create-client", "--role", "bank", "--name", "cli-bank", "--json")
    assert made.returncode == 0, made.stderr
    doc = json.loads(made.stdout)
    assert set(doc) == {"client_id", "client_secret", "role", "name"}
    r = actors.http.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": doc["client_id"],
            "client_secret": doc["client_secret"],
        },
    )
    assert (
        r.status_code == 200 and r.json()["token_type"] == "Bearer" and r.json()["expires_in"] > 0
    )
    id_number = actors.world.ids[50]
    token = _admin(actors, "subject-token", "--id-number", id_number)
    assert token.returncode == 0, token.stderr
    assert actors.http.get("/v1/consents", headers=auth(token.stdout.strip())).status_code == 200
    bad = _admin(actors, "subject-token", "--id-number", id_number[:17] + "Y")
    assert bad.returncode == 2 and id_number[:17] not in bad.stderr
    refused = _admin(actors, "create-client", "--role", "provider", "--name", "nobody")
    assert refused.returncode == 2
    listed = _admin(actors, "list-clients")
    assert doc["client_id"] in listed.stdout and doc["client_secret"] not in listed.stdout
