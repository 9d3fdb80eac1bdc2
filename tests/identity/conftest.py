"""One local IdP per test module, configured with residents and clients made up at test time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from identity_support import LocalIdp, make_config

from dexin.identity_provider import run_identity_provider


@pytest.fixture(scope="module")
def local_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIdp]:
    config = make_config()
    workdir = tmp_path_factory.mktemp("idp")
    with run_identity_provider(config, workdir) as running:
        yield LocalIdp(config, running, workdir)
