"""The committed artifacts are exactly what the pinned compiler makes from the sources."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from ledger.artifacts import ARTIFACT_DIR, load_artifact
from ledger.testing import REPO


def test_recompiling_the_sources_reproduces_every_byte() -> None:
    if not (REPO / "node_modules" / "solc").exists():
        pytest.fail("node_modules/solc missing: run `make install` (npm ci)")
    node = shutil.which("node")
    assert node is not None, "node is required to rebuild the contracts"
    result = subprocess.run(
        [node, str(REPO / "contracts" / "build.mjs"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_artifact_is_pinned_to_solc_0_8_37_for_prague() -> None:
    doc = json.loads((ARTIFACT_DIR / "DexinLedger.json").read_text())
    assert doc["compiler"]["version"].startswith("0.8.37+")
    assert doc["compiler"]["settings"]["evmVersion"] == "prague"
    assert doc["compiler"]["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    metadata = json.loads(doc["metadata"])
    assert metadata["settings"]["evmVersion"] == "prague"


def test_runtime_code_uses_no_osaka_only_opcode() -> None:
    # CLZ (0x1e) is Osaka-only; py-evm has no Osaka VM. A PUSH payload may contain 0x1e,
    # so walk the code instruction by instruction up to the CBOR metadata.
    code = load_artifact().deployed_bytecode
    end = len(code) - 2 - int.from_bytes(code[-2:], "big")
    pc = 0
    while pc < end:
        op = code[pc]
        assert op != 0x1E, f"CLZ at {pc}"
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
