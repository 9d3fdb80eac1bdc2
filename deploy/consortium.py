"""``deploy/consortium.toml`` parsed into a frozen, validated description of the network."""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path

from deploy.errors import NetworkInputError
from deploy.nodekeys import check_org
from deploy.qbft import ChainParams

DEFAULT_PATH = Path(__file__).resolve().parent / "consortium.toml"
MIN_VALIDATORS = 4  # the smallest QBFT network that survives one faulty validator


@dataclass(frozen=True)
class Validator:
    org: str
    service: str
    ip: str


@dataclass(frozen=True)
class Consortium:
    chain: ChainParams
    subnet: str
    p2p_port: int
    rpc_port: int
    metrics_port: int
    rpc_client_org: str
    validators: tuple[Validator, ...]

    def validator(self, org: str) -> Validator:
        for v in self.validators:
            if v.org == org:
                return v
        raise NetworkInputError(f"{org!r} runs no validator in the consortium")

    @property
    def fault_tolerance(self) -> int:
        """f = floor((n - 1) / 3): validators that may fail while blocks are still sealed."""
        return (len(self.validators) - 1) // 3

    @property
    def quorum(self) -> int:
        """ceil(2n / 3): the commit seals a block needs (Besu's BFT quorum)."""
        return -(-2 * len(self.validators) // 3)


def load(path: Path = DEFAULT_PATH) -> Consortium:
    """Parse and validate; raises NetworkInputError on duplicates, addresses outside the
    subnet, or fewer than four validators."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        validators = tuple(Validator(check_org(v["org"]), v["service"], v["ip"])
                           for v in doc["validators"])  # fmt: skip
        consortium = Consortium(
            chain=ChainParams(
                chain_id=int(doc["chain_id"]),
                block_period_seconds=int(doc["block_period_seconds"]),
                request_timeout_seconds=int(doc["request_timeout_seconds"]),
                epoch_length=int(doc["epoch_length"]),
                gas_limit=str(doc["gas_limit"]),
            ),
            subnet=str(doc["subnet"]),
            p2p_port=int(doc["p2p_port"]),
            rpc_port=int(doc["rpc_port"]),
            metrics_port=int(doc["metrics_port"]),
            rpc_client_org=str(doc["rpc_client_org"]),
            validators=validators,
        )
    except KeyError as exc:
        raise NetworkInputError(f"{path.name}: missing {exc.args[0]!r}") from None
    _validate(consortium)
    return consortium


def _validate(c: Consortium) -> None:
    if len(c.validators) < MIN_VALIDATORS:
        raise NetworkInputError(f"QBFT needs at least {MIN_VALIDATORS} validators")
    for field in ("org", "service", "ip"):
        values = [getattr(v, field) for v in c.validators]
        if len(set(values)) != len(values):
            raise NetworkInputError(f"two validators share one {field}")
    c.validator(c.rpc_client_org)
    subnet = ipaddress.ip_network(c.subnet)
    for v in c.validators:
        if ipaddress.ip_address(v.ip) not in subnet:
            raise NetworkInputError(f"{v.service}: {v.ip} is outside {c.subnet}")
