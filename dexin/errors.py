"""How every ``dexin`` command reports an error: a message, its advice, an exit code; no traceback.

One table for every command group (vault, data, ledger, model, audit, admin, serve, demo)::

    0  OK            success
    1  CHECK_FAILED  a check failed: verification found a mismatch, a proof does not verify,
                     a witness refused a checkpoint (an unexpected error is 1 too, with a
                     traceback: it is a bug)
    2  BAD_INPUT     bad input: a refused contribution or spec, an unknown table, a file that
                     cannot be read or parsed, a refused admin request
    3  KEY           a key problem: missing, wrong or unsafe master key
    4  UNAVAILABLE   the vault, the ledger or the control plane is not there, or another
                     process (the gateway) holds it
    5  LEDGER        the ledger node cannot be reached or refused a transaction; the model is
                     not released on the ledger (or released with another spec)

`EXIT_CODES` names error classes by their module and name instead of importing them, so the
command line starts without importing DuckDB, web3 or the gateway (an error can only come
from a module that is already imported). `exit_code` walks the error's class hierarchy, so
the most specific entry wins. An error the table does not name is a bug and keeps its
traceback. The README repeats the codes; a test keeps both in step with this table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from enum import IntEnum
from types import MappingProxyType
from typing import Any, Final, TypeVar

import typer
from rich.console import Console

__all__ = ["EXIT_CODES", "ExitCode", "exit_code", "fail", "handle_errors"]

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True)


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    BAD_INPUT = 2
    KEY = 3
    UNAVAILABLE = 4
    LEDGER = 5


EXIT_CODES: Final[Mapping[str, ExitCode]] = MappingProxyType(
    {
        "vault.errors.VaultError": ExitCode.BAD_INPUT,
        "vault.errors.KeyManagementError": ExitCode.KEY,
        "vault.errors.VaultNotInitialised": ExitCode.UNAVAILABLE,
        "vault.errors.VaultAlreadyInitialised": ExitCode.UNAVAILABLE,
        "vault.errors.VaultBusy": ExitCode.UNAVAILABLE,
        "ledger.errors.LedgerError": ExitCode.LEDGER,
        "credit_model.errors.CreditModelError": ExitCode.BAD_INPUT,
        "credit_model.errors.NotReleasedError": ExitCode.LEDGER,
        "credit_model.errors.ReleaseMismatchError": ExitCode.LEDGER,
        "audit.errors.AuditError": ExitCode.BAD_INPUT,
        "audit.errors.VerificationError": ExitCode.CHECK_FAILED,
        "audit.errors.WitnessError": ExitCode.CHECK_FAILED,
        "synthetic.errors.SyntheticError": ExitCode.BAD_INPUT,
        "dexin.admin.AdminError": ExitCode.BAD_INPUT,
        # A file named on the command line that cannot be read (OSError) or parsed
        # (ValueError: JSON, hex, base64, a pydantic model).
        "builtins.OSError": ExitCode.BAD_INPUT,
        "builtins.ValueError": ExitCode.BAD_INPUT,
    }
)


def exit_code(exc: BaseException) -> ExitCode | None:
    """The exit code of the most specific class of ``exc`` in `EXIT_CODES`; None if none."""
    for cls in type(exc).__mro__:
        code = EXIT_CODES.get(f"{cls.__module__}.{cls.__qualname__}")
        if code is not None:
            return code
    return None


def fail(message: str, code: ExitCode) -> typer.Exit:
    """Print ``error: message`` on stderr; the caller raises the returned exit."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _message(exc: BaseException) -> str:
    # Core errors keep str(exc) a fixed, safe sentence and carry the specifics in fields; a
    # person at the command line needs the specifics too (never an identifier: no core
    # error puts one in these fields).
    text = str(exc)
    detail = getattr(exc, "reason", None) or getattr(exc, "path", None)
    return f"{text} ({detail})" if detail and str(detail) not in text else text


def handle_errors(fn: F) -> F:
    """Run a command; an error `EXIT_CODES` names becomes its message, advice and exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            code = exit_code(exc)
            if code is None:
                raise
            exit_ = fail(_message(exc), code)
            advice = getattr(exc, "advice", "")
            if advice:
                err.print(f"hint: {advice}", highlight=False)
            raise exit_ from None

    return wrapper  # type: ignore[return-value]
