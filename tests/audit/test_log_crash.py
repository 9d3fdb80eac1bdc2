"""kill -9 during appends: no acknowledged entry is lost and the log still verifies."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audit_builders import ORIGIN

from audit.entry import decode_entry
from audit.export import snapshot_log
from audit.log import AuditLog, LogOptions
from audit.note import NoteSigner
from audit.reader import LogReader
from audit.verify import Trust, verify_snapshot

REPO = Path(__file__).resolve().parents[2]
CHILD = """
import sys, threading
sys.path.insert(0, {tests!r})
from pathlib import Path
from audit_builders import entry
from audit.log import AuditLog, LogOptions
from audit.note import NoteSigner
log = AuditLog.open(Path({directory!r}), NoteSigner.load(Path({key!r})),
                    LogOptions(checkpoint_every=300, checkpoint_interval=0.05))
lock = threading.Lock()
def work(worker):
    for i in range(10**6):
        receipt = log.append(entry(i, request_id=f"w{{worker}}-{{i}}"))
        with lock:
            sys.stdout.write(f"{{receipt.index}} w{{worker}}-{{i}}\\n")
            sys.stdout.flush()
threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def _crash_once(tmp: Path, key: Path, seed: int) -> dict[int, str]:
    script = CHILD.format(
        tests=str(Path(__file__).parent), directory=str(tmp / "audit"), key=str(key)
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    # wait for the first acknowledgement (start-up takes longer on a busy machine), then kill
    # at a random moment while appends are under way
    first = child.stdout.readline()
    time.sleep(random.Random(seed).uniform(0.05, 0.6))
    child.send_signal(signal.SIGKILL)
    rest, _ = child.communicate()
    output = first + rest
    acknowledged = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():  # a line cut by the kill is ignored
            acknowledged[int(parts[0])] = parts[1]
    return acknowledged


def _check(tmp: Path, signer: NoteSigner, acknowledged: dict[int, str]) -> None:
    with AuditLog.open(tmp / "audit", signer, LogOptions()) as log:
        for index, request_id in acknowledged.items():
            assert index < log.size, f"acknowledged entry {index} lost"
            assert decode_entry(log.entry(index))[1].request_id == request_id
    with LogReader(tmp / "audit") as reader:
        verify_snapshot(
            snapshot_log(reader), Trust(log_key=signer.verifier()), require_anchor=False
        )


def _rounds(tmp_path: Path, rounds: int) -> None:
    signer = NoteSigner.generate(ORIGIN)
    key = tmp_path / "log.key"
    signer.save(key)
    total: dict[int, str] = {}
    for seed in range(rounds):
        acknowledged = _crash_once(tmp_path, key, seed)
        total.update(acknowledged)
        _check(tmp_path, signer, total)
    assert total, "the child acknowledged nothing"


def test_kill_9_during_appends_loses_nothing(tmp_path: Path) -> None:
    _rounds(tmp_path, 3)


@pytest.mark.slow
def test_kill_9_many_rounds(tmp_path: Path) -> None:
    _rounds(tmp_path, 25)
