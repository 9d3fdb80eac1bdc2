"""Besu node keys: each organisation makes its own; only the public key leaves its machine.

File formats are Besu's (``KeyPairUtil``): the private key file holds one line, ``0x`` and
64 hex digits; a public key is ``0x`` and 128 hex digits (the uncompressed secp256k1 point
without its 0x04 prefix). The node's address, the validator identity in the QBFT
``extraData``, is the last 20 bytes of keccak256 of the public key.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from eth_keys import keys  # type: ignore[attr-defined]

from deploy.errors import KeyFileError

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_PUBLIC_HEX = re.compile(r"^(0x)?[0-9a-fA-F]{128}$")
_ORG = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class NodeIdentity:
    """What an organisation hands over: its name and its node's public key."""

    org: str
    public_key: bytes  # 64 bytes

    @property
    def address(self) -> str:
        """The checksummed validator address."""
        return str(keys.PublicKey(self.public_key).to_checksum_address())

    @property
    def node_id(self) -> str:
        """The 128-hex-digit node id of an enode URL."""
        return self.public_key.hex()

    def enode(self, ip: str, port: int) -> str:
        return f"enode://{self.node_id}@{ip}:{port}"


def check_org(org: str) -> str:
    """An organisation name is a lowercase slug (it names files and compose services)."""
    if not _ORG.match(org):
        raise KeyFileError(f"organisation name {org!r} is not a lowercase slug")
    return org


def generate(org: str, out: Path) -> NodeIdentity:
    """Write ``out/key`` (mode 0600, never overwritten) and ``out/<org>.pub``; return the
    identity to hand over. Raises KeyFileError if a key is already there."""
    check_org(org)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = _random_scalar()
    identity = NodeIdentity(org, keys.PrivateKey(secret).public_key.to_bytes())
    _write_new(out / "key", "0x" + secret.hex(), mode=0o600)
    _write_new(out / f"{org}.pub", "0x" + identity.node_id + "\n", mode=0o644)
    return identity


def read_public_key(path: Path) -> NodeIdentity:
    """Read a handed-over ``<org>.pub``; the organisation is the file's stem. Raises
    KeyFileError when the text is not a point on secp256k1."""
    raw = parse_public_key(path.read_text(encoding="ascii"), path.name)
    return NodeIdentity(check_org(path.stem), raw)


def parse_public_key(text: str, name: str) -> bytes:
    """``0x`` and 128 hex digits that are a point on secp256k1, as 64 bytes."""
    text = text.strip()
    if not _PUBLIC_HEX.match(text):
        raise KeyFileError(f"{name}: not a 64-byte public key in hex")
    raw = bytes.fromhex(text.removeprefix("0x"))
    if not _on_curve(raw):
        raise KeyFileError(f"{name}: not a point on secp256k1")
    return raw


def public_key_of(private_key_file: Path) -> bytes:
    """The public key of a Besu private key file (for checks on the organisation's side)."""
    text = private_key_file.read_text(encoding="ascii").strip()
    return bytes(keys.PrivateKey(bytes.fromhex(text.removeprefix("0x"))).public_key.to_bytes())


def _on_curve(raw: bytes) -> bool:
    p = 2**256 - 2**32 - 977  # the field prime; the curve is y^2 = x^3 + 7
    x, y = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    return x < p and y < p and (y * y - x * x * x - 7) % p == 0


def _random_scalar() -> bytes:
    while True:
        candidate = secrets.token_bytes(32)
        if 0 < int.from_bytes(candidate, "big") < SECP256K1_ORDER:
            return candidate


def _write_new(path: Path, text: str, *, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyFileError(f"{path} exists; a node key is never overwritten") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
