"""Shared by tests/deploy: a network built from freshly generated keys in a temporary folder
(no key ever lands in the repository)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deploy import netfiles, nodekeys
from deploy.consortium import Consortium
from deploy.nodekeys import NodeIdentity

GENESIS_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Network:
    consortium: Consortium
    identities: list[NodeIdentity]
    secrets: Path  # each organisation's own folder (its key stays there)
    pubkeys: Path  # what was handed over
    out: Path  # what init wrote


def build_network(root: Path, consortium: Consortium) -> Network:
    """Every organisation runs keygen, hands over its .pub; init writes ``root/network``."""
    secrets, pubkeys, out = root / "secrets", root / "handed-over", root / "network"
    pubkeys.mkdir(parents=True)
    identities = []
    for v in consortium.validators:
        identity = nodekeys.generate(v.org, secrets / v.org)
        (pubkeys / f"{v.org}.pub").write_bytes((secrets / v.org / f"{v.org}.pub").read_bytes())
        identities.append(identity)
    files = netfiles.build(consortium, identities, GENESIS_TIME, netfiles.load_common())
    netfiles.write(out, files)
    return Network(consortium, identities, secrets, pubkeys, out)
