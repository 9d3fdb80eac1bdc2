"""``python -m dexin_client``: a bank's key and the headers curl cannot make by itself.

    python -m dexin_client keygen --out bank.key.json --jwks bank.jwks.json
    python -m dexin_client register --key bank.key.json --client-id bank_…   # after the admin
    python -m dexin_client token --key bank.key.json --gateway https://gateway.example
    python -m dexin_client proof --key bank.key.json --method POST \\
        --url https://gateway.example/v1/scores --token "$TOKEN"

``keygen`` writes the private key (0600) and the public JWKS the admin registers;
``register`` records the client id the admin gave; ``token`` prints a DPoP-bound access
token; ``proof`` prints one DPoP proof (a fresh one for every request: each is accepted once).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dexin_client.client import DexinClient
from dexin_client.keys import ClientKey


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "keygen":
        key = ClientKey.generate()
        key.save(args.out)
        Path(args.jwks).write_text(json.dumps(key.public_jwks(), indent=2) + "\n", encoding="utf-8")
        print(key.kid)
    elif args.command == "register":
        key = ClientKey.load(args.key)
        key.save(args.key, client_id=args.client_id, name=args.name or key.name)
    elif args.command == "token":
        with DexinClient.from_key_file(args.gateway, args.key) as client:
            print(client.access_token())
    else:
        print(ClientKey.load(args.key).proof(args.method, args.url, args.token))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dexin_client")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="generate a key pair")
    keygen.add_argument("--out", type=Path, required=True, help="the private key file (0600)")
    keygen.add_argument("--jwks", type=Path, required=True, help="the public JWKS to register")
    register = commands.add_parser("register", help="record the client id the admin gave")
    register.add_argument("--key", type=Path, required=True)
    register.add_argument("--client-id", required=True)
    register.add_argument("--name", default="", help="a provider's registry id")
    token = commands.add_parser("token", help="print a DPoP-bound access token")
    token.add_argument("--key", type=Path, required=True)
    token.add_argument("--gateway", required=True, help="the gateway's public base URL")
    proof = commands.add_parser("proof", help="print a DPoP proof for one request")
    proof.add_argument("--key", type=Path, required=True)
    proof.add_argument("--method", required=True)
    proof.add_argument("--url", required=True, help="the request's URL, as sent")
    proof.add_argument("--token", default=None, help="the access token it accompanies")
    return parser


if __name__ == "__main__":
    sys.exit(main())
