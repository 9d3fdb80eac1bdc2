"""``python -m deploy.network``: make a node key, build the network files, check them.

    keygen --org ORG --out DIR     on the organisation's own machine: DIR/key (0600, stays
                                   there) and DIR/ORG.pub (the only thing handed over)
    init --pubkeys DIR [--out deploy/network] [--timestamp UNIX]
                                   from DIR/<org>.pub for every validator in
                                   deploy/consortium.toml: genesis, static nodes, allowlist,
                                   bootnodes, Besu config, ledger.env
    check [--network deploy/network]
                                   the static checks of docker-compose.yml (and the network)

Exit codes: 0 done; 1 a check failed; 2 bad input (missing, malformed or duplicate keys).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from deploy import checks, consortium, netfiles, nodekeys
from deploy.errors import CheckFailed, DeployError

DEFAULT_OUT = checks.ROOT / "deploy" / "network"


def keygen(org: str, out: Path) -> str:
    identity = nodekeys.generate(org, out)
    return (f"{org}: node key written to {out / 'key'} (mode 0600; keep it, never send it)\n"
            f"hand over {out / (org + '.pub')}\n"
            f"address {identity.address}\npublic key 0x{identity.node_id}\n")  # fmt: skip


def init(pubkeys: Path, out: Path, timestamp: int, config: Path) -> str:
    c = consortium.load(config)
    identities = [nodekeys.read_public_key(p) for p in sorted(pubkeys.glob("*.pub"))]
    files = netfiles.build(c, identities, timestamp, netfiles.load_common())
    netfiles.write(out, files)
    checks.check_network(out, c, identities)
    lines = [f"network for chain {c.chain.chain_id} written to {out}"]
    lines += [f"  {i.org:<18} {i.address}" for i in sorted(identities, key=lambda i: i.org)]
    return "\n".join(lines) + "\n"


def check(network: Path | None, config: Path) -> str:
    compose = checks.ROOT / "docker-compose.yml"
    checks.check_all(compose, consortium.load(config), network)
    return f"OK {compose.name}" + (f" and {network}" if network else "") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "keygen":
            out = keygen(args.org, args.out)
        elif args.command == "init":
            out = init(args.pubkeys, args.out, args.timestamp or int(time.time()), args.config)
        else:
            out = check(args.network, args.config)
    except CheckFailed as exc:
        print(f"check failed: {exc}", file=sys.stderr)
        return 1
    except (DeployError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.network", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--config", type=Path, default=consortium.DEFAULT_PATH,
                        help="the consortium description (default: deploy/consortium.toml)")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    keygen_p = sub.add_parser("keygen", help="make this organisation's node key")
    keygen_p.add_argument("--org", required=True)
    keygen_p.add_argument("--out", type=Path, required=True)
    init_p = sub.add_parser("init", help="build the network files from the public keys")
    init_p.add_argument("--pubkeys", type=Path, required=True, help="folder of <org>.pub")
    init_p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    init_p.add_argument("--timestamp", type=int, help="genesis time (Unix seconds; default now)")
    check_p = sub.add_parser("check", help="static checks of docker-compose.yml and a network")
    check_p.add_argument("--network", type=Path, help="a folder `init` wrote")
    return parser


if __name__ == "__main__":
    sys.exit(main())
