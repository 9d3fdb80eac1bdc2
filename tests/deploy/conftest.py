"""Fixtures for the deployment's static checks (see deploy_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy_fixtures import Network, build_network

from deploy import consortium
from deploy.consortium import Consortium


@pytest.fixture(scope="session")
def the_consortium() -> Consortium:
    return consortium.load()


@pytest.fixture
def network(tmp_path: Path, the_consortium: Consortium) -> Network:
    return build_network(tmp_path, the_consortium)
