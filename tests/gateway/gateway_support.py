"""Helpers the gateway tests import by name (a module with a unique name: importing from
``conftest`` breaks as soon as another test folder has a conftest of its own)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow.parquet as pq
from dpop_support import ClientKey, bind, sign_bound_requests
from dpop_support import signed as signed  # the tests sign contributions with it
from joserfc.jwk import ECKey
from query_gateway.app import Components
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from credit_model.spec import load_spec
from dexin.admin import subject_token
from dexin.app import open_ledger, open_vault, vault_config
from dexin.keys import key_provider
from dexin.officer_key import SoftwareKey, decide, enrol
from dexin.settings import Settings
from governance.anchoring import anchor_pending
from governance.client_keys import public_key
from governance.control import ControlPlane
from governance.credentials import KEYED_ROLES, Principal, Role, issue_token
from governance.db import normalise_url
from governance.model_runs import score_all
from governance.passkeys import create_invite
from synthetic import generate
from vault.ingest import ingest_file
from vault.registry import load_registry
from vault.store import Vault

with warnings.catch_warnings():
    # Starlette 1.10 deprecates running its test client on httpx (it wants httpx2); the
    # gateway's own client is built on httpx, so we keep one HTTP library in the tests.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`", UserWarning)
    from starlette.testclient import TestClient as StarletteTestClient


class TestClient(StarletteTestClient):
    """Starlette's test client, whose requests that carry a bank's or provider's token are
    signed with a DPoP proof of its key (`dpop_support`)."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sign_bound_requests(self)


@dataclass
class Officer:
    """An officer client with its bearer token and the software key it enrolled (the key's
    sign counter advances with every decision)."""

    client_id: str
    token: str
    key: SoftwareKey
    issued: float = field(default_factory=time.monotonic)  # when ``token`` was issued


@dataclass
class World:
    settings: Settings  # with the gateway's section for this world (database, limits)
    vault: Vault
    ledger: Any
    ids: list[str]  # raw ID numbers of synthetic residents (test-side knowledge only)
    database_url: str
    schema: str | None
    officer_pool: list[Officer] = dataclasses.field(default_factory=list)  # enrolled once

    def with_gateway(self, **changes: Any) -> Settings:
        """The world's settings with some of the gateway's section changed."""
        return dataclasses.replace(
            self.settings, gateway=dataclasses.replace(self.settings.gateway, **changes)
        )

    def components(self, **kw: Any) -> Components:
        return Components(vault=self.vault, ledger=self.ledger, schema=self.schema, **kw)

    def database_env(self) -> str:
        """The control plane's URL as ``DATABASE_URL`` for a CLI (with the test's schema)."""
        if self.schema is None:
            return self.database_url
        return f"{self.database_url}?options={quote(f'-csearch_path={self.schema}')}"


