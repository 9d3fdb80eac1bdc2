"""Generated worlds shared by the synthetic tests (each generated once per session)."""

from __future__ import annotations

import pytest

from synthetic import GenerationSummary, generate
from vault.registry import Registry, load_registry


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(tmp_path_factory.mktemp("tiny-csv"), 0.001, 7, "csv")


@pytest.fixture(scope="session")
def tiny_parquet(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(tmp_path_factory.mktemp("tiny-parquet"), 0.001, 7, "parquet")


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(tmp_path_factory.mktemp("small-csv"), 0.01, 11, "csv")
