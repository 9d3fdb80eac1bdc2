"""The control plane: migrations match the models; `dexin admin` works beside the gateway."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dpop_support import ISSUER, TOKEN_PATH, ClientKey
from gateway_support import Actors, admin_cli, auth
from joserfc.jwk import ECKey

from governance.models import Base


def test_migrations_create_exactly_the_models(actors: Actors) -> None:
    engine = actors.http.app.state.gateway.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_admin_commands_work_while_the_gateway_runs(actors: Actors) -> None:
    if actors.world.schema is not None:  # the CLI takes DATABASE_URL only (no test schema)
        return
    made = admin_cli(actors, "create-client", "--role", "auditor", "--name", "cli-auditor",
                     "--json")  # fmt: skip
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


def test_a_bank_is_registered_with_its_public_key_only(actors: Actors, tmp_path: Path) -> None:
    """--generate-key writes the private key (0600) the bank keeps and registers only its
    public half; --jwks registers a key the bank generated itself; no bank gets a secret;
    a key is added beside the old one and the old one retired (a rotation)."""
    if actors.world.schema is not None:
        return
    made = admin_cli(actors, "create-client", "--role", "bank", "--name", "cli-bank",
                     "--generate-key", str(tmp_path / "keys"), "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    doc = json.loads(made.stdout)
    assert "client_secret" not in doc and len(doc["keys"]) == 1
    key_file = Path(doc["key_file"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    private = json.loads(key_file.read_text())["jwk"]
    registered = actors.control.keys.keys_at(doc["client_id"])
    assert [k.kid for k in registered] == doc["keys"] and "d" not in registered[0].jwk
    holder = ClientKey(doc["client_id"], ECKey.import_key(private))
    assert holder.fetch_token(actors.http)
    no_key = admin_cli(actors, "create-client", "--role", "bank", "--name", "keyless")
    assert no_key.returncode == 2 and "--jwks" in no_key.stderr
    fresh = ECKey.generate_key("P-256")
    jwks = tmp_path / "bank.jwks.json"
    jwks.write_text(json.dumps({"keys": [fresh.as_dict(private=False)]}))
    added = admin_cli(
        actors, "add-client-key", "--client-id", doc["client_id"], "--jwks", str(jwks)
    )
    assert added.returncode == 0, added.stderr
    retired = admin_cli(actors, "retire-client-key", "--client-id", doc["client_id"],
                        "--kid", doc["keys"][0])  # fmt: skip
    assert retired.returncode == 0, retired.stderr
    assert ClientKey(doc["client_id"], fresh).fetch_token(actors.http)
    r = actors.http.post("/v1/oauth/token", data=holder.token_form(),
                         headers={"DPoP": holder.proof("POST", ISSUER + TOKEN_PATH)})  # fmt: skip
    assert (r.status_code, r.json()["reason"]) == (401, "invalid_client")  # the retired key
    private_jwks = tmp_path / "private.jwks.json"
    private_jwks.write_text(json.dumps({"keys": [fresh.as_dict(private=True)]}))
    leaked = admin_cli(actors, "create-client", "--role", "bank", "--name", "leaky",
                       "--jwks", str(private_jwks))  # fmt: skip
    assert leaked.returncode == 2 and "private" in leaked.stderr
    assert fresh.as_dict(private=True)["d"] not in leaked.stderr
