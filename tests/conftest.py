"""Shared fixtures: a fresh data directory per test, with its own random master key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from dexin.app import open_vault, vault_config
from dexin.keys import key_provider
from dexin.settings import Settings
from vault.registry import load_registry
from vault.store import Vault


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    env = {
        "DEXIN_HOME": str(tmp_path / "home"),
        "DEXIN_MASTER_KEY": secrets.token_hex(32),
        "DEXIN_AS_OF": "2026-11-01",
        "DEXIN_MEMORY_LIMIT": "1GB",
    }
    return Settings.from_env(env)


@pytest.fixture
def vault(settings: Settings) -> Iterator[Vault]:
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_vault(settings) as v:
        yield v
