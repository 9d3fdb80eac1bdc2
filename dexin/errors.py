"""How the command line reports errors: a message, its advice, an exit code; no traceback.

Exit codes: 0 success; 1 a check failed (verification found a mismatch) or an unexpected
failure; 2 bad input (a refused contribution, an unknown table, a file that cannot be read);
3 a key problem (missing, wrong, unsafe key file); 4 the vault or ledger is not there or is
in use by another process; 5 the ledger node cannot be reached or refused a transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from ledger import LedgerError, NodeUnavailableError
from vault import errors as verr

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True)

EXIT_CODES: list[tuple[type[Exception], int]] = [
    (verr.KeyManagementError, 3),
    (verr.VaultNotInitialised, 4),
    (verr.VaultBusy, 4),
    (verr.VaultAlreadyInitialised, 4),
    (verr.VaultError, 2),
    (NodeUnavailableError, 5),
    (LedgerError, 5),
]


def exit_code(exc: Exception) -> int:
    return next(code for cls, code in EXIT_CODES if isinstance(exc, cls))


def handle_errors(fn: F) -> F:
    """Turn the vault's and ledger's errors into a message, advice and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (verr.VaultError, LedgerError) as exc:
            err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            advice = getattr(exc, "advice", "")
            if advice:
                err.print(f"hint: {advice}", highlight=False)
            raise typer.Exit(exit_code(exc)) from None

    return wrapper  # type: ignore[return-value]
