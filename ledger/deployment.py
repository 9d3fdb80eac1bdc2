"""Where the contract lives on a chain: deploy once, record it, and check it on every open.

``data_dir/deployment.json`` records the chain id and address. On open, the code at that
address must equal the committed artifact's runtime bytecode (fail closed otherwise).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from .artifacts import Artifact
from .errors import DeploymentError
from .node import Node
from .sender import DEPLOY_GAS, TxSender, guard


def locate_or_deploy(node: Node, sender: TxSender, artifact: Artifact, record: Path,
                     admin: LocalAccount, address: str | None) -> str:  # fmt: skip
    """The contract address: ``address`` if given, else the recorded one, else a fresh
    deployment by ``admin`` (which becomes the first admin). Raises DeploymentError."""
    address = address or recorded_address(record, sender.chain_id)
    if address is None:
        receipt = sender.transact(admin, None, artifact.bytecode, gas=DEPLOY_GAS)
        address = str(receipt["contractAddress"])
        _write(record, {"chain_id": sender.chain_id, "address": address,
                        "block": receipt["blockNumber"]})  # fmt: skip
    check_deployed(node, artifact, address)
    return Web3.to_checksum_address(address)


def recorded_address(record: Path, chain_id: int) -> str | None:
    """The address ``record`` holds for ``chain_id``; None if nothing was recorded."""
    if not record.exists():
        return None
    doc = json.loads(record.read_text(encoding="utf-8"))
    if doc["chain_id"] != chain_id:
        raise DeploymentError(f"recorded for chain {doc['chain_id']}, node is {chain_id}")
    return str(doc["address"])


def check_deployed(node: Node, artifact: Artifact, address: str) -> None:
    """Raise DeploymentError unless the code at ``address`` is the committed artifact's."""
    checksum = Web3.to_checksum_address(address)
    code = guard(node, lambda: node.w3.eth.get_code(checksum))
    if bytes(code) != artifact.deployed_bytecode:
        raise DeploymentError("code at the address is not the committed artifact", address)


def _write(path: Path, doc: dict[str, object]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
