"""The JSON-RPC backend against a real anvil: node down, sync sends, concurrency."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ledger import (
    AnchorKind,
    LedgerConfig,
    NodeUnavailableError,
    Role,
    open_ledger,
)
from ledger.client import Web3Ledger
from ledger.testing import UNSAFE_ANVIL_DEV_KEY, free_port, run_anvil


def _config(tmp_path: Path, url: str) -> LedgerConfig:
    return LedgerConfig(backend="jsonrpc", rpc_url=url, data_dir=tmp_path / "ledger",
                        key_secret=os.urandom(32), funding_key=UNSAFE_ANVIL_DEV_KEY,
                        request_timeout=2.0)  # fmt: skip


def test_a_node_that_is_down_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(NodeUnavailableError) as caught:
        open_ledger(_config(tmp_path, f"http://127.0.0.1:{free_port()}"))
    assert caught.value.endpoint.startswith("http://127.0.0.1:")


def test_a_node_that_goes_away_is_a_typed_error(tmp_path: Path) -> None:
    with run_anvil() as url:
        ledger = open_ledger(_config(tmp_path, url))
        ledger.ensure_account("provider", Role.PROVIDER)
    with pytest.raises(NodeUnavailableError):
        ledger.anchor(AnchorKind.CONTRIBUTION, os.urandom(32), 1, os.urandom(32))
    with pytest.raises(NodeUnavailableError):
        ledger.status()


def test_sync_send_is_used_on_anvil(tmp_path: Path, anvil_url: str) -> None:
    ledger = open_ledger(_config(tmp_path, anvil_url))
    assert ledger._node.send_mode == "sync"


def test_receipt_polling_works_when_sync_send_is_off(tmp_path: Path, anvil_url: str) -> None:
    ledger = open_ledger(_config(tmp_path, anvil_url))
    ledger._node.send_mode = "poll"
    ledger.ensure_account("provider", Role.PROVIDER)
    receipt = ledger.anchor(AnchorKind.CONTRIBUTION, os.urandom(32), 1, os.urandom(32))
    assert receipt.block_number > 0


def _hammer(
    ledger: Web3Ledger, signer: str, roots: list[bytes], errors: list[BaseException]
) -> None:
    try:
        for root in roots:
            ledger.anchor(AnchorKind.CONTRIBUTION, root, 1, bytes(32), signer=signer)
    except BaseException as exc:  # collected and asserted by the test
        errors.append(exc)


def _concurrently(ledger: Web3Ledger) -> None:
    ledger.ensure_account("p1", Role.PROVIDER)
    ledger.ensure_account("p2", Role.PROVIDER)
    jobs = [("p1", [os.urandom(32) for _ in range(6)]) for _ in range(3)]
    jobs += [("p2", [os.urandom(32) for _ in range(6)])]
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_hammer, args=(ledger, s, r, errors)) for s, r in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for _, roots in jobs:
        for root in roots:
            ledger.get_anchor(root)
    assert ledger.status().anchors["contribution"] == 24


def test_threads_sharing_a_key_never_collide_on_nonces_anvil(
    tmp_path: Path, anvil_url: str
) -> None:
    _concurrently(open_ledger(_config(tmp_path, anvil_url)))


def test_threads_sharing_a_key_never_collide_on_nonces_embedded(tmp_path: Path) -> None:
    ledger = open_ledger(LedgerConfig(data_dir=tmp_path / "e", key_secret=os.urandom(32)))
    try:
        _concurrently(ledger)
    finally:
        ledger.close()
