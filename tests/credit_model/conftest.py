"""Fixtures of the credit-model tests: the shipped spec, and a generated, ingested and
scored population (scale 0.01, about 8,500 residents) shared by a whole session."""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from credit_model.spec import ModelSpec, load_spec
from dexin.app import open_vault, vault_config
from dexin.keys import key_provider
from dexin.settings import Settings
from governance.model_runs import score_all
from synthetic import generate
from vault.ingest import ingest_directory
from vault.registry import Registry, load_registry
from vault.store import Vault

AS_OF = dt.date(2026, 11, 1)
COMPUTED_AT = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def spec(registry: Registry) -> ModelSpec:
    return load_spec(registry=registry)


@pytest.fixture(scope="session")
def population_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A data directory holding a generated population, ingested (scale 0.01, seed 11)."""
    root = tmp_path_factory.mktemp("credit-model")
    generate(root / "data", 0.01, 11, "parquet")
    settings = Settings.from_env({
        "DEXIN_HOME": str(root / "home"), "DEXIN_MASTER_KEY": secrets.token_hex(32),
        "DEXIN_AS_OF": AS_OF.isoformat(), "DEXIN_MEMORY_LIMIT": "1GB",
    })  # fmt: skip
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_vault(settings) as v:
        ingest_directory(v, root / "data")
    return settings


@pytest.fixture(scope="session")
def scored_vault(population_settings: Settings, spec: ModelSpec) -> Iterator[Vault]:
    """The population's vault, open, with features and scores materialised (unreleased)."""
    with open_vault(population_settings) as v:
        score_all(v, spec, computed_at=COMPUTED_AT, release=None)
        yield v
