"""A provider's dispute inbox in the console (issue 18): its staff see the disputes of its
records with their 20-day clocks.

Providers' staff sign in like officers (a console account, role ``provider_staff``, bound to
the provider's client: `governance.accounts`); the page lists only that provider's disputes
(`dispute_list` as the provider), open ones first by deadline, with when each was received,
its deadline, the days left and whether it was escalated — never the resident (no ID number,
no pseudonym) nor the reason (``dexin provider show`` reads it with the provider's key).
Answering stays with the provider's key: the page gives the exact ``dexin provider``
commands, whose answers are signed (`governance.answer_signatures`). The page is audited
like any request.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response

from governance import DisputeView, Principal, Role, dispute_desk, dispute_list
from query_gateway.console.i18n import lang_of
from query_gateway.console.provider_words import provider_translate
from query_gateway.console.route import console_router, render
from query_gateway.console.state import console_state
from query_gateway.policy import policy, public_base

routes = console_router()
INBOX = "/console/provider/disputes"


def _words(request: Request) -> Callable[[str], str]:
    lang = lang_of(request)
    return lambda key: provider_translate(lang, key)


@routes.get(INBOX, openapi_extra=policy(Role.PROVIDER_STAFF))
def inbox(request: Request) -> Response:
    """The provider's disputes and their clocks (escalation runs first), and how to answer."""
    gw, _ = console_state(request)
    who = request.state.principal
    request.state.audit["computation"] = "dispute"
    disputes = dispute_list(gw, Principal(Role.PROVIDER, client_id=who.client_id))
    lang = lang_of(request)
    return render(request, "provider_inbox.html", p=_words(request), disputes=disputes,
                  now=dispute_desk(gw).now(), counts=_counts(disputes),
                  gateway=public_base(request, gw.settings),
                  tables={t.name: t.zh if lang == "zh" else t.en
                          for t in gw.vault.registry.tables})  # fmt: skip


def _counts(disputes: list[DisputeView]) -> dict[str, int]:
    return {
        "open": sum(d.status == "open" for d in disputes),
        "escalated": sum(d.status == "escalated" for d in disputes),
        "answered": sum(d.status == "answered" for d in disputes),
        "late": sum(d.late for d in disputes),
    }
