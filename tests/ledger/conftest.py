"""Fixtures for the ledger package's own tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import LedgerConfig
from ledger.testing import run_anvil


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    with run_anvil() as url:
        yield url


@pytest.fixture
def embedded_config(tmp_path: Path) -> LedgerConfig:
    return LedgerConfig(data_dir=tmp_path / "ledger", key_secret=os.urandom(32))
