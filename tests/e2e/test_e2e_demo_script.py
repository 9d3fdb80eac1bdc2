"""`dexin demo --script` end to end on a tiny demo: every step as expected, in order."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from e2e_support import build_demo
from rich.console import Console

from dexin.demo_script import run_script, tamper


def test_the_story_holds_from_ask_to_a_named_tampered_byte(tmp_path: Path) -> None:
    env, _ = build_demo(tmp_path / "home")
    buffer = io.StringIO()
    steps = run_script(env, Console(file=buffer, width=200), url=None)
    text = buffer.getvalue()
    assert steps == 15, text
    for expected in ("pending", "approved", "signs in at the identity provider",
                     "proved by a fresh sign-in", "signature and subject binding verified",
                     "withdraws", "consent_withdrawn", "differential privacy",
                     "signed with its own key", "countersigned receipt",
                     "every provider's signature verified",
                     "aggregates 2 BLS signatures into one", "dexin audit verify while the gateway runs: OK",
                     "dexin ledger verify",
                     "verify exits 1 and names entry"):  # fmt: skip
        assert expected in text, (expected, text)


def test_a_failed_step_exits_non_zero(tmp_path: Path) -> None:
    """Against a URL where no gateway answers, the script fails and says so."""
    env = {"DEXIN_HOME": str(tmp_path / "empty"), "DEXIN_MASTER_KEY": "00" * 32}
    code = "from dexin.demo_script import script_command; script_command(url='http://127.0.0.1:9')"
    r = subprocess.run([sys.executable, "-c", code], env=os.environ | env, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 1 and "the story failed" in r.stdout


def test_tamper_alters_exactly_one_byte(tmp_path: Path) -> None:
    entries = tmp_path / "entries.jsonl"
    original = b'{"actor":"bank_1","index":0}\n{"actor":"bank_2","index":1}\n'
    entries.write_bytes(original)
    index = tamper(entries)
    changed = entries.read_bytes()
    assert index == 1 and len(changed) == len(original)
    assert sum(a != b for a, b in zip(original, changed, strict=True)) == 1
