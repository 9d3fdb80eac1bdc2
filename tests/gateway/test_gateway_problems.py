"""One table maps every error the API answers to its RFC 9457 problem (issue 12).

The governance core's refusals carry no HTTP; the table in ``query_gateway/problems.py`` holds
each class's type, status, title and detail, and answers other core packages' errors too, so
no route catches them to re-raise: the vault's `InvalidIdNumber`, a ledger node that is down
(a real anvil, stopped), a witness flooding the cosignature queue.
"""

from __future__ import annotations

import base64
import inspect
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from gateway_support import Actors, World, auth, open_world
from query_gateway.app import create_app
from query_gateway.problems import PROBLEMS

from audit.pending import MAX_PER_WITNESS
from audit.witness import Witness
from dexin.app import Components, load_or_create_log_key
from governance import errors as governance_errors
from governance.anchoring import register_witness
from governance.control import ControlPlane
from governance.credentials import Role
from governance.db import open_engine, session_factory
from ledger import LedgerConfig, open_ledger
from ledger.testing import UNSAFE_ANVIL_DEV_KEY, run_anvil

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`", UserWarning)
    from starlette.testclient import TestClient

API_DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
REFUSALS = [
    cls
    for _, cls in inspect.getmembers(governance_errors, inspect.isclass)
    if issubclass(cls, governance_errors.GatewayError)
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda cls: cls.__name__)
def test_every_refusal_has_its_problem_and_carries_no_http(refusal: type[Exception]) -> None:
    assert refusal in PROBLEMS
    assert not {"status", "title", "detail", "code", "type_uri"} & set(vars(refusal))


def _documented() -> set[tuple[str, int]]:
    """(type code, status) pairs of docs/api.md's error table."""
    pairs = set()
    for types, statuses in re.findall(r"^\| (`[a-z-]+`(?:, `[a-z-]+`)*)[^|]* \| ([\d, ]+) \|",
                                      API_DOC, re.M):  # fmt: skip
        codes = re.findall(r"`([a-z-]+)`", types)
        numbers = [int(n) for n in statuses.split(",")]
        if len(numbers) == 1:  # one status for every type of the row
            numbers *= len(codes)
        pairs |= set(zip(codes, numbers, strict=True))
    return pairs


def test_the_table_answers_what_the_api_guide_documents() -> None:
    documented = _documented()
    assert len(documented) >= 15
    assert documented <= {(p.code, p.status) for p in PROBLEMS.values()}


def test_a_malformed_id_number_at_the_console_is_the_vault_s_error_mapped_once(
    actors: Actors,
) -> None:
    browser = TestClient(actors.http.app, raise_server_exceptions=False)
    page = browser.get("/console/login", headers={"accept": "text/html"})
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    form = {"id_number": "33029119800315011X", "csrf": token.group(1)}  # bad check digit
    r = browser.post("/console/login/subject", data=form)
    assert (r.status_code, r.json()["type"]) == (422, "urn:dexin:problem:invalid-id-number")
    assert r.json()["reason"] == "invalid_id_number" and "33029119800315011" not in r.text
    html = browser.post("/console/login/subject", data=form, headers={"accept": "text/html"})
    assert html.status_code == 422 and "33029119800315011" not in html.text
    browser.close()


@dataclass
class OnAnvil:
    http: TestClient
    actors: Actors
    world: World
    witness: Witness
    stack: ExitStack


@pytest.fixture(scope="module")
def on_anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnAnvil]:
    """A gateway whose ledger is a JSON-RPC node (anvil) with one registered witness."""
    tmp = tmp_path_factory.mktemp("problems")
    with ExitStack() as stack, open_world(tmp) as world:
        url = stack.enter_context(run_anvil())
        config = LedgerConfig(backend="jsonrpc", rpc_url=url, data_dir=tmp / "anvil",
                              key_secret=os.urandom(32), funding_key=UNSAFE_ANVIL_DEV_KEY)  # fmt: skip
        ledger = open_ledger(config)
        witness = Witness.init(tmp / "w1", "w1", load_or_create_log_key(world.settings).verifier())
        register_witness(ledger, witness.public, witness.proof_of_possession())
        parts = Components(vault=world.vault, ledger=ledger, schema=world.schema)
        app = create_app(world.with_gateway(witness_interval=0), parts)
        engine = open_engine(world.database_url, schema=world.schema)
        with TestClient(app, raise_server_exceptions=False) as http:
            actors = Actors(http, ControlPlane(session_factory(engine)), world)
            yield OnAnvil(http, actors, world, witness, stack)
        engine.dispose()
        ledger.close()


def test_a_witness_flooding_the_queue_is_refused_from_the_table(on_anvil: OnAnvil) -> None:
    _, auditor = on_anvil.actors.token(Role.AUDITOR)
    on_anvil.http.get("/v1/keys")  # an entry, then a checkpoint over it
    signed = on_anvil.http.app.state.gateway.audit.log.checkpoint_now()  # type: ignore[attr-defined]
    size = signed.checkpoint.size
    vkey = on_anvil.witness.public.vkey()
    statuses = []
    for n in range(MAX_PER_WITNESS + 1):  # garbage signatures: only the round checks them
        body = {"witness": vkey, "size": size, "signature": _signature(n)}
        r = on_anvil.http.post("/v1/audit/cosignatures", json=body, headers=auth(auditor))
        statuses.append(r.status_code)
    assert statuses == [202] * MAX_PER_WITNESS + [409]
    assert (r.json()["type"], r.json()["reason"]) == (
        "urn:dexin:problem:conflict",
        "too_many_pending_cosignatures",
    )


def test_a_ledger_node_that_is_down_is_a_503_from_the_table(on_anvil: OnAnvil) -> None:
    assert on_anvil.http.get("/v1/audit/witnesses").status_code == 200
    on_anvil.stack.close()  # stops anvil
    r = on_anvil.http.get("/v1/audit/witnesses")
    assert (r.status_code, r.json()["type"]) == (503, "urn:dexin:problem:service-unavailable")
    assert r.json()["reason"] == "ledger_unavailable" and "127.0.0.1" not in r.text


def _signature(n: int) -> str:
    return base64.b64encode(bytes([n]) * 96).decode()
