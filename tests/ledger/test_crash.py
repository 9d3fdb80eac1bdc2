"""kill -9 while anchoring: every acknowledged anchor survives and the chain reopens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import AnchorKind, LedgerConfig, Role, open_ledger

_WRITER = """
import os, sys
from pathlib import Path
from ledger import AnchorKind, LedgerConfig, open_ledger
config = LedgerConfig(data_dir=Path(sys.argv[1]), key_secret=bytes.fromhex(sys.argv[2]))
ledger = open_ledger(config)
while True:
    root = os.urandom(32)
    ledger.anchor(AnchorKind.CONTRIBUTION, root, 1, bytes(32))
    print(root.hex(), flush=True)
"""


def _crash_round(data_dir: Path, secret: bytes, acked: list[bytes]) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(data_dir), secret.hex()],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    for _ in range(5 + len(acked) % 7):
        acked.append(bytes.fromhex(proc.stdout.readline().strip()))
    time.sleep((len(acked) % 5) / 200)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def _run(tmp_path: Path, rounds: int) -> None:
    secret = os.urandom(32)
    config = LedgerConfig(data_dir=tmp_path / "ledger", key_secret=secret)
    ledger = open_ledger(config)
    ledger.ensure_account("provider", Role.PROVIDER)
    ledger.close()
    acked: list[bytes] = []
    for _ in range(rounds):
        _crash_round(config.data_dir, secret, acked)
        ledger = open_ledger(config)
        for root in acked:
            assert ledger.get_anchor(root).kind == AnchorKind.CONTRIBUTION
        ledger.anchor(AnchorKind.CONTRIBUTION, os.urandom(32), 1, bytes(32))
        ledger.close()


def test_kill_9_loses_no_acknowledged_anchor(tmp_path: Path) -> None:
    _run(tmp_path, rounds=3)


@pytest.mark.slow
def test_kill_9_thirty_rounds(tmp_path: Path) -> None:
    _run(tmp_path, rounds=30)