class Actors:
    """Makes clients and tokens for a test; every call registers fresh ones."""

    def __init__(self, client: TestClient, control: ControlPlane, world: World) -> None:
        self.http = client
        self.control = control
        self.world = world

    def token(self, role: Role, name: str = "test") -> tuple[str, str]:
        """(client_id, access token) of a new client with ``role``. A bank or provider gets
        a key of its own and a DPoP-bound token: this client's requests that carry it are
        signed with DPoP proofs by `ClientKey` (joserfc, not the gateway's code)."""
        if role is Role.SUBJECT:
            raise ValueError("use subject()")
        if role in KEYED_ROLES:
            holder = self.keyed(role, name)
            return holder.client_id, holder.token
        made = self.control.create_client(role, name)
        r = self.http.post(
            "/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": made.client_id,
                "client_secret": made.client_secret,
            },
        )
        assert r.status_code == 200, r.text
        return made.client_id, r.json()["access_token"]

    def keyed(self, role: Role, name: str = "test") -> ClientKey:
        """A new bank or provider holding its own key, with a DPoP-bound token (the key
        also signs the requests of this test client that carry the token)."""
        key = ECKey.generate_key("P-256")
        made = self.control.create_client(role, name, [public_key(key.as_dict(private=False))])
        holder = ClientKey(made.client_id, key, name=name)
        holder.token = holder.fetch_token(self.http)
        bind(self.http, holder)
        return holder

    def keyed_from_file(self, key_file: Path) -> ClientKey:
        """The bank or provider of a key file (as ``dexin admin create-client --generate-key``
        writes it), signed in through this test client."""
        doc = json.loads(key_file.read_text(encoding="utf-8"))
        holder = ClientKey(doc["client_id"], ECKey.import_key(doc["jwk"]))
        holder.token = holder.fetch_token(self.http)
        bind(self.http, holder)
        return holder

    def written_behind(self, request_id: str | None = None, consent_id: str | None = None) -> None:
        """After a test wrote a row directly (to move a clock or tamper), drop the running
        gateway's snapshot of it, as `ControlPlane.forget` documents."""
        self.http.app.state.gateway.control.forget(request_id, consent_id)  # type: ignore[attr-defined]

    def subject(self, id_number: str) -> str:
        return subject_token(self.world.settings, id_number, 300).access_token

    def officers(self, n: int = 2) -> list[str]:
        """Tokens of ``n`` fresh officer clients (no key: they cannot decide anything)."""
        return [self.token(Role.OFFICER, f"officer-{i}")[1] for i in range(n)]

    def officer(self, name: str = "officer") -> Officer:
        """A fresh officer who enrolled a software key through a one-time invite."""
        client_id, token = self.token(Role.OFFICER, name)
        invite = create_invite(self.control.sessions, client_id, "admin-test")
        return Officer(client_id, token, enrol(self.http, invite))

    def enrolled(self, n: int = 2) -> list[Officer]:
        """``n`` officers with keys, enrolled once per world and shared by its tests."""
        pool = self.world.officer_pool
        while len(pool) < n:
            pool.append(self.officer(f"officer-key-{len(pool)}"))
        for officer in pool[:n]:  # a slow run outlives a token (DEXIN_TOKEN_TTL): renew it
            if time.monotonic() - officer.issued > 300:
                officer.token = self.renewed(officer.client_id)
                officer.issued = time.monotonic()
        return pool[:n]

    def renewed(self, client_id: str) -> str:
        """A fresh access token for an existing officer client, sealed with the gateway's
        token key as the token endpoint would (its secret is not kept)."""
        gateway = self.http.app.state.gateway  # type: ignore[attr-defined]
        principal = Principal(role=Role.OFFICER, client_id=client_id)
        return issue_token(gateway.keys.token_key, principal, gateway.settings.token_ttl)

    def decide(self, officer: Officer, rid: str, decision: str) -> Any:
        """``officer`` signs ``decision`` (approve, reject, revoke) on ``rid`` with its key,
        as `dexin officer vote` does; the gateway's response."""
        officer.key, response = decide(self.http, officer.key, officer.token, rid, decision)
        return response

    def approved(self, bank: str, computation: str = "morality_credit_score", **extra: Any) -> str:
        """File a request as ``bank`` and approve it with two officers' signed votes."""
        rid = self.file(bank, computation, **extra)
        for officer in self.enrolled(2):
            r = self.decide(officer, rid, "approve")
            assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved"
        return rid

    def file(self, bank: str, computation: str = "morality_credit_score", **extra: Any) -> str:
        self.officers(2)  # m = 2 needs at least two officers
        body = request_body(self.http, computation, **extra)
        r = self.http.post("/v1/access-requests", json=body, headers=auth(bank))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def consent(
        self,
        subject_token: str,
        bank_id: str,
        purpose: str = "credit_assessment",
        computations: list[str] | None = None,
    ) -> str:
        """A consent of the subject to the bank (covering ``computations``; by default the
        gateway's: the person-level computations)."""
        body: dict[str, Any] = {"bank": bank_id, "purpose": purpose, "expires_at": later(days=30)}
        if computations is not None:
            body["computations"] = computations
        r = self.http.post("/v1/consents", headers=auth(subject_token), json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def auth(token: str) -> dict[str, str]:
    """The header of ``token``; for a DPoP-bound token of a `ClientKey` the test client
    rewrites it as ``DPoP <token>`` and adds the proof (`bind`)."""
    return {"Authorization": f"Bearer {token}"}


def later(**delta: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**delta)).isoformat().replace("+00:00", "Z")


