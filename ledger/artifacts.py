"""The compiled contract, read from the committed artifacts in ``contracts/build``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ARTIFACT_DIR = Path(__file__).resolve().parent.parent / "contracts" / "build"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes


@cache
def load_artifact(name: str = "DexinLedger") -> Artifact:
    """Load ``contracts/build/<name>.json`` (produced by ``contracts/build.mjs``)."""
    data = json.loads((ARTIFACT_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
    )
