"""One contract-test suite, run against every backend: the embedded py-evm chain and a
real anvil started on loopback for the session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger import LedgerConfig, Role, open_ledger
from ledger.client import Web3Ledger
from ledger.testing import UNSAFE_ANVIL_DEV_KEY, run_anvil

BACKENDS = ["embedded", "jsonrpc"]


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    with run_anvil() as url:
        yield url


def make_config(backend: str, data_dir: Path, url: str | None) -> LedgerConfig:
    if backend == "embedded":
        return LedgerConfig(data_dir=data_dir, key_secret=os.urandom(32))
    return LedgerConfig(
        backend="jsonrpc",
        data_dir=data_dir,
        key_secret=os.urandom(32),
        rpc_url=url,
        funding_key=UNSAFE_ANVIL_DEV_KEY,
    )


@pytest.fixture(params=BACKENDS)
def open_fresh(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], Web3Ledger]]:
    """A factory of fresh deployments on the parametrised backend."""
    opened: list[Web3Ledger] = []
    url = request.getfixturevalue("anvil_url") if request.param == "jsonrpc" else None

    def factory() -> Web3Ledger:
        data_dir = tmp_path / f"ledger{len(opened)}"
        opened.append(open_ledger(make_config(request.param, data_dir, url)))
        return opened[-1]

    yield factory
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(open_fresh: Callable[[], Web3Ledger]) -> Web3Ledger:
    """A fresh deployment with one provider, one gateway, three officers and an auditor."""
    ledger = open_fresh()
    ledger.ensure_account("provider", Role.PROVIDER)
    ledger.ensure_account("gateway", Role.GATEWAY)
    for name in ("alice", "bob", "carol"):
        ledger.ensure_account(name, Role.OFFICER)
    ledger.ensure_account("auditor", Role.AUDITOR)
    return ledger
