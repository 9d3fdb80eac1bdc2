"""`ConsoleRoute`: a console page declares its policy exactly like an API route.

It is a `PolicedRoute` (the policy test and `roles_of` see it), but the principal comes from
the session cookie when there is one, else from a bearer token as on the API. Browsers
(``Accept: text/html``) get HTML pages for errors — the sign-in form for a 401 — and every
other caller gets the usual RFC 9457 problem. A POST from a cookie session (or to a public
form such as sign-in) must carry the CSRF token. The audit middleware records every console
request, allowed or denied, like any other, and every one is rate limited like an API request
(`policy.rate_limit`): a session by its client or subject, anything else by its address.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from governance import (
    InvalidRequest,
    Principal,
    Unauthenticated,
    open_token,
)
from query_gateway.console.i18n import (
    Kind,
    Precision,
    coded,
    label,
    lang_of,
    local_time,
    provider_label,
    table_label,
    translate,
    value_label,
)
from query_gateway.console.session import (
    LANG_COOKIE,
    PATH,
    SESSION_COOKIE,
    csrf_ok,
    csrf_token,
    keep_csrf,
)
from query_gateway.policy import PolicedRoute, Policy, admit, authorize, rate_limit
from query_gateway.problems import note, problem_of, reason_of, status_of

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the request's language, with the CSRF token and the signed-in principal."""
    lang = lang_of(request)
    principal = getattr(request.state, "principal", None)
    registry = _registry(request)
    body = TEMPLATES.get_template(template).render(
        t=lambda key: translate(lang, key),
        lang=lang,
        csrf=csrf_token(request),
        who=principal,
        who_name=_name_of(request, principal),
        path=request.url.path,
        identity=_identity(request),
        registry=registry,
        **context,
    )
    response = HTMLResponse(body, status_code=status)
    keep_csrf(request, response)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, path=PATH, samesite="strict")
    return response


def _lang(context: Context) -> str:
    return str(context.get("lang", "zh"))


def _registry_of(context: Context) -> Any:
    found = context.get("registry")
    return found if found is not None else default_registry()


@lru_cache(maxsize=1)
def default_registry() -> Any:
    """The registry a page without a gateway (the printable report) labels providers with."""
    from vault import load_registry

    return load_registry()


@pass_context
def _label(context: Context, kind: Kind, code: str | None) -> str:
    return label(_lang(context), kind, code)


@pass_context
def _labelled(context: Context, kind: Kind, code: str) -> Markup:
    return coded(label(_lang(context), kind, code), code)


@pass_context
def _provider(context: Context, code: str | None) -> str:
    return provider_label(_lang(context), _registry_of(context), code)


@pass_context
def _table(context: Context, name: str | None) -> str:
    return table_label(_lang(context), _registry_of(context), name)


@pass_context
def _value(context: Context, value: Any) -> str:
    return value_label(_lang(context), value)


def _when(value: Any, precision: Precision = "minute") -> str:
    return local_time(value, precision)


# the label helpers every template has (the printable report too): ``label(kind, code)``,
# ``coded(words, code)`` (words with the code in small type), ``labelled(kind, code)``,
# ``provider(code)``, ``table(name)``, ``value(v)`` and ``when(value, precision)`` (a local
# date in Asia/Shanghai); they read ``lang`` (and ``registry``) from the page's context
TEMPLATES.globals.update(label=_label, coded=coded, labelled=_labelled, provider=_provider,
                         table=_table, value=_value, when=_when)  # fmt: skip


def _registry(request: Request) -> Any:
    services = getattr(request.app.state, "gateway", None)
    return getattr(getattr(services, "vault", None), "registry", None)


def _name_of(request: Request, principal: Principal | None) -> str | None:
    """The signed-in client's name as the control plane has it (a person's name, not an id)."""
    client_id = getattr(principal, "client_id", None)
    services = getattr(request.app.state, "gateway", None)
    if client_id is None or services is None:
        return None
    client = services.control.active_client(client_id)
    return str(client.name) if client is not None else None


def _identity(request: Request) -> dict[str, bool]:
    """How residents may sign in here: at the IdP, and (unsafe, dev only) by ID number."""
    services = getattr(request.app.state, "gateway", None)
    config = getattr(services, "settings", None)
    return {"idp": getattr(services, "relying_party", None) is not None,
            "dev": bool(getattr(config, "unsafe_dev_identity", False))}  # fmt: skip


def _from_cookie(request: Request, policy: Policy, gateway: Any) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        who = open_token(gateway.keys.token_key, cookie)
    except Unauthenticated:
        return None  # an expired session is no session (the address pays, as anonymous)
    if who.subject is not None:
        request.state.audit["subject"] = who.subject
    admit(request, policy, gateway, who)
    return who


def authorize_console(
    request: Request, policy: Policy, gateway: Any
) -> tuple[Principal | None, bool]:
    """(principal, by_cookie): the session cookie first, then the API's bearer token; rate
    limited either way."""
    who = _from_cookie(request, policy, gateway)
    if who is not None:
        return who, True
    if "authorization" not in request.headers and not policy.public:
        rate_limit(request, gateway, None)
        raise Unauthenticated("token_missing")
    return authorize(request, policy, gateway), False


class ConsoleRoute(PolicedRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = APIRoute.get_route_handler(self)
        route_policy = self.policy

        async def guarded(request: Request) -> Response:
            gateway = request.app.state.gateway
            try:
                who, by_cookie = authorize_console(request, route_policy, gateway)
                request.state.principal = who
                needs_csrf = by_cookie or route_policy.public
                if request.method == "POST" and needs_csrf and not await csrf_ok(request):
                    raise InvalidRequest(reason="csrf_token_invalid")
                return await handler(request)
            except Exception as exc:
                if not wants_html(request) or problem_of(exc) is None:
                    raise  # a problem document, or a bare 500 from the audit middleware
                note(request, exc)
                return error_page(request, exc)

        return guarded


def error_page(request: Request, exc: Exception) -> HTMLResponse:
    """The HTML answer to an error the problem table knows (the sign-in form for a 401)."""
    if isinstance(exc, Unauthenticated):
        request.state.principal = None
        return render(request, "login.html", status=401, message="please_login",
                      next=request.url.path)  # fmt: skip
    status = status_of(exc)
    message = "forbidden" if status == 403 else "error"
    return render(request, "error.html", status=status, message=message, reason=reason_of(exc))


def console_router() -> APIRouter:
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)
