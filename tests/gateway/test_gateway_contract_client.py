"""A client generated from the OpenAPI document (openapi-python-client) runs the score flow
against the gateway (issue 15 §1): a bank takes a DPoP-bound token and files an access
request, two officers approve it (the test helpers sign their votes with their passkeys), a
resident consents, and the bank gets the score, each through the generated functions.

The generator reads the document from a file and runs no formatter (``post_hooks`` empty);
the client it writes is imported from a temporary directory. Its requests go over loopback
to the session's app; a bank's carry a fresh DPoP proof from an httpx event hook."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from types import ModuleType
from typing import Any

import httpx
import pytest
from dpop_support import ASSERTION_TYPE, ClientKey
from gateway_support import Actors, computation_hash, later, served_on_port
from joserfc.jwk import ECKey
from openapi_python_client import generate
from openapi_python_client.config import Config, ConfigFile, MetaType

from governance.client_keys import public_key
from governance.credentials import Role

PACKAGE = "dexin_api_generated"


@pytest.fixture(scope="module")
def generated(app_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generated package's import name (its directory on ``sys.path`` meanwhile)."""
    root = tmp_path_factory.mktemp("generated")
    document = root / "openapi.json"
    document.write_text(json.dumps(app_client.get("/openapi.json").json()), encoding="utf-8")
    config = Config.from_sources(
        ConfigFile(post_hooks=[], package_name_override=PACKAGE),  # no formatter, no network
        MetaType.NONE,
        document,
        "utf-8",
        True,
        root / PACKAGE,
    )
    errors = [e for e in generate(config=config) if e.level.value == "error"]
    assert not errors, errors
    sys.path.insert(0, str(root))
    try:
        yield PACKAGE
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.startswith(PACKAGE)]:
            del sys.modules[name]


def api(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def operation(name: str) -> ModuleType:
    return api(f"api.default.{name}")


def dpop_hook(holder: ClientKey) -> Any:
    """An httpx request hook: a fresh DPoP proof of ``holder``'s key for each request (with
    ``ath`` once the request carries its token)."""

    def sign(request: httpx.Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        bound = token if scheme == "DPoP" else None
        request.headers["DPoP"] = holder.proof(request.method, str(request.url), bound)

    return sign


def test_a_generated_client_runs_the_score_flow(actors: Actors, generated: str) -> None:
    client_mod = api("client")
    models = api("models")
    key = ECKey.generate_key("P-256")
    made = actors.control.create_client(Role.BANK, "generated",
                                        [public_key(key.as_dict(private=False))])  # fmt: skip
    holder = ClientKey(made.client_id, key)
    with ExitStack() as stack:
        base = stack.enter_context(served_on_port(actors))
        signing = {"event_hooks": {"request": [dpop_hook(holder)]}}
        anonymous = stack.enter_context(client_mod.Client(base_url=base, httpx_args=signing))
        form = models.TokenForm.from_dict({
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": holder.assertion(audience=base),
        })  # fmt: skip
        token = operation("token_v1_oauth_token_post").sync(client=anonymous, body=form)
        assert isinstance(token, models.TokenPublic), token
        assert token.token_type == "DPoP"
        bank = stack.enter_context(client_mod.AuthenticatedClient(
            base_url=base, token=token.access_token, prefix="DPoP", httpx_args=signing
        ))  # fmt: skip

        actors.officers(2)  # an approval threshold of 2 needs two officers
        computations = operation("computations_v1_computations_get").sync(client=bank)
        score = next(c for c in computations if c.id == "morality_credit_score")
        assert score.hash_ == computation_hash(actors.http, "morality_credit_score")
        body = models.AccessRequestCreateMoralityCreditScore.from_dict({  # one class a computation
            "computation": score.id, "computation_hash": score.hash_,
            "purpose": "credit_assessment", "valid_until": later(days=30), "quota": 10,
        })  # fmt: skip
        filed = operation("create_v1_access_requests_post").sync_detailed(client=bank, body=body)
        assert filed.status_code == 201, filed.content
        request_id = filed.parsed.id

        for officer in actors.enrolled(2):  # their passkeys sign the votes (test helpers)
            assert actors.decide(officer, request_id, "approve").status_code == 200
        seen = operation("get_request_v1_access_requests_request_id_get").sync(
            request_id, client=bank
        )
        assert seen.status == "approved"

        id_number = actors.world.ids[90]
        resident = stack.enter_context(
            client_mod.AuthenticatedClient(base_url=base, token=actors.subject(id_number))
        )
        terms = {"bank": made.client_id, "purpose": "credit_assessment",
                 "expires_at": later(days=30)}  # fmt: skip
        consent = operation("give_v1_consents_post").sync(
            client=resident, body=models.ConsentCreate.from_dict(terms)
        )
        assert isinstance(consent, models.ConsentPublic), consent

        asked = models.ScoreRequest.from_dict({
            "id_number": id_number, "purpose": "credit_assessment",
            "access_request_id": request_id, "consent_id": consent.id,
        })  # fmt: skip
        answered = operation("score_v1_scores_post").sync_detailed(client=bank, body=asked)
        assert answered.status_code == 200, answered.content
        assert answered.parsed.bank == made.client_id
        assert answered.parsed.access_request_id == request_id

        again = operation("score_v1_scores_post").sync_detailed(
            client=anonymous, body=asked
        )  # the contract's problem model, parsed
        assert again.status_code == 401
        assert isinstance(again.parsed, models.Problem)
        assert again.parsed.type_ == "urn:dexin:problem:unauthenticated"
