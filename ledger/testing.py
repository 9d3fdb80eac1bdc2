"""Test helpers: a real anvil node on loopback. Not for production use.

The anvil binary: `ledger.anvil` (the npm package ``@foundry-rs/anvil-linux-amd64@1.7.1``;
the wrapper package is left out because npm 11 writes a lock file without its other
platforms' optional packages, which ``npm ci`` then rejects).

The funding key below is anvil's first well-known development key: it is public, so it
must never fund anything but a throwaway local chain.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from web3 import Web3

from ledger.anvil import REPO as REPO  # the checkout (tests read its files)
from ledger.anvil import anvil_binary

UNSAFE_ANVIL_DEV_KEY = bytes.fromhex(
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def run_anvil(*, block_time: float | None = None) -> Iterator[str]:
    """Start anvil on 127.0.0.1 at a free port (Prague rules, auto-mine); yield its URL;
    stop it after."""
    port = free_port()
    args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port),
            "--hardfork", "prague", "--silent"]  # fmt: skip
    if block_time is not None:
        args += ["--block-time", str(block_time)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        stop_process(proc, timeout=10)


def stop_process(proc: subprocess.Popen[Any], timeout: float) -> None:
    """Terminate ``proc``, kill it if it is still there after ``timeout`` seconds, and close
    its stderr pipe."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 1}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"anvil exited with {proc.returncode}")
        try:
            _ = w3.eth.chain_id
            return
        except Exception:
            time.sleep(0.05)
    raise TimeoutError(f"anvil did not answer at {url}")
