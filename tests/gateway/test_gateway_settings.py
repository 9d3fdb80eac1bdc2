"""The gateway's settings from the environment, and what they switch."""

from __future__ import annotations

import secrets
from pathlib import Path

from query_gateway.app import create_app

from dexin.settings import Settings


def _settings(tmp_path: Path, env: dict[str, str] | None = None) -> Settings:
    base = {"DEXIN_HOME": str(tmp_path / "home"), "DEXIN_MASTER_KEY": secrets.token_hex(32)}
    return Settings.from_env(base | (env or {}))


def test_defaults_and_overrides(tmp_path: Path) -> None:
    default = _settings(tmp_path).gateway
    assert default.database_url.startswith("sqlite:///") and not default.telemetry
    assert (default.token_ttl, default.approval_threshold, default.min_cell) == (900, 2, 10)
    chosen = _settings(
        tmp_path,
        {"DEXIN_OTEL": "1", "DEXIN_APPROVAL_THRESHOLD": "3", "DATABASE_URL": "postgresql://x/y"},
    ).gateway
    assert chosen.telemetry and chosen.approval_threshold == 3
    assert chosen.database_url == "postgresql://x/y"


def test_opentelemetry_is_off_unless_asked(tmp_path: Path) -> None:
    off = create_app(_settings(tmp_path))
    on = create_app(_settings(tmp_path, {"DEXIN_OTEL": "true"}))
    assert not any(off._telemetry[k] for k in ("tracing", "metrics", "logs"))  # type: ignore[attr-defined]
    assert all(on._telemetry[k] for k in ("tracing", "metrics", "logs"))  # type: ignore[attr-defined]
