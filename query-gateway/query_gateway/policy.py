"""Every route declares its policy; `PolicedRoute` enforces it before anything else runs.

A route is registered with ``openapi_extra={"x-dexin-policy": policy(...)}``. `PolicedRoute`
refuses to build a route that declares none (fail closed at import time), and wraps the
handler so that authentication, the rate limit and the role check happen before the body
is read or validated: an anonymous or wrong-role caller learns nothing about the body's
schema. The principal is then in ``request.state.principal``.

Every request is rate limited (`rate_limit`), whoever sends it: an authenticated one by its
client (or subject), whether a bearer token or a console session cookie carried it; an
anonymous one, or one whose credential does not open, by its client address.

A bank's or provider's token is bound to its key (issue 17, RFC 9449): it is presented as
``Authorization: DPoP <token>`` with one ``DPoP`` proof of that key for this very request
(`prove_possession`), whose ``htu`` is the request's URL as clients address the gateway:
``DEXIN_PUBLIC_URL`` (behind a proxy) or the scheme and host the request arrived with, and
the path. A keyed client's token without its proof, a token bound to one key with another
key's proof, or any credential of a keyed client in a session cookie is refused with 401
``invalid_dpop_proof``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute

from governance import (
    KEYED_ROLES,
    GatewaySettings,
    InvalidDPoPProof,
    Principal,
    RateLimited,
    Role,
    Unauthenticated,
    WrongRole,
    open_token,
    verify_proof,
)
from query_gateway.problems import UnsupportedBody

POLICY_KEY = "x-dexin-policy"
PUBLIC = "public"


@dataclass(frozen=True)
class Policy:
    """``roles``: who may call; empty with ``public`` means anyone, even anonymous.
    ``errors``: the statuses the route answers besides those its policy and shape imply
    (`query_gateway.openapi.statuses` documents them all)."""

    roles: frozenset[Role]
    public: bool = False
    errors: frozenset[int] = frozenset()

    def doc(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"public": self.public, "roles": sorted(r.value for r in self.roles)}
        if self.errors:
            spec["errors"] = sorted(self.errors)
        return {POLICY_KEY: spec}


def policy(*roles: Role, errors: Iterable[int] = ()) -> dict[str, Any]:
    if not roles:
        raise ValueError("a policy names at least one role; use public() for open routes")
    return Policy(frozenset(roles), errors=frozenset(errors)).doc()


def public(errors: Iterable[int] = ()) -> dict[str, Any]:
    return Policy(frozenset(), public=True, errors=frozenset(errors)).doc()


def declared(path: str, openapi_extra: dict[str, Any] | None) -> Policy:
    """The policy a route declares in its OpenAPI extension; refuses a route without one."""
    spec = (openapi_extra or {}).get(POLICY_KEY)
    if not isinstance(spec, dict):
        raise RuntimeError(f"route {path} declares no policy")
    return Policy(frozenset(Role(r) for r in spec["roles"]), public=bool(spec["public"]),
                  errors=frozenset(int(e) for e in spec.get("errors", ())))  # fmt: skip


class PolicedRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.policy = declared(path, kwargs.get("openapi_extra"))
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        route_policy = self.policy
        accepted = body_types(self)

        async def guarded(request: Request) -> Response:
            gateway = request.app.state.gateway
            if gateway.control.shared:  # rate bucket, used proof ids: PostgreSQL round trips
                request.state.principal = await anyio.to_thread.run_sync(
                    authorize, request, route_policy, gateway
                )
            else:  # one process: all in memory, no thread hand-off
                request.state.principal = authorize(request, route_policy, gateway)
            if accepted:
                check_media_type(request, accepted)
            return await handler(request)

        return guarded


def body_types(route: APIRoute) -> tuple[str, ...]:
    """The media types of the body FastAPI reads for ``route`` (none: the route reads its
    own, as the uploads do)."""
    field = route.body_field
    if field is None:
        return ()
    return (str(getattr(field.field_info, "media_type", "application/json")),)


def check_media_type(request: Request, accepted: tuple[str, ...]) -> None:
    """A body of a type the route does not read is `UnsupportedBody` (415, naming the types
    it does); a request without a body is left to the schema (422 ``missing``)."""
    headers = request.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return
    sent = headers.get("content-type", "").partition(";")[0].strip().lower()
    if sent not in accepted:
        raise UnsupportedBody(accepted)


def credential(request: Request) -> tuple[str, str] | None:
    """(scheme, token) of the ``Authorization`` header: scheme ``bearer`` or ``dpop``."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    scheme = scheme.lower()
    return (scheme, token.strip()) if scheme in ("bearer", "dpop") and token.strip() else None


