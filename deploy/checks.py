"""Static checks of the deployment: what CI can check without a container engine.

Each ``check_*`` returns None or raises :class:`~deploy.errors.CheckFailed` naming the check,
what was expected and what was found. :func:`check_all` runs them over the repository's
``docker-compose.yml`` (and, given one, a generated network directory).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from deploy import compose_options
from deploy.consortium import Consortium
from deploy.errors import CheckFailed
from deploy.nodekeys import NodeIdentity, parse_public_key
from deploy.qbft import decode_extra_data

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "deploy" / "schema" / "compose-spec.json"
BESU_IMAGE = "hyperledger/besu"
# 26.4.0-26.7.0 drop zero-cost transactions from zero-balance senders (besu#10751, fixed in
# 26.7.1): on our free-gas chain the unfunded role accounts could never write.
MIN_BESU = (26, 7, 1)
DATA_PATH = "/opt/besu/data"
NODE_KEY_SECRET = "besu_node_key"
# Removed options (host-whitelist: 24.x; miner-*: the PoW removal; on-chain permissioning:
# 25.x) and APIs that must never be reachable from outside the node's own network.
FORBIDDEN_OPTION = re.compile(r"^(host-whitelist|miner-.*|permissions-.*-contract-.*)$")
DANGEROUS_APIS = {"ADMIN", "DEBUG", "TXPOOL", "PERM", "QBFT", "IBFT", "MINER", "PLUGINS", "TRACE"}
LEDGER_APIS = {"ETH", "NET", "WEB3"}
REQUIRED = {
    "min-gas-price": "0",
    "tx-pool-min-gas-price": "0",
    "data-storage-format": "FOREST",
    "sync-mode": "FULL",
    "permissions-nodes-config-file-enabled": "true",
    "data-path": DATA_PATH,
}
RPC_PORTS = {8545, 8546, 8547, 8550, 8551}


def load_compose(path: Path = ROOT / "docker-compose.yml") -> dict[str, Any]:
    """The compose file as YAML gives it (merge keys resolved; no interpolation needed:
    the schema admits ``${...}`` strings where compose interpolates)."""
    import yaml  # dev dependency: keygen and init run without it, on each organisation's side

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise CheckFailed("compose file", "a mapping", type(doc).__name__)
    return doc


def check_schema(compose: Mapping[str, Any], schema_path: Path = SCHEMA) -> None:
    import jsonschema  # dev dependency, like yaml above

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        raise CheckFailed("compose schema", "a valid compose file", f"{where}: {errors[0].message}")


def besu_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose.get("services", {})
    return {name: svc for name, svc in services.items()
            if str(svc.get("image", "")).split(":")[0] == BESU_IMAGE}  # fmt: skip


def check_besu_images(services: Mapping[str, Mapping[str, Any]]) -> None:
    """One pinned release tag, the same on every validator, at least MIN_BESU."""
    images = {str(svc["image"]) for svc in services.values()}
    if len(images) != 1:
        raise CheckFailed("besu image", "one image on every validator", sorted(images))
    tag = images.pop().partition(":")[2].split("@")[0]
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", tag)
    if match is None:
        raise CheckFailed("besu image", "a pinned release tag (e.g. 26.8.0)", tag or "no tag")
    version = tuple(int(x) for x in match.groups())
    if version < MIN_BESU:
        raise CheckFailed("besu image", "at least " + ".".join(map(str, MIN_BESU)), tag)


def check_besu_service(name: str, svc: Mapping[str, Any], compose: Mapping[str, Any]) -> None:
    """A health check, a named volume at the data path, a static IP, the node key from a
    compose secret, configuration mounted read-only, no RPC port published with a
    dangerous API."""
    test = (svc.get("healthcheck") or {}).get("test")
    if not test or test == ["NONE"] or svc["healthcheck"].get("disable"):
        raise CheckFailed(f"{name} healthcheck", "a health check", test)
    mounts = compose_options.mounts(svc)
    data = [m for m in mounts if m.target == DATA_PATH]
    if len(data) != 1 or data[0].source not in (compose.get("volumes") or {}):
        raise CheckFailed(f"{name} volume", f"a named volume at {DATA_PATH}", mounts)
    if any(m.source.startswith(".") and not m.read_only for m in mounts):
        raise CheckFailed(f"{name} mounts", "bind mounts read-only", mounts)
    if not compose_options.static_ip(svc):
        raise CheckFailed(f"{name} address", "a static ipv4_address", svc.get("networks"))
    if NODE_KEY_SECRET not in compose_options.secret_targets(svc):
        raise CheckFailed(f"{name} node key", f"a compose secret at {NODE_KEY_SECRET}", None)


def check_besu_options(name: str, options: Mapping[str, str], published: Iterable[int]) -> None:
    """No removed or dangerous option; free gas, FOREST, full sync, local permissioning."""
    for option in options:
        if FORBIDDEN_OPTION.match(option):
            raise CheckFailed(f"{name} options", "no removed or dangerous option", option)
    for option, value in REQUIRED.items():
        if options.get(option, "").lower() != value.lower():
            raise CheckFailed(f"{name} {option}", value, options.get(option))
    apis = _apis(options.get("rpc-http-api", ""))
    ws_apis = _apis(options.get("rpc-ws-api", ""))
    for key, found in (("rpc-http-api", apis), ("rpc-ws-api", ws_apis)):
        if found & DANGEROUS_APIS:
            raise CheckFailed(f"{name} {key}", "no ADMIN/DEBUG/TXPOOL/PERM/QBFT API", sorted(found))
        if not found <= LEDGER_APIS:
            raise CheckFailed(f"{name} {key}", sorted(LEDGER_APIS), sorted(found))
    exposed = sorted(set(published) & RPC_PORTS)
    if exposed:
        raise CheckFailed(f"{name} ports", "no JSON-RPC port published", exposed)
    if "*" in options.get("host-allowlist", "").split(","):
        raise CheckFailed(f"{name} host-allowlist", "named hosts", "*")


def _apis(value: str) -> set[str]:
    return {a.upper() for a in re.split(r"[,\s]+", value) if a}


def check_network(net: Path, consortium: Consortium,
                  handed_over: Iterable[NodeIdentity] | None = None) -> None:  # fmt: skip
    """The generated files agree: the genesis ``extraData`` decodes to exactly the
    validators whose keys were handed over (ascending); static nodes, bootnodes and the
    allowlist list the same enodes; the chain id is the consortium's everywhere."""
    genesis = json.loads((net / "genesis.json").read_text(encoding="utf-8"))
    config = tomllib.loads((net / "config.toml").read_text(encoding="utf-8"))
    keys = [read_key_pub(p) for p in sorted((net / "keys").glob("*/key.pub"))]
    identities = list(handed_over) if handed_over is not None else keys
    addresses = sorted((i.address for i in identities), key=str.lower)
    in_genesis = decode_extra_data(genesis["extraData"])
    if in_genesis != addresses:
        raise CheckFailed("genesis extraData", addresses, in_genesis)
    if sorted((k.address for k in keys), key=str.lower) != addresses:
        raise CheckFailed("keys/", addresses, [k.address for k in keys])
    _check_chain(genesis, config, consortium)
    _check_enodes(net, config, consortium, identities)


