"""The network files every validator mounts, built from the consortium and the handed-over
public keys (the output ``besu operator generate-blockchain-config`` gives for imported keys,
plus what local permissioning needs).

Output, under one directory (``deploy/network/`` by default, git-ignored):

- ``genesis.json``: QBFT genesis whose ``extraData`` lists the validators' addresses;
- ``keys/<address>/key.pub``: the public keys, in Besu's operator-output layout;
- ``static-nodes.json``, ``permissions_config.toml`` (``nodes-allowlist``) and the
  ``bootnodes`` of ``config.toml``: the same four enodes, ``enode://<id>@<static ip>:30303``;
- ``config.toml``: ``deploy/besu/common.toml`` plus the network's options;
- ``validators.json``: who is who (organisation, service, IP, address, enode);
- ``ledger.env``: the vault owner's ledger settings (no secret in it).

Nothing here reads or writes a private key.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from deploy.consortium import Consortium
from deploy.errors import NetworkInputError
from deploy.nodekeys import NodeIdentity
from deploy.qbft import genesis

COMMON_OPTIONS = Path(__file__).resolve().parent / "besu" / "common.toml"
CONFIG_DIR = "/etc/besu"  # where docker-compose.yml mounts the network directory
TomlValue = str | int | bool | list[str]


def build(consortium: Consortium, identities: Iterable[NodeIdentity], timestamp: int,
          common: Mapping[str, TomlValue]) -> dict[str, str]:  # fmt: skip
    """Every file's text by relative path. Raises NetworkInputError unless there is exactly
    one public key per validator and no key is used twice."""
    by_org = _match(consortium, list(identities))
    enodes = [by_org[v.org].enode(v.ip, consortium.p2p_port) for v in consortium.validators]
    doc = genesis(consortium.chain, [i.address for i in by_org.values()], timestamp)
    files = {
        "genesis.json": json.dumps(doc, indent=2) + "\n",
        "static-nodes.json": json.dumps(enodes, indent=2) + "\n",
        "permissions_config.toml": to_toml({"nodes-allowlist": enodes}),
        "config.toml": to_toml(besu_config(consortium, enodes, common)),
        "validators.json": json.dumps(_roster(consortium, by_org), indent=2) + "\n",
        "ledger.env": _ledger_env(consortium),
    }
    for identity in by_org.values():
        files[f"keys/{identity.address.lower()}/key.pub"] = "0x" + identity.node_id
    return files


def besu_config(consortium: Consortium, enodes: list[str],
                common: Mapping[str, TomlValue]) -> dict[str, TomlValue]:  # fmt: skip
    options = dict(common)
    options.update({
        "genesis-file": f"{CONFIG_DIR}/genesis.json",
        "network-id": consortium.chain.chain_id,
        "static-nodes-file": f"{CONFIG_DIR}/static-nodes.json",
        "permissions-nodes-config-file": f"{CONFIG_DIR}/permissions_config.toml",
        "bootnodes": enodes,
    })  # fmt: skip
    return options


def load_common(path: Path = COMMON_OPTIONS) -> dict[str, TomlValue]:
    return dict(tomllib.loads(path.read_text(encoding="utf-8")))


def write(out: Path, files: Mapping[str, str]) -> None:
    """Write the files under ``out``, refusing to replace a network that is already there
    (a new genesis is a new chain)."""
    if (out / "genesis.json").exists():
        raise NetworkInputError(f"{out} already holds a network; move it away first")
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def to_toml(options: Mapping[str, TomlValue]) -> str:
    """Besu's config-file subset of TOML: strings, integers, booleans, lists of strings."""
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in options.items())


def _toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(json.dumps(str(v)) for v in value) + "]"


def _match(consortium: Consortium, identities: list[NodeIdentity]) -> dict[str, NodeIdentity]:
    wanted = [v.org for v in consortium.validators]
    given = sorted(i.org for i in identities)
    if given != sorted(wanted):
        raise NetworkInputError(f"public keys for {given}, validators are {sorted(wanted)}")
    if len({i.public_key for i in identities}) != len(identities):
        raise NetworkInputError("two organisations handed over the same public key")
    by_org = {i.org: i for i in identities}
    return {org: by_org[org] for org in wanted}


def _roster(consortium: Consortium, by_org: Mapping[str, NodeIdentity]) -> list[dict[str, str]]:
    rows = []
    for v in consortium.validators:
        identity = by_org[v.org]
        rows.append({"org": v.org, "service": v.service, "ip": v.ip,
                     "address": identity.address, "enode": identity.enode(v.ip, consortium.p2p_port)})  # fmt: skip
    return rows


def _ledger_env(consortium: Consortium) -> str:
    node = consortium.validator(consortium.rpc_client_org)
    return (
        "# Written by `python -m deploy.network init`: the vault owner's ledger backend.\n"
        f"# Chain {consortium.chain.chain_id}, free gas (zero base fee): no DEXIN_LEDGER_FUNDING_KEY.\n"
        "DEXIN_LEDGER=jsonrpc\n"
        f"DEXIN_LEDGER_RPC_URL=http://{node.service}:{consortium.rpc_port}\n"
    )
