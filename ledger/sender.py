"""Signing and sending transactions: nonces, fees, confirmation and revert decoding.

Contract:
- a transaction is simulated first (``eth_call``); a revert raises the decoded error and
  spends neither gas nor a nonce;
- per signing account, one transaction is in flight at a time (a lock held from nonce to
  receipt), so concurrent threads never reuse or skip a nonce; different accounts proceed
  in parallel on a JSON-RPC node. Processes that sign with the same account (answer workers
  beside the vault's owner) share a lock too (`TxSender.shared_lock`, set by the
  application: one writer per signing key across processes); the nonce is then read from
  the node inside it each time, since another process may have used the next one;
- a transaction is acknowledged only once mined with status 1; a mined failure (the state
  changed after the simulation) is replayed on the parent block to decode its error;
- only requests that cannot have taken effect are retried (a send the node rejected for
  its nonce is re-sent once with a fresh nonce).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import requests
from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3._utils.method_formatters import receipt_formatter
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import BlockIdentifier, RPCEndpoint, TxParams, TxReceipt, Wei

from .errors import (
    ContractRevertError,
    NodeUnavailableError,
    TransactionRejectedError,
    TransactionTimeoutError,
)
from .node import Node
from .revert import RevertDecoder, revert_data

CALL_GAS = 1_000_000
DEPLOY_GAS = 5_000_000
FUND_WEI = 10 * 10**18  # given to each new account when gas is not free
_FEE_REFRESH_SECONDS = 30.0
_METHOD_NOT_FOUND = -32601
T = TypeVar("T")


class TxSender:
    """Sends signed transactions to one node and waits until they are mined."""

    def __init__(self, node: Node, decoder: RevertDecoder, *, receipt_timeout: float,
                 priority_fee: int = 0) -> None:  # fmt: skip
        self._node = node
        self._w3: Web3 = node.w3
        self._decoder = decoder
        self._timeout = receipt_timeout
        self._tip = priority_fee
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._nonces: dict[str, int] = {}
        self._fee_cap = (0, 0.0)
        self.chain_id = guard(node, lambda: self._w3.eth.chain_id)
        # account address -> a lock held across processes (None: this process signs alone)
        self.shared_lock: Callable[[str], AbstractContextManager[object]] | None = None

    def transact(self, account: LocalAccount, to: str | None, data: bytes,
                 gas: int = CALL_GAS, value: int = 0) -> TxReceipt:  # fmt: skip
        """Simulate, sign, send and wait; raises ContractRevertError subclasses on revert,
        NodeUnavailableError when the node cannot be reached."""
        call: TxParams = {"from": account.address, "data": data, "value": Wei(value)}
        if to is not None:
            call["to"] = Web3.to_checksum_address(to)
            self.simulate(call)
        with self._account_lock(account.address):
            if self.shared_lock is None:
                receipt = self._send_with_nonce(account, call, gas)
            else:
                with self.shared_lock(account.address):
                    self._nonces.pop(account.address, None)  # another process may have sent
                    receipt = self._send_with_nonce(account, call, gas)
        if receipt["status"] != 1:
            self._raise_mined_failure(call, receipt)
        return receipt

    def balance(self, address: str) -> int:
        checksum = Web3.to_checksum_address(address)
        return int(guard(self._node, lambda: self._w3.eth.get_balance(checksum)))

    def simulate(self, call: TxParams, block: BlockIdentifier = "latest") -> bytes:
        """``eth_call``; a revert raises its decoded error."""
        try:
            return bytes(guard(self._node, lambda: self._w3.eth.call(call, block)))
        except (ContractLogicError, TransactionFailed) as exc:
            raise self._decoder.error(revert_data(exc)) from None

    def _account_lock(self, address: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[address]

    def _send_with_nonce(self, account: LocalAccount, call: TxParams, gas: int) -> TxReceipt:
        for attempt in (1, 2):
            nonce = self._next_nonce(account.address)
            raw = self._sign(account, call, gas, nonce)
            try:
                receipt = self._send(raw)
            except Web3RPCError as exc:
                self._nonces.pop(account.address, None)
                if attempt == 2 or "nonce" not in str(exc).lower():
                    raise TransactionRejectedError(str(exc)) from None
                continue
            except BaseException:
                self._nonces.pop(account.address, None)
                raise
            self._nonces[account.address] = nonce + 1
            return receipt
        raise AssertionError("unreachable")

    def _next_nonce(self, address: str) -> int:
        if address not in self._nonces:
            checksum = to_checksum_address(address)
            count = guard(
                self._node, lambda: self._w3.eth.get_transaction_count(checksum, "pending")
            )
            self._nonces[address] = count
        return self._nonces[address]

    def _sign(self, account: LocalAccount, call: TxParams, gas: int, nonce: int) -> bytes:
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": nonce,
            "gas": gas,
            "maxFeePerGas": self._max_fee(),
            "maxPriorityFeePerGas": self._tip,
            "value": call.get("value", 0),
            "data": call["data"],
        }
        if "to" in call:
            tx["to"] = call["to"]
        return bytes(account.sign_transaction(tx).raw_transaction)

    def _max_fee(self) -> int:
        cap, at = self._fee_cap
        if time.monotonic() - at > _FEE_REFRESH_SECONDS:
            block = guard(self._node, lambda: self._w3.eth.get_block("latest"))
            cap = 2 * int(block.get("baseFeePerGas", 0)) + self._tip
            self._fee_cap = (cap, time.monotonic())
        return cap

    def _send(self, raw: bytes) -> TxReceipt:
        if self._node.send_mode == "sync":
            receipt = self._send_sync(raw)
            if receipt is not None:
                return receipt
        tx_hash = guard(self._node, lambda: self._w3.eth.send_raw_transaction(raw))
        if self._node.send_mode == "mined-on-send":
            return guard(self._node, lambda: self._w3.eth.get_transaction_receipt(tx_hash))
        return self._poll(tx_hash.to_0x_hex())

    def _send_sync(self, raw: bytes) -> TxReceipt | None:
        """``eth_sendRawTransactionSync``; None (and poll from now on) if unsupported."""
        params = ["0x" + raw.hex()]
        method = RPCEndpoint("eth_sendRawTransactionSync")
        response = guard(self._node, lambda: self._w3.provider.make_request(method, params))
        error = response.get("error")
        if error and error.get("code") == _METHOD_NOT_FOUND:
            self._node.send_mode = "poll"
            return None
        if error:
            raise Web3RPCError(str(error.get("message")), rpc_response=response)
        return receipt_formatter(response["result"])  # type: ignore[no-any-return]

    def _poll(self, tx_hash: str) -> TxReceipt:
        """Poll fast (2 ms, doubling to 50 ms): web3's default 0.1 s costs ~100 ms a tx."""
        deadline, delay = time.monotonic() + self._timeout, 0.002
        eth, tx = self._w3.eth, HexStr(tx_hash)
        while time.monotonic() < deadline:
            try:
                return guard(self._node, lambda: eth.get_transaction_receipt(tx))
            except TransactionNotFound:
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        raise TransactionTimeoutError(tx_hash, self._timeout)

    def _raise_mined_failure(self, call: TxParams, receipt: TxReceipt) -> None:
        tx_hash = receipt["transactionHash"].to_0x_hex()
        try:
            self.simulate(call, max(receipt["blockNumber"] - 1, 0))
        except ContractRevertError as exc:
            exc.tx_hash = tx_hash
            exc.details["tx_hash"] = tx_hash
            raise
        raise self._decoder.error(None, tx_hash)


def guard(node: Node, request: Callable[[], T]) -> T:
    """Run one request; a connection failure becomes NodeUnavailableError."""
    try:
        return request()
    except (requests.ConnectionError, requests.Timeout, ConnectionError, OSError) as exc:
        raise NodeUnavailableError(node.endpoint, type(exc).__name__) from None
