"""Ledger benchmark: anchors per second and gas per anchor on the embedded backend and on
a local anvil, plus the embedded restart time at the final height.

    .venv/bin/python bench/ledger.py [--anchors 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# this file is named like the package it measures: keep its folder off the import path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from ledger import AnchorKind, LedgerConfig, Role, open_ledger  # noqa: E402
from ledger.testing import UNSAFE_ANVIL_DEV_KEY, run_anvil  # noqa: E402


def _anchors(config: LedgerConfig, count: int) -> tuple[float, int]:
    ledger = open_ledger(config)
    ledger.ensure_account("provider", Role.PROVIDER)
    ledger.anchor(AnchorKind.CONTRIBUTION, os.urandom(32), 1, os.urandom(32))
    start, gas = time.perf_counter(), 0
    for _ in range(count):
        gas = ledger.anchor(AnchorKind.CONTRIBUTION, os.urandom(32), 1, os.urandom(32)).gas_used
    rate = count / (time.perf_counter() - start)
    ledger.close()
    return rate, gas


def _restart_seconds(config: LedgerConfig) -> tuple[float, int]:
    start = time.perf_counter()
    ledger = open_ledger(config)
    elapsed = time.perf_counter() - start
    height = ledger.status().height
    ledger.close()
    return elapsed, height


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--anchors", type=int, default=200)
    count = parser.parse_args().anchors
    base = Path(tempfile.mkdtemp(prefix="dexin-ledger-bench-"))
    embedded = LedgerConfig(data_dir=base / "embedded", key_secret=os.urandom(32))
    rate, gas = _anchors(embedded, count)
    print(f"embedded: {rate:6.1f} anchors/s  {1000 / rate:5.1f} ms/anchor  {gas} gas/anchor")
    seconds, height = _restart_seconds(embedded)
    print(f"embedded restart at height {height}: {seconds * 1000:.0f} ms")
    with run_anvil() as url:
        rpc = LedgerConfig(backend="jsonrpc", rpc_url=url, data_dir=base / "anvil",
                           key_secret=os.urandom(32), funding_key=UNSAFE_ANVIL_DEV_KEY)  # fmt: skip
        rate_rpc, gas_rpc = _anchors(rpc, count)
    print(f"anvil:    {rate_rpc:6.1f} anchors/s  {1000 / rate_rpc:5.1f} ms/anchor  {gas_rpc} gas")
    print(f"ratio anvil/embedded: {rate_rpc / rate:.1f}x")


if __name__ == "__main__":
    main()
