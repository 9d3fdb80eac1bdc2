"""Reading a compose service the way Docker Compose and Besu would: mounts (short and long
syntax), static addresses, secrets, published ports, and a Besu node's effective options
(config file, then ``BESU_*`` environment, then command line — Besu's own precedence)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deploy import netfiles


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    read_only: bool


def mounts(svc: Mapping[str, Any]) -> list[Mount]:
    found = []
    for entry in svc.get("volumes") or []:
        if isinstance(entry, str):
            parts = entry.split(":")
            found.append(Mount(parts[0], parts[1] if len(parts) > 1 else parts[0],
                               len(parts) > 2 and "ro" in parts[2].split(",")))  # fmt: skip
        else:
            found.append(Mount(str(entry.get("source", "")), str(entry["target"]),
                               bool(entry.get("read_only", False))))  # fmt: skip
    return found


def static_ip(svc: Mapping[str, Any]) -> str | None:
    networks = svc.get("networks")
    if not isinstance(networks, Mapping):
        return None
    for settings in networks.values():
        if isinstance(settings, Mapping) and settings.get("ipv4_address"):
            return str(settings["ipv4_address"])
    return None


def secret_targets(svc: Mapping[str, Any]) -> set[str]:
    targets = set()
    for entry in svc.get("secrets") or []:
        if isinstance(entry, str):
            targets.add(entry)
        else:
            targets.add(str(entry.get("target") or entry["source"]))
    return targets


def subnets(compose: Mapping[str, Any]) -> list[str]:
    found = []
    for network in (compose.get("networks") or {}).values():
        for pool in ((network or {}).get("ipam") or {}).get("config") or []:
            if "subnet" in pool:
                found.append(str(pool["subnet"]))
    return found


def published_ports(svc: Mapping[str, Any]) -> set[int]:
    """Container ports that ``ports:`` publishes on the host."""
    ports: set[int] = set()
    for entry in svc.get("ports") or []:
        if isinstance(entry, Mapping):
            target = str(entry["target"])
        else:
            target = str(entry).split("/")[0].rsplit(":", 1)[-1]
        low, _, high = target.partition("-")
        ports.update(range(int(low), int(high or low) + 1))
    return ports


def besu_options(svc: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, str]:
    """Option name (without ``--``) -> value as text; lists are comma-joined."""
    options = {key: _text(value) for key, value in config.items()}
    env = svc.get("environment") or {}
    pairs = env.items() if isinstance(env, Mapping) else (e.split("=", 1) for e in env)
    for key, value in pairs:
        if key.startswith("BESU_"):
            options[key[5:].lower().replace("_", "-")] = _text(value)
    args = svc.get("command") or []
    args = args.split() if isinstance(args, str) else [str(a) for a in args]
    for i, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, eq, value = arg[2:].partition("=")
        if not eq:
            has_value = i + 1 < len(args) and not args[i + 1].startswith("--")
            value = args[i + 1] if has_value else "true"
        options[name] = value
    return options


def common_config() -> dict[str, Any]:
    """The committed options every node runs with (before ``init`` adds the network's)."""
    return dict(netfiles.load_common())


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
