"""One exit-code table for every ``dexin`` group (`dexin.errors`), and the README's copy of it."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from audit.errors import SplitViewError, VerificationError
from credit_model.errors import NotReleasedError, SpecError
from dexin.admin import AdminError
from dexin.errors import EXIT_CODES, ExitCode, exit_code, handle_errors
from ledger import ContractRevertError, NodeUnavailableError
from synthetic.errors import OutputNotEmptyError
from vault.errors import InvalidIdNumber, MasterKeyMissing, VaultBusy, WrongKeyError

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXIT_CODES))
def test_every_entry_names_an_exception_class_that_exists(name: str) -> None:
    module, _, cls = name.rpartition(".")
    found = getattr(importlib.import_module(module), cls)
    assert isinstance(found, type) and issubclass(found, BaseException)
    assert f"{found.__module__}.{found.__qualname__}" == name  # defined there, not re-exported


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (VaultBusy("/d/vault"), ExitCode.UNAVAILABLE),
        (MasterKeyMissing(), ExitCode.KEY),
        (WrongKeyError("keyring"), ExitCode.KEY),
        (InvalidIdNumber("check digit"), ExitCode.BAD_INPUT),
        (NodeUnavailableError("http://127.0.0.1:9", "refused"), ExitCode.LEDGER),
        (ContractRevertError("WitnessExists", {}), ExitCode.LEDGER),
        (NotReleasedError("wuwei@1"), ExitCode.LEDGER),
        (SpecError("bands", "overlap"), ExitCode.BAD_INPUT),
        (SplitViewError(1, b"\0" * 32, 2, b"\1" * 32), ExitCode.CHECK_FAILED),
        (VerificationError("policy", "no approval"), ExitCode.CHECK_FAILED),
        (OutputNotEmptyError(Path("out")), ExitCode.BAD_INPUT),
        (AdminError("no"), ExitCode.BAD_INPUT),
        (FileNotFoundError(2, "No such file", "proof.json"), ExitCode.BAD_INPUT),
        (json.JSONDecodeError("Expecting value", "", 0), ExitCode.BAD_INPUT),
    ],
)
def test_the_most_specific_class_decides(error: Exception, code: ExitCode) -> None:
    assert exit_code(error) is code


@pytest.mark.parametrize("error", [KeyError("k"), RuntimeError("bug"), AssertionError()])
def test_an_error_the_table_does_not_name_is_not_mapped(error: Exception) -> None:
    assert exit_code(error) is None


def _app(error: Exception) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @handle_errors
    def fails() -> None:
        raise error

    return app


def test_a_named_error_becomes_its_message_hint_and_code_without_a_traceback() -> None:
    result = CliRunner().invoke(_app(MasterKeyMissing()), [])
    assert result.exit_code == ExitCode.KEY
    assert "error: no master key is configured" in result.stderr
    assert "hint: Set DEXIN_MASTER_KEY" in result.stderr and "Traceback" not in result.stderr


def test_an_unnamed_error_keeps_its_traceback() -> None:
    result = CliRunner().invoke(_app(KeyError("bug")), [])
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)


def test_the_readme_lists_exactly_the_table_s_codes() -> None:
    rows = re.findall(r"^\| (\d) \| `([A-Z_]+)` \|", README, re.M)
    assert [(int(code), name) for code, name in rows] == [(c.value, c.name) for c in ExitCode]
