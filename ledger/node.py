"""Connections to a chain: an in-process embedded node or a JSON-RPC endpoint.

Both give a ``Web3`` instance; everything above this module is backend-agnostic except
for :attr:`Node.send_mode`, which says how a signed transaction is confirmed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import requests
from eth.exceptions import CanonicalHeadNotFound
from eth_tester import EthereumTester
from eth_typing import Address
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.eth_tester import EthereumTesterProvider
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import RPCEndpoint, RPCResponse

from ._embedded.backend import PersistentPyEVMBackend, ReadOnlyPyEVMBackend
from ._embedded.kvstore import ReadOnlySqliteDB, SqliteAtomicDB
from .config import LedgerConfig
from .errors import LedgerConfigError

SendMode = Literal["mined-on-send", "sync", "poll"]


@dataclass
class Node:
    """A live connection. ``send_mode``: ``mined-on-send`` (embedded auto-mine), ``sync``
    (``eth_sendRawTransactionSync``) or ``poll`` (send, then poll for the receipt)."""

    w3: Web3
    backend: str
    endpoint: str
    send_mode: SendMode
    close: Callable[[], None]


class _LockedTesterProvider(EthereumTesterProvider):
    """py-evm is not thread-safe: every request to the embedded chain holds one lock."""

    def __init__(self, tester: EthereumTester, lock: threading.RLock) -> None:
        super().__init__(tester)
        self._lock = lock

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock:
            return super().make_request(method, params)


def open_embedded(config: LedgerConfig, funded: str) -> Node:
    """Open (or create) the chain under ``config.data_dir``; ``funded`` gets the genesis
    balance when the chain is created."""
    db = SqliteAtomicDB(config.data_dir / "chain.sqlite", durable=config.durable)
    backend = PersistentPyEVMBackend(db, Address(bytes.fromhex(funded[2:])))
    lock = threading.RLock()
    w3 = Web3(_LockedTesterProvider(EthereumTester(backend=backend), lock))

    def close() -> None:
        with lock:
            db.close()

    return Node(w3, "embedded", str(config.data_dir), "mined-on-send", close)


class _SnapshotTesterProvider(EthereumTesterProvider):
    """A read-only view: each request runs in one SQLite read transaction, at the newest
    block committed when it starts."""

    def __init__(self, tester: EthereumTester, backend: ReadOnlyPyEVMBackend,
                 db: ReadOnlySqliteDB, lock: threading.RLock) -> None:  # fmt: skip
        super().__init__(tester)
        self._backend, self._db, self._lock = backend, db, lock

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock, self._db.snapshot():
            self._backend.follow_head()
            return super().make_request(method, params)


def open_embedded_reader(config: LedgerConfig) -> Node:
    """A read-only view of the chain under ``config.data_dir`` that another process may
    own and write meanwhile (no lock is taken). Raises LedgerConfigError if there is no
    chain there."""
    path = config.data_dir / "chain.sqlite"
    try:
        db = ReadOnlySqliteDB(path)
        backend = ReadOnlyPyEVMBackend(db)
    except (FileNotFoundError, CanonicalHeadNotFound):
        raise LedgerConfigError(f"no embedded chain at {config.data_dir}") from None
    lock = threading.RLock()
    w3 = Web3(_SnapshotTesterProvider(EthereumTester(backend=backend), backend, db, lock))

    def close() -> None:
        with lock:
            db.close()

    return Node(w3, "embedded", str(config.data_dir), "mined-on-send", close)


def open_jsonrpc(config: LedgerConfig) -> Node:
    """Connect to ``config.rpc_url``; probing for ``eth_sendRawTransactionSync`` happens on
    the first transaction (see :mod:`ledger.sender`)."""
    assert config.rpc_url is not None
    # web3 retries only idempotent reads (its allowlist excludes sending transactions)
    errors = (requests.ConnectionError, requests.HTTPError, requests.Timeout)
    retry = ExceptionRetryConfiguration(errors=errors, retries=2, backoff_factor=0.05)
    provider = Web3.HTTPProvider(
        config.rpc_url,
        request_kwargs={"timeout": config.request_timeout},
        exception_retry_configuration=retry,
    )
    w3 = Web3(provider)
    # Besu QBFT headers carry validators and seals in extraData (far over the 32 bytes web3's
    # validation allows); read as proofOfAuthorityData instead. No-op on anvil.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return Node(w3, "jsonrpc", config.rpc_url, "sync", lambda: None)
