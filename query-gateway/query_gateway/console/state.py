"""What the console keeps beside the gateway: its accounts, their sign-in guard and its
published statistics."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from dexin.app import Settings
from governance import ConsoleAccounts, LoginGuard, LoginPolicy
from query_gateway.gateway import Services, gateway_of


@dataclass
class ConsoleState:
    accounts: ConsoleAccounts
    settings: Settings
    guard: LoginGuard  # backoff, lockout and bounded hashing in front of `accounts`
    published: dict[str, Any] = field(default_factory=dict)  # DP releases, made once
    lock: threading.Lock = field(default_factory=threading.Lock)


def console_state(request: Request) -> tuple[Services, ConsoleState]:
    """The gateway and the console's state (created on first use, after start-up)."""
    gateway = gateway_of(request)
    app_state = request.app.state
    state = getattr(app_state, "console", None)
    if state is None:
        settings: Settings = app_state.console_settings
        policy = LoginPolicy.of(settings.gateway)
        control = gateway.control  # several processes share sign-in failures through it
        shared = control.sessions if control.shared else None
        accounts = ConsoleAccounts(settings.console_accounts, gateway.keys.token_key, policy,
                                   shared)  # fmt: skip
        state = ConsoleState(accounts, settings, LoginGuard.of(accounts, settings.gateway, shared))
        app_state.console = state
    assert isinstance(state, ConsoleState)
    return gateway, state
