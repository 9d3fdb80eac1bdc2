"""The unsafe development identity provider is off unless named, and never served beyond
loopback (issue 14)."""

from __future__ import annotations

import secrets
from pathlib import Path

from typer.testing import CliRunner

from dexin import admin_cli, serve_cli


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DEXIN_HOME": str(tmp_path / "home"), "DEXIN_MASTER_KEY": secrets.token_hex(32),
            **extra}  # fmt: skip


def test_subject_token_refuses_without_the_unsafe_flag(tmp_path: Path) -> None:
    args = ["subject-token", "--id-number", "11010519491231002X"]
    result = CliRunner().invoke(admin_cli.app, args, env=_env(tmp_path))
    assert result.exit_code != 0
    assert "DEXIN_UNSAFE_DEV_IDENTITY" in result.output
    assert "11010519491231002X" not in result.output


def test_serve_refuses_the_unsafe_flag_beyond_loopback(tmp_path: Path) -> None:
    env = _env(tmp_path, DEXIN_UNSAFE_DEV_IDENTITY="1")
    result = CliRunner().invoke(serve_cli.app, ["--host", "0.0.0.0"], env=env)
    assert result.exit_code == 2
    assert "DEXIN_UNSAFE_DEV_IDENTITY" in result.output


def test_loopback_addresses() -> None:
    assert serve_cli._loopback("127.0.0.1") and serve_cli._loopback("::1")
    assert serve_cli._loopback("localhost") and serve_cli._loopback("[::1]")
    assert not serve_cli._loopback("0.0.0.0") and not serve_cli._loopback("10.0.0.1")
    assert not serve_cli._loopback("example.org")