def score_body(
    id_number: str, access_request_id: str, consent_id: str, purpose: str = "credit_assessment"
) -> dict[str, str]:
    """The body of ``POST /v1/scores``."""
    return {
        "id_number": id_number,
        "purpose": purpose,
        "access_request_id": access_request_id,
        "consent_id": consent_id,
    }


def computation_hash(http: TestClient, computation: str) -> str:
    catalogue = http.app.state.gateway.catalogue  # type: ignore[attr-defined]
    return str(catalogue.get(computation).hash)


def request_body(http: TestClient, computation: str, **extra: Any) -> dict[str, Any]:
    aggregate = computation.startswith(("grade_", "negative_"))
    body: dict[str, Any] = {
        "computation": computation,
        "computation_hash": computation_hash(http, computation),
        "purpose": "statistics" if aggregate else "credit_assessment",
        "valid_until": later(days=365),
        "quota": 1000,
    }
    if aggregate:
        body["epsilon"] = 1.0
    body.update(extra)
    return body


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


@contextmanager
def open_world(tmp: Path) -> Iterator[World]:
    """A fresh data directory with a tiny synthetic Yuyao ingested and scored, its vault and
    ledger open, and a control-plane database (modules that change global ledger state, such
    as the witness set, build their own)."""
    env = {
        "DEXIN_HOME": str(tmp / "home"),
        "DEXIN_MASTER_KEY": secrets.token_hex(32),
        "DEXIN_AS_OF": "2026-11-01",
        "DEXIN_MEMORY_LIMIT": "1GB",
        "DEXIN_UNSAFE_DEV_IDENTITY": "1",  # these tests sign residents in by ID number
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
        anchor_pending(ledger, vault)  # as every ingest path does: roots on the ledger
        score_all(
            vault,
            load_spec(registry=vault.registry),
            computed_at=dt.datetime.now(dt.UTC),
            release=None,
        )
        gateway = dataclasses.replace(
            settings.gateway,
            database_url=url,
            approval_threshold=2,
            rate_limit=1000,
            rate_burst=1000,
        )
        world_settings = dataclasses.replace(settings, gateway=gateway)
        yield World(world_settings, vault, ledger, ids, url, schema)
    drop()


def admin_cli(actors: Actors, *args: str) -> subprocess.CompletedProcess[str]:
    """`dexin admin …` in another process, while this one holds the vault and ledger open."""
    world = actors.world
    env = os.environ | {
        "DEXIN_HOME": str(world.settings.home),
        "DATABASE_URL": world.database_env(),  # with the test run's schema on PostgreSQL
        "DEXIN_UNSAFE_DEV_IDENTITY": "1",
        "DEXIN_MASTER_KEY": world.settings.master_key_hex or "",
    }
    code = (
        "import sys, typer; from dexin.admin_cli import app; "
        "sys.argv = ['dexin-admin', *sys.argv[1:]]; app()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )


@contextmanager
def served_on_port(actors: Actors) -> Iterator[str]:
    """The session's app on a real loopback port (its lifespan already ran under the test
    client), for a CLI in another process."""
    import threading
    import time

    import uvicorn

    from ledger.testing import free_port

    port = free_port()
    config = uvicorn.Config(actors.http.app, host="127.0.0.1", port=port, lifespan="off",
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def dexin_cli(group: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``dexin GROUP ARGS`` in another process, with this process's environment."""
    code = "import sys; from dexin.cli import app; sys.argv = ['dexin', *sys.argv[1:]]; app()"
    return subprocess.run([sys.executable, "-c", code, group, *args], capture_output=True,
                          text=True, timeout=120, env=os.environ.copy())  # fmt: skip


PG_URL = os.environ.get("DEXIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def postgres_reachable(url: str = PG_URL) -> bool:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def needs_postgres() -> Any:
    """The mark of a test module that needs PostgreSQL (several workers on one database): a
    skip naming why, only when it cannot be reached (it is here and in CI)."""
    import pytest

    return pytest.mark.skipif(not postgres_reachable(),
                              reason=f"PostgreSQL is not reachable at {PG_URL} (issue 16 §2)")  # fmt: skip
