"""The control plane: migrations match the models; `dexin admin` works beside the gateway."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from gateway_support import Actors, admin_cli, auth

from governance.models import Base


def test_migrations_create_exactly_the_models(actors: Actors) -> None:
    engine = actors.http.app.state.gateway.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_admin_commands_work_while_the_gateway_runs(actors: Actors) -> None:
    if actors.world.schema is not None:  # the CLI takes DATABASE_URL only (no test schema)
        return
    made = admin_cli(actors, "create-client", "--role", "bank", "--name", "cli-bank", "--json")
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
    token = admin_cli(actors, "subject-token", "--id-number", id_number)
    assert token.returncode == 0, token.stderr
    assert actors.http.get("/v1/consents", headers=auth(token.stdout.strip())).status_code == 200
    bad = admin_cli(actors, "subject-token", "--id-number", id_number[:17] + "Y")
    assert bad.returncode == 2 and id_number[:17] not in bad.stderr
    refused = admin_cli(actors, "create-client", "--role", "provider", "--name", "nobody")
    assert refused.returncode == 2
    listed = admin_cli(actors, "list-clients")
    assert doc["client_id"] in listed.stdout and doc["client_secret"] not in listed.stdout