def public_base(request: Request, settings: GatewaySettings) -> str:
    """The gateway's base URL as clients address it (its issuer identifier): the
    ``public_url`` setting, else the scheme and host this request arrived with."""
    if settings.public_url:
        return settings.public_url
    return f"{request.url.scheme}://{request.url.netloc}"


def authorize(request: Request, route_policy: Policy, gateway: Any) -> Principal | None:
    """Authenticate (if a token is given or needed), apply the rate limit, check the role."""
    presented = credential(request)
    if presented is None:
        rate_limit(request, gateway, None)
        if not route_policy.public:
            raise Unauthenticated("token_missing")
        return None
    scheme, token = presented
    principal = open_credential(request, gateway, token)

    def prove() -> None:
        prove_possession(request, gateway, scheme, token, principal)

    admit(request, route_policy, gateway, principal, prove if scheme == "dpop" or
          principal.jkt is not None or principal.role in KEYED_ROLES else None)  # fmt: skip
    return principal


def prove_possession(
    request: Request, gateway: Any, scheme: str, token: str, principal: Principal
) -> None:
    """Check the one DPoP proof of this request against the key ``token`` is bound to;
    `InvalidDPoPProof` (its ``audit_detail`` says why) otherwise (RFC 9449 §7.1)."""
    if principal.jkt is None:
        raise InvalidDPoPProof(audit_detail="token_not_bound")
    if scheme != "dpop":
        raise InvalidDPoPProof(audit_detail="dpop_scheme")
    proofs = request.headers.getlist("dpop")
    if len(proofs) != 1:
        raise InvalidDPoPProof(audit_detail="dpop_missing" if not proofs else "dpop_several")
    url = public_base(request, gateway.settings) + request.url.path
    jkt = verify_proof(proofs[0], method=request.method, url=url, replay=gateway.replay,
                       access_token=token)  # fmt: skip
    if not hmac.compare_digest(jkt, principal.jkt):
        raise InvalidDPoPProof(audit_detail="dpop_key_mismatch")


def open_credential(request: Request, gateway: Any, sealed: str) -> Principal:
    """The principal a bearer token or session cookie holds; one that does not open is
    `Unauthenticated` and counted against the client address's rate limit."""
    try:
        return open_token(gateway.keys.token_key, sealed)
    except Unauthenticated:
        rate_limit(request, gateway, None)
        raise


def admit(
    request: Request,
    route_policy: Policy,
    gateway: Any,
    principal: Principal,
    prove: Callable[[], None] | None = None,
) -> None:
    """For an authenticated principal: note who it is for the audit entry, apply its rate
    limit, check its proof of possession (``prove``; a keyed client or a bound token without
    one is `InvalidDPoPProof`), refuse a disabled client (`Unauthenticated`) or a role the
    policy does not name (`WrongRole`)."""
    audit = request.state.audit
    audit["actor"], audit["role"] = principal.client_id or "subject", principal.role.value
    rate_limit(request, gateway, principal)
    if prove is not None:
        prove()
    elif principal.jkt is not None or principal.role in KEYED_ROLES:
        raise InvalidDPoPProof(audit_detail="dpop_not_presented")
    if principal.client_id is not None and not gateway.client_active(principal.client_id):
        raise Unauthenticated("client_disabled")
    if not route_policy.public and principal.role not in route_policy.roles:
        raise WrongRole("role_not_allowed")


def rate_limit(request: Request, gateway: Any, principal: Principal | None) -> None:
    """One token from the bucket of the principal's client (or subject), or of the client
    address when there is no principal; `RateLimited` when it is empty."""
    if principal is None:
        key = f"ip:{request.client.host if request.client else '-'}"
    else:
        key = principal.client_id or f"subject:{principal.subject}"
    wait = gateway.rate_limiter.acquire(key)
    if wait:
        raise RateLimited(wait)


def roles_of(routes: Iterable[Any]) -> dict[tuple[str, str], Policy]:
    """(method, path) → policy for every policed route (used by tests and docs)."""
    out: dict[tuple[str, str], Policy] = {}
    for route in routes:
        if isinstance(route, PolicedRoute):
            for method in route.methods or ():
                out[(method, route.path)] = route.policy
    return out