def read_key_pub(path: Path) -> NodeIdentity:
    """``keys/<address>/key.pub`` (Besu's operator layout), checked against its folder."""
    name = f"{path.parent.name}/key.pub"
    identity = NodeIdentity("-", parse_public_key(path.read_text(encoding="ascii"), name))
    if identity.address.lower() != path.parent.name.lower():
        raise CheckFailed(name, path.parent.name, identity.address)
    return identity


def _check_chain(genesis: Mapping[str, Any], config: Mapping[str, Any], c: Consortium) -> None:
    cfg = genesis["config"]
    ids = {"genesis": cfg.get("chainId"), "config.toml network-id": config.get("network-id"),
           "consortium.toml": c.chain.chain_id}  # fmt: skip
    if len(set(ids.values())) != 1:
        raise CheckFailed("chain id", "one chain id everywhere", ids)
    if genesis.get("baseFeePerGas") != "0x0" or cfg.get("zeroBaseFee") is not True:
        raise CheckFailed("genesis base fee", "baseFeePerGas 0x0 and zeroBaseFee", genesis)
    if "qbft" not in cfg or any(k in cfg for k in ("ibft2", "clique", "ethash")):
        raise CheckFailed("genesis consensus", "qbft only", sorted(cfg))


def _check_enodes(net: Path, config: Mapping[str, Any], c: Consortium,
                  identities: list[NodeIdentity]) -> None:  # fmt: skip
    by_address = {i.address: i for i in identities}
    roster = json.loads((net / "validators.json").read_text(encoding="utf-8"))
    expected = sorted(
        by_address[r["address"]].enode(c.validator(r["org"]).ip, c.p2p_port) for r in roster
    )
    if sorted(r["enode"] for r in roster) != expected or len(roster) != len(c.validators):
        raise CheckFailed("validators.json", expected, sorted(r["enode"] for r in roster))
    static = json.loads((net / "static-nodes.json").read_text(encoding="utf-8"))
    allow = tomllib.loads((net / "permissions_config.toml").read_text(encoding="utf-8"))
    for where, enodes in (("static-nodes.json", static), ("bootnodes", config.get("bootnodes")),
                          ("nodes-allowlist", allow.get("nodes-allowlist"))):  # fmt: skip
        if sorted(enodes or []) != expected:
            raise CheckFailed(f"enodes in {where}", expected, sorted(enodes or []))


def check_compose_matches(compose: Mapping[str, Any], c: Consortium,
                          config: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    """Every validator of the consortium is a besu service at its IP, advertising it."""
    services = besu_services(compose)
    if sorted(services) != sorted(v.service for v in c.validators):
        raise CheckFailed(
            "besu services", sorted(v.service for v in c.validators), sorted(services)
        )
    subnets = compose_options.subnets(compose)
    if c.subnet not in subnets:
        raise CheckFailed("compose subnet", c.subnet, subnets)
    for v in c.validators:
        svc = services[v.service]
        options = compose_options.besu_options(svc, config or {})
        if compose_options.static_ip(svc) != v.ip or options.get("p2p-host") != v.ip:
            raise CheckFailed(f"{v.service} address", v.ip, compose_options.static_ip(svc))
        if v.service not in options.get("host-allowlist", "").split(","):
            raise CheckFailed(
                f"{v.service} host-allowlist", v.service, options.get("host-allowlist")
            )


def check_all(compose_path: Path, consortium: Consortium, net: Path | None = None) -> None:
    """Everything, in order; the first failure raises."""
    compose = load_compose(compose_path)
    check_schema(compose)
    services = besu_services(compose)
    check_besu_images(services)
    config = tomllib.loads((net / "config.toml").read_text(encoding="utf-8")) if net else {}
    common = config or compose_options.common_config()
    for name, svc in services.items():
        check_besu_service(name, svc, compose)
        options = compose_options.besu_options(svc, common)
        check_besu_options(name, options, compose_options.published_ports(svc))
    check_compose_matches(compose, consortium, common)
    if net is not None:
        check_network(net, consortium)
