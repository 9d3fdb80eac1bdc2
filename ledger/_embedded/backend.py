"""An eth-tester backend over a persistent py-evm chain.

Differences from eth-tester's ``PyEVMBackend`` (whose chain lives in memory):
- the chain is reopened from :class:`SqliteAtomicDB` at its canonical head;
- transactions and receipts are found through py-evm's transaction index, not by walking
  every block back from the head (seconds per lookup at 10,000 blocks);
- the pending block's timestamp is refreshed to wall time before its first transaction,
  so an idle chain does not stamp a new block with the time the previous one was mined.
There are no unlocked accounts: every transaction arrives signed.
"""

from __future__ import annotations

import time
from typing import Any

from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth_tester.backends.pyevm.main import PyEVMBackend
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.exceptions import TransactionNotFound
from eth_typing import Address, Hash32

from ..errors import LedgerReadOnlyError
from .chain import chain_at_head, open_chain
from .kvstore import ReadOnlySqliteDB, SqliteAtomicDB


class PersistentPyEVMBackend(PyEVMBackend):  # type: ignore[misc]
    """eth-tester backend whose chain state is the SQLite database ``db``."""

    def __init__(self, db: SqliteAtomicDB, funded: Address) -> None:
        self.db = db
        self.account_keys = ()
        self.chain = open_chain(db, funded)

    def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("a persistent chain is never reset")

    def send_raw_transaction(self, raw_transaction: bytes) -> bytes:
        if not self.chain.get_block().transactions:
            parent = self.chain.get_canonical_head()
            now = max(int(time.time()), parent.timestamp + 1)
            self.chain.set_header_timestamp(now)
        tx_hash: bytes = super().send_raw_transaction(raw_transaction)
        return tx_hash

    def get_transaction_by_hash(self, transaction_hash: bytes) -> dict[str, Any]:
        block, transaction, index = self._locate(transaction_hash)
        return serialize_transaction(block, transaction, index, False)  # type: ignore[no-any-return]

    def get_transaction_receipt(self, transaction_hash: bytes) -> dict[str, Any]:
        block, transaction, index = self._locate(transaction_hash)
        receipts = block.get_receipts(self.chain.chaindb)
        vm = self.chain.get_vm()
        return serialize_transaction_receipt(  # type: ignore[no-any-return]
            block, receipts, transaction, index, False, vm
        )

    def _locate(self, transaction_hash: bytes) -> tuple[Any, Any, int]:
        """Find a mined transaction by py-evm's index; pending ones are not acknowledged."""
        try:
            number, index = self.chain.chaindb.get_transaction_index(Hash32(transaction_hash))
        except EVMTransactionNotFound as exc:
            raise TransactionNotFound(transaction_hash.hex()) from exc
        if number >= self.chain.get_block().number:
            raise TransactionNotFound(transaction_hash.hex())
        block = self.chain.get_canonical_block_by_number(number)
        transaction = block.transactions[index]
        if transaction.hash != transaction_hash:
            raise TransactionNotFound(transaction_hash.hex())
        return block, transaction, index


class ReadOnlyPyEVMBackend(PersistentPyEVMBackend):
    """The same backend over a :class:`ReadOnlySqliteDB`: :meth:`follow_head` moves it to
    the newest block another process committed; sending a transaction is refused."""

    def __init__(self, db: ReadOnlySqliteDB) -> None:
        self.db = db
        self.account_keys = ()
        self.chain = chain_at_head(db)

    def follow_head(self) -> None:
        head = self.chain.chaindb.get_canonical_head()
        if head.hash != self.chain.get_block().header.parent_hash:
            self.chain = chain_at_head(self.db)

    def send_raw_transaction(self, raw_transaction: bytes) -> bytes:
        raise LedgerReadOnlyError("send a transaction")
