"""A contribution loads all or nothing, even when the process is killed (-9) midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from vault_builders import RESIDENT_HEADER, id_number, resident, write

from dexin.app import open_vault, vault_config
from dexin.keys import key_provider
from dexin.settings import Settings
from vault.registry import load_registry
from vault.store import Vault

ROWS = 150_000
SCRIPT = """
import sys
from pathlib import Path
from dexin.app import open_vault
from dexin.settings import Settings
from vault.ingest import ingest_file
with open_vault(Settings.from_env()) as v:
    print("open", flush=True)
    ingest_file(v, "public_security", "residents", Path(sys.argv[1]))
"""


def _big_file(tmp_path: Path) -> Path:
    rows = []
    for i in range(ROWS):
        year = 1940 + (i // 100) % 80
        unique = id_number(i % 100, year, month=1 + (i // 8000) % 12, day=1 + (i // 96000) % 28)
        rows.append(resident(i % 100, year=year, household=i // 3, id_number=unique))
    return write(tmp_path / "residents.csv", RESIDENT_HEADER, rows)


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEXIN_HOME=str(settings.home),
        DEXIN_MASTER_KEY=settings.master_key_hex or "",
        DEXIN_AS_OF="2026-11-01",
    )
    return env


def _state(settings: Settings) -> tuple[int, int, int]:
    """(contributions, rows, rows whose digest is its leaf) stored for public_security."""
    with open_vault(settings) as v:
        ((n,),) = v.query("SELECT count(*) FROM p_public_security.contributions")
        ((rows,),) = v.query("SELECT count(*) FROM p_public_security.residents")
        ((leaves,),) = v.query("SELECT count(row_digest) FROM p_public_security.residents")
    return n, rows, leaves


def test_kill_9_at_any_moment_leaves_all_or_nothing(settings: Settings, tmp_path: Path) -> None:
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    path = _big_file(tmp_path)
    outcomes = set()
    for delay in (0.1, 0.4, 0.8, 1.2, 1.8, 2.5, 4.0):
        proc = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(path)],
            env=_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"open"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        state = _state(settings)
        assert state in ((0, 0, 0), (1, ROWS, ROWS)), state
        outcomes.add(state[0])
    assert 0 in outcomes, "no kill landed before the commit; lower the delays"
    subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)],
        env=_env(settings),
        check=True,
        capture_output=True,
    )
    assert _state(settings) == (1, ROWS, ROWS)
