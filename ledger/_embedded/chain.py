"""The embedded chain: its class, its genesis, and reopening it at its canonical head.

The chain class and its VM rules are rebuilt from code at every start, so they are fixed
here and the py-evm / eth-tester versions are pinned exactly: a change of either could
make a stored chain unreadable. The VM is Prague (py-evm has no Osaka), matching the
contracts' ``evmVersion``.
"""

from __future__ import annotations

import time
from typing import Any

from eth.abc import AtomicDatabaseAPI, BlockHeaderAPI
from eth.chains.base import MiningChain
from eth.exceptions import CanonicalHeadNotFound
from eth.vm.forks.prague import PragueVM
from eth_tester.backends.pyevm.main import get_default_genesis_params
from eth_typing import Address, BlockNumber

# web3's eth-tester provider answers eth_chainId with this constant, so the chain uses it too
EMBEDDED_CHAIN_ID = 131_277_322_940_537
GAS_LIMIT = 30_000_000
GENESIS_BALANCE = 10**9 * 10**18


class DexinChain(MiningChain):
    """A single-VM Prague chain with a constant gas limit."""

    chain_id = EMBEDDED_CHAIN_ID
    vm_configuration = ((BlockNumber(0), PragueVM),)

    def create_header_from_parent(
        self, parent_header: BlockHeaderAPI, **header_params: Any
    ) -> BlockHeaderAPI:
        header_params["gas_limit"] = parent_header.gas_limit
        return super().create_header_from_parent(parent_header, **header_params)

    def get_transaction_builder(self) -> Any:
        return super().get_vm().get_transaction_builder()


def open_chain(db: AtomicDatabaseAPI, funded: Address) -> DexinChain:
    """Reopen the chain stored in ``db`` at its canonical head, or create its genesis.

    Start-up cost does not grow with history: only the head header is read. ``funded`` is
    the account given the genesis balance; it is ignored when the chain already exists.
    """
    try:
        return chain_at_head(db)
    except CanonicalHeadNotFound:
        return _genesis(DexinChain, db, funded)


def chain_at_head(db: AtomicDatabaseAPI) -> DexinChain:
    """The stored chain with its pending block on top of the canonical head, as of now.
    Raises CanonicalHeadNotFound if ``db`` holds no chain."""
    head = DexinChain(db).chaindb.get_canonical_head()
    return DexinChain(db, DexinChain(db).create_header_from_parent(head))


def _genesis(cls: type[DexinChain], db: AtomicDatabaseAPI, funded: Address) -> DexinChain:
    params = get_default_genesis_params({"gas_limit": GAS_LIMIT, "timestamp": int(time.time())})
    account: Any = {"balance": GENESIS_BALANCE, "nonce": 0, "code": b"", "storage": {}}
    chain = cls.from_genesis(db, params, {funded: account})
    assert isinstance(chain, DexinChain)
    return chain
