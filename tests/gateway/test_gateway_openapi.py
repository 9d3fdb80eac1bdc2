"""A property-based run over /openapi.json (schemathesis): no input makes the gateway fail
with a 5xx, anonymous or authenticated."""

from __future__ import annotations

from typing import Any

import schemathesis
from gateway_support import Actors, auth
from hypothesis import HealthCheck, given, settings

from governance.credentials import Role

EXAMPLES = 12


def _tokens(actors: Actors) -> dict[str, str]:
    return {
        "bank": actors.token(Role.BANK)[1],
        "officer": actors.token(Role.OFFICER)[1],
        "provider": actors.token(Role.PROVIDER, "court")[1],
        "subject": actors.subject(actors.world.ids[40]),
    }


def _role_for(path: str) -> str:
    if path.startswith(("/v1/consents", "/v1/me")):
        return "subject"
    if "/votes" in path or path.endswith("/revoke"):
        return "officer"
    if path.startswith("/v1/contributions"):
        return "provider"
    return "bank"


def _httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """requests-style keyword arguments → httpx's."""
    out = {
        k: v
        for k, v in kwargs.items()
        if k in ("method", "url", "headers", "params", "json", "files") and v is not None
    }
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    return out


def test_no_input_gives_a_server_error(actors: Actors) -> None:
    """Every operation, anonymous and with a token of the role it is meant for.

    schemathesis' pytest plugin does not run under pytest 9 here, so its Hypothesis
    strategies are driven directly."""
    tokens = _tokens(actors)
    # from_dict, not from_asgi: schemathesis' ASGI transport would run the app's lifespan
    # again (a second gateway); the cases are sent through the session's client instead.
    schema = schemathesis.openapi.from_dict(actors.http.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:
        headers = auth(tokens[_role_for(operation.path)])

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases each run: CI must not meet new ones by chance
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            for extra in ({}, headers):  # noqa: B023 (run() is called in this iteration)
                kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=extra)
                response = actors.http.request(**_httpx(kwargs))
                assert response.status_code < 500, (case.method, case.path, response.status_code)
                if response.status_code >= 400:
                    assert "application/problem+json" in str(response.headers["content-type"])

        run()
