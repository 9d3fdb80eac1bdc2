"""schemathesis over /openapi.json with all its checks (issue 15 §1): the document is the
contract, so every answer to a generated request, valid or not, anonymous or with a bank's
credentials, conforms to it: its status, media type, headers and body are documented, valid
data is accepted (or refused for who asks, never as malformed), invalid data is refused,
and authentication is enforced where declared.

schemathesis' pytest plugin does not run under pytest 9 here, so its Hypothesis strategies
are driven directly: a fixed seed (``derandomize``), a bounded number of examples, no
shrinking; each case is sent by schemathesis' own transport to the session's app served on a
loopback port (its probes for ignored authentication re-send requests there), and checked
with `Case.validate_response` and every registered check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import schemathesis
from dpop_support import ClientKey
from gateway_support import Actors, served_on_port
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from query_gateway.problems import REFUSALS_KEY
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from governance.credentials import Role

# examples per operation and mode (positive, negative): a bank's own operations are where
# its credentials reach the handler; elsewhere a bank meets 403, and anyone anonymous 401
EXAMPLES = {"own": 4, "other": 1, "anonymous": 1}


@dataclass(frozen=True)
class Caller:
    """Who sends the cases: ``role`` None is anonymous."""

    role: str | None
    auth: requests.auth.AuthBase | None = None

    def kind(self, operation: Any) -> str:
        spec = operation.definition.raw["x-dexin-policy"]
        if self.role is None:
            return "anonymous"
        return "own" if spec["public"] or self.role in spec["roles"] else "other"

    def headers(self) -> dict[str, str] | None:
        if isinstance(self.auth, BearerAuth):
            return {"Authorization": f"Bearer {self.auth.token}"}
        if isinstance(self.auth, DPoPAuth):
            return {"Authorization": f"DPoP {self.auth.holder.token}", "DPoP": "(at sending)"}
        return None


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class DPoPAuth(requests.auth.AuthBase):
    """A bank's or provider's token with a fresh DPoP proof of its key for each request."""

    def __init__(self, holder: ClientKey) -> None:
        self.holder = holder

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.holder.token
        request.headers["Authorization"] = f"DPoP {token}"
        request.headers["DPoP"] = self.holder.proof(str(request.method), str(request.url), token)
        return request


def all_checks() -> list[Callable[..., Any]]:
    load_all_checks()
    return [check for check in CHECKS.get_all() if not isinstance(check, type)]


# The run's configuration: every check on; a request body above the gateway's limit is refused
# with 413 before it is read, whatever it holds (RFC 9110 §15.5.14), so a negative case that
# large is refused as it must be.
CONFIG = """
[checks]
enabled = true

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422",
                     "428", "429", "5xx"]
"""


def documented_refusal(case: Any, response: Any, failure: Exception) -> bool:
    """A valid request's 422 whose reason the operation lists among its refusals on what
    JSON Schema cannot state (``x-dexin-refusals``: the present time, the log's size, a
    check digit, one field against another)."""
    if response.status_code != 422 or "Schema-valid request rejected" not in str(failure):
        return False
    return _reason_code(response) in case.operation.definition.raw.get(REFUSALS_KEY, ())


def _run(
    operation: Any, mode: GenerationMode, base: str, caller: Caller, failures: list[str]
) -> None:
    checks = all_checks()
    auth = caller.auth
    transport = {"base_url": base} | ({"auth": auth} if auth else {})

    # the credential is the caller's, never generated (nor made invalid in a negative case):
    # sent as it is (a bearer token) or replaced at sending with a fresh proof (DPoP)
    @given(case=operation.as_strategy(generation_mode=mode, headers=caller.headers()))
    @settings(
        max_examples=EXAMPLES[caller.kind(operation)],
        deadline=None,
        database=None,
        derandomize=True,  # the same cases each run: CI must not meet new ones by chance
        phases=[Phase.explicit, Phase.generate],  # a failure is reported, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base, auth=auth)
        try:
            case.validate_response(response, checks=checks, transport_kwargs=transport)
        except FailureGroup as group:
            who = caller.role or "anonymous"
            for failure in group.exceptions:
                if documented_refusal(case, response, failure):
                    continue
                title = str(failure).splitlines()[0]
                failures.append(f"{case.method} {case.path} [{mode.value}, {who}] "
                                f"{response.status_code} {_reason(response)}: {title}")  # fmt: skip

    try:
        run()
    except Unsatisfiable:  # nothing can be made invalid (no body; a path's free text)
        assert mode is GenerationMode.NEGATIVE and "requestBody" not in operation.definition.raw


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason_code(response: Any) -> str | None:
    reason = _problem(response).get("reason")
    return str(reason) if reason is not None else None


def _reason(response: Any) -> str:
    body = _problem(response)
    return f"{body.get('reason', '-')} {body.get('errors', '')}"


def _callers(actors: Actors) -> list[Caller]:
    """Anonymous, a bank, and one caller of each other role (each with its own examples on
    the operations its role may call)."""
    resident = actors.subject(actors.world.ids[91])
    return [
        Caller(None),
        Caller("bank", DPoPAuth(actors.keyed(Role.BANK))),
        Caller("provider", DPoPAuth(actors.keyed(Role.PROVIDER, "court"))),
        Caller("officer", BearerAuth(actors.token(Role.OFFICER)[1])),
        Caller("auditor", BearerAuth(actors.token(Role.AUDITOR)[1])),
        Caller("admin", BearerAuth(actors.token(Role.ADMIN)[1])),
        Caller("subject", BearerAuth(resident)),
    ]


def test_the_gateway_keeps_its_contract(actors: Actors) -> None:
    callers = _callers(actors)
    document = actors.http.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_str(CONFIG))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50
    failures: list[str] = []
    with served_on_port(actors) as served:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for caller in callers:
                    if caller.role in (None, "bank") or caller.kind(operation) == "own":
                        _run(operation, mode, served, caller, failures)
    assert not failures, "\n".join(sorted(set(failures)))
