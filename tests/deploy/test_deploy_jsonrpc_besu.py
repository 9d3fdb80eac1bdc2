"""The JSON-RPC ledger backend against anvil run with Besu-equivalent settings: Prague, zero
base fee, zero gas price, the genesis chain id, no funding key (free gas).

Between the ledger and anvil sits a loopback proxy that makes anvil answer like a Besu QBFT
node where they differ: block headers carry a QBFT ``extraData`` (vanity, validators, round,
seals: far over 32 bytes) and ``eth_sendRawTransactionSync`` does not exist. The proxy also
records every request, so the test can check that block parameters are hex (Besu >= 26.6
rejects decimal block numbers).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import rlp

from deploy import consortium, qbft
from ledger import AnchorKind, LedgerConfig, Role, open_ledger
from ledger.testing import anvil_binary, free_port

CHAIN_ID = consortium.load().chain.chain_id
VALIDATORS = [bytes([n]) * 20 for n in range(1, 5)]
# a sealed QBFT header's extraData: 4 validators, round 0, 3 commit seals of 65 bytes
SEALED_EXTRA = "0x" + rlp.encode([bytes(32), VALIDATORS, [], 0, [bytes(65)] * 3]).hex()
BLOCK_PARAM = {  # where each method takes a block number or tag
    "eth_call": 1, "eth_getBalance": 1, "eth_getCode": 1, "eth_getTransactionCount": 1,
    "eth_getBlockByNumber": 0, "eth_estimateGas": 1, "eth_getStorageAt": 2,
}  # fmt: skip
TAGS = {"latest", "pending", "earliest", "safe", "finalized"}


class _BesuLike(BaseHTTPRequestHandler):
    upstream: ClassVar[str] = ""
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        calls = body if isinstance(body, list) else [body]
        self.requests.extend(calls)
        answers = [self._answer(call) for call in calls]
        payload = json.dumps(answers if isinstance(body, list) else answers[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _answer(self, call: dict[str, Any]) -> dict[str, Any]:
        if call["method"] == "eth_sendRawTransactionSync":  # Besu has no such method
            return {"jsonrpc": "2.0", "id": call["id"],
                    "error": {"code": -32601, "message": "Method not found"}}  # fmt: skip
        request = urllib.request.Request(self.upstream, json.dumps(call).encode(),
                                         {"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
        result = answer.get("result")
        if call["method"].startswith("eth_getBlockBy") and isinstance(result, dict):
            result["extraData"] = SEALED_EXTRA
        return answer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@contextmanager
def _besu_like_anvil() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    port = free_port()
    args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--silent",
            "--hardfork", "prague", "--base-fee", "0", "--gas-price", "0",
            "--chain-id", str(CHAIN_ID)]  # fmt: skip
    anvil = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    handler = type("Handler", (_BesuLike,), {"upstream": f"http://127.0.0.1:{port}",
                                              "requests": []})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _wait(handler.upstream, anvil)
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()
        anvil.terminate()
        anvil.wait(timeout=10)


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"anvil exited with {proc.returncode}")
        try:
            request = urllib.request.Request(
                url, call.encode(), {"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=1).close()
            return
        except OSError:
            threading.Event().wait(0.05)
    raise TimeoutError("anvil did not start")


@pytest.fixture(scope="module")
def besu_like() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with _besu_like_anvil() as node:
        yield node


def test_the_sealed_extra_data_is_a_qbft_header_not_a_genesis() -> None:
    with pytest.raises(Exception, match="no seals"):
        qbft.decode_extra_data(SEALED_EXTRA)
    assert len(bytes.fromhex(SEALED_EXTRA[2:])) > 32


def test_deploy_and_anchor_on_a_free_gas_besu_like_chain(
    tmp_path: Path, besu_like: tuple[str, list[dict[str, Any]]]
) -> None:
    url, requests = besu_like
    config = LedgerConfig(backend="jsonrpc", rpc_url=url, data_dir=tmp_path / "ledger",
                          key_secret=os.urandom(32))  # no funding key: gas is free  # fmt: skip
    ledger = open_ledger(config)
    try:
        assert ledger.status().chain_id == CHAIN_ID
        ledger.ensure_account("provider:court", Role.PROVIDER)
        root, digest = os.urandom(32), os.urandom(32)
        receipt = ledger.anchor(AnchorKind.CONTRIBUTION, root, 7, digest)
        anchor = ledger.verify_anchor(root, kind=AnchorKind.CONTRIBUTION, size=7,
                                      metadata_digest=digest)  # fmt: skip
        assert anchor.block_number == receipt.block_number
        assert ledger.block_time(receipt.block_number) > 0  # a header with QBFT extraData
        assert [e.name for e in ledger.events(0)][-1] == "Anchored"
        assert ledger._node.send_mode == "poll"  # Besu has no eth_sendRawTransactionSync
    finally:
        ledger.close()
    assert any(r["method"] == "eth_getBlockByNumber" for r in requests)
    _assert_block_parameters_are_hex(requests)


def _assert_block_parameters_are_hex(requests: list[dict[str, Any]]) -> None:
    hex_number = re.compile(r"^0x(0|[1-9a-f][0-9a-f]*)$")
    for call in requests:
        params = call.get("params") or []
        values = []
        if call["method"] in BLOCK_PARAM and len(params) > BLOCK_PARAM[call["method"]]:
            values.append(params[BLOCK_PARAM[call["method"]]])
        if call["method"] == "eth_getLogs":
            values += [params[0].get(k) for k in ("fromBlock", "toBlock") if k in params[0]]
        for value in values:
            assert isinstance(value, str), (call["method"], value)
            assert value in TAGS or hex_number.match(value), (call["method"], value)
