"""Witness cosignatures: BLS signatures on checkpoints, aggregated into one.

Ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_ (py-ecc ``G2ProofOfPossession``):
48-byte public keys in G1, 96-byte signatures in G2. Every witness signs the same message,
so the signatures aggregate into one and verify with ``FastAggregateVerify``::

    message = b"dexin-cosignature/v1\\n" || checkpoint note text

(the header gives domain separation, as ``cosignature/v1`` does in c2sp.org/tlog-cosignature;
no per-witness timestamp, which would defeat aggregation). A witness's key is published as
a C2SP vkey ``<name>+<hex key ID>+base64(ALGORITHM || public key)`` with the signature type
byte 0xff followed by an identifier (c2sp.org/signed-note §Signature types), and its
cosignature can be rendered as a signed-note line. The POP scheme is only safe if each key's
proof of possession was checked before the key was trusted (``verify_possession``).

py-ecc is slow (about 0.1-0.3 s to sign, 0.3-0.8 s to verify): keep this off request paths.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from eth_typing import BLSPubkey, BLSSignature
from py_ecc.bls.ciphersuites import G2ProofOfPossession as _BLS

from audit.checkpoint import Checkpoint
from audit.errors import CosignatureError, NoteError
from audit.files import check_secret, write_secret
from audit.note import key_id, signature_line

__all__ = [
    "ALGORITHM",
    "BUNDLE_FORMAT",
    "Cosignature",
    "CosignatureBundle",
    "WitnessKey",
    "WitnessPolicy",
    "WitnessPublicKey",
    "aggregate",
    "cosignature_message",
    "verify_cosignature",
    "verify_possession",
]

ALGORITHM = b"\xffbls12381g2-pop"
BUNDLE_FORMAT = "dexin-cosignatures/1"
_HEADER = b"dexin-cosignature/v1\n"


def cosignature_message(checkpoint: Checkpoint) -> bytes:
    """The bytes every witness signs for ``checkpoint``."""
    return _HEADER + checkpoint.text().encode()


@dataclass(frozen=True)
class WitnessPublicKey:
    """A witness's ``name`` and 48-byte BLS public key."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, ALGORITHM, self.public_key)

    def vkey(self) -> str:
        blob = base64.b64encode(ALGORITHM + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    @classmethod
    def from_vkey(cls, vkey: str) -> WitnessPublicKey:
        """Parse a witness vkey; raises NoteError if malformed or inconsistent."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a vkey has three '+'-separated parts")
        try:
            raw, wanted = base64.b64decode(parts[2], validate=True), bytes.fromhex(parts[1])
        except (binascii.Error, ValueError):
            raise NoteError("vkey key ID or key is not hex / base64") from None
        if not raw.startswith(ALGORITHM) or len(raw) != len(ALGORITHM) + 48:
            raise NoteError("vkey is not a BLS12-381 POP witness key")
        key = cls(parts[0], raw[len(ALGORITHM) :])
        if key.key_id != wanted:
            raise NoteError("vkey key ID does not match its key")
        return key


@dataclass(frozen=True)
class Cosignature:
    """One witness's BLS ``signature`` (96 bytes) on checkpoint ``size``."""

    witness: WitnessPublicKey
    size: int
    signature: bytes

    def line(self) -> str:
        """The signed-note line ``— <name> base64(key ID || signature)``."""
        return signature_line(self.witness.name, self.witness.key_id + self.signature)


class WitnessKey:
    """A witness's BLS secret key (an integer below the group order) and its name."""

    def __init__(self, name: str, secret: int) -> None:
        self.name = name
        self._secret = secret
        self.public = WitnessPublicKey(name, bytes(_BLS.SkToPk(secret)))

    @classmethod
    def generate(cls, name: str) -> WitnessKey:
        return cls(name, _BLS.KeyGen(os.urandom(32)))

    @classmethod
    def load(cls, path: Path) -> WitnessKey:
        """Load ``<name>\\n<secret hex>`` from a 0600 key file; raises NoteError."""
        name, _, secret = check_secret(path).decode("ascii").partition("\n")
        return cls(name, int(secret.strip(), 16))

    def save(self, path: Path) -> None:
        write_secret(path, f"{self.name}\n{self._secret:064x}\n".encode("ascii"))

    def sign(self, checkpoint: Checkpoint) -> Cosignature:
        """Cosign ``checkpoint`` (the caller, a ``Witness``, has checked it first)."""
        signature = bytes(_BLS.Sign(self._secret, cosignature_message(checkpoint)))
        return Cosignature(self.public, checkpoint.size, signature)

    def proof_of_possession(self) -> bytes:
        return bytes(_BLS.PopProve(self._secret))


def verify_possession(key: WitnessPublicKey, proof: bytes) -> None:
    """Check a witness key's proof of possession; raises CosignatureError."""
    if not _BLS.PopVerify(BLSPubkey(key.public_key), BLSSignature(proof)):
        raise CosignatureError(0, f"proof of possession of {key.name} does not verify")


def verify_cosignature(checkpoint: Checkpoint, cosignature: Cosignature) -> None:
    """Check one witness's signature on ``checkpoint`` (a pairing: about half a second);
    raises CosignatureError naming the witness."""
    if cosignature.size != checkpoint.size or not _fast_verify(
        [cosignature.witness.public_key], cosignature_message(checkpoint), cosignature.signature
    ):
        raise CosignatureError(checkpoint.size, f"bad cosignature from {cosignature.witness.name}")


@dataclass(frozen=True)
class WitnessPolicy:
    """Which witness keys are trusted and how many must cosign (from the ledger, say)."""

    threshold: int
    public_keys: frozenset[bytes]


@dataclass(frozen=True)
class CosignatureBundle:
    """The aggregate of several witnesses' cosignatures on one checkpoint.

    Its ``digest()`` (SHA-256 of the RFC 8785 JSON of everything but ``anchor``) is what the
    ledger anchors with the checkpoint's root and size.
    """

    origin: str
    size: int
    root: bytes
    signers: tuple[WitnessPublicKey, ...]
    aggregate: bytes
    anchor: str | None = None

    def document(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "signers": [s.vkey() for s in self.signers],
            "aggregate": base64.b64encode(self.aggregate).decode(),
        }

    def digest(self) -> bytes:
        return hashlib.sha256(rfc8785.dumps(self.document())).digest()

    def to_json(self) -> bytes:
        return rfc8785.dumps({**self.document(), "anchor": self.anchor})

    @classmethod
    def from_json(cls, data: bytes) -> CosignatureBundle:
        """Parse a bundle file; raises CosignatureError (size 0 if unknown) if malformed."""
        try:
            doc = _load_object(data)
            return cls(
                origin=str(doc["origin"]),
                size=int(doc["size"]),
                root=base64.b64decode(doc["root"], validate=True),
                signers=tuple(WitnessPublicKey.from_vkey(v) for v in doc["signers"]),
                aggregate=base64.b64decode(doc["aggregate"], validate=True),
                anchor=doc.get("anchor"),
            )
        except (KeyError, TypeError, ValueError, NoteError) as exc:
            raise CosignatureError(0, f"malformed cosignature bundle: {exc}") from None

    def verify(self, checkpoint: Checkpoint, policy: WitnessPolicy) -> None:
        """Check the bundle cosigns exactly ``checkpoint`` by enough trusted witnesses.

        Raises CosignatureError naming what is wrong (checkpoint, witness, threshold,
        signature).
        """
        if (self.origin, self.size, self.root) != (
            checkpoint.origin,
            checkpoint.size,
            checkpoint.root,
        ):
            raise CosignatureError(self.size, "bundle is for another checkpoint")
        keys = [s.public_key for s in self.signers]
        if len(set(keys)) != len(keys) or not keys:
            raise CosignatureError(self.size, "no signers, or a signer listed twice")
        untrusted = [s.name for s in self.signers if s.public_key not in policy.public_keys]
        if untrusted:
            raise CosignatureError(self.size, f"witness not in the trusted set: {untrusted[0]}")
        if len(keys) < policy.threshold:
            raise CosignatureError(
                self.size, f"{len(keys)} cosignatures, {policy.threshold} required"
            )
        if not _fast_verify(keys, cosignature_message(checkpoint), self.aggregate):
            raise CosignatureError(self.size, "aggregate BLS signature does not verify")


def aggregate(checkpoint: Checkpoint, cosignatures: Sequence[Cosignature]) -> CosignatureBundle:
    """Aggregate cosignatures of ``checkpoint`` and verify the result once.

    If the aggregate fails, each signature is checked to name the bad witness; raises
    CosignatureError.
    """
    chosen = _distinct(cosignatures, checkpoint.size)
    signers = tuple(c.witness for c in chosen)
    agg = bytes(_BLS.Aggregate([BLSSignature(c.signature) for c in chosen]))
    bundle = CosignatureBundle(checkpoint.origin, checkpoint.size, checkpoint.root, signers, agg)
    message = cosignature_message(checkpoint)
    if not _fast_verify([s.public_key for s in signers], message, agg):
        for c in chosen:
            if not _fast_verify([c.witness.public_key], message, c.signature):
                raise CosignatureError(checkpoint.size, f"bad cosignature from {c.witness.name}")
        raise CosignatureError(checkpoint.size, "aggregate BLS signature does not verify")
    return bundle


def _fast_verify(keys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
    pks = [BLSPubkey(k) for k in keys]
    return bool(_BLS.FastAggregateVerify(pks, message, BLSSignature(signature)))


def _distinct(cosignatures: Iterable[Cosignature], size: int) -> list[Cosignature]:
    chosen: dict[bytes, Cosignature] = {}
    for c in cosignatures:
        if c.size != size:
            raise CosignatureError(size, f"cosignature from {c.witness.name} is for size {c.size}")
        chosen.setdefault(c.witness.public_key, c)
    if not chosen:
        raise CosignatureError(size, "no cosignatures to aggregate")
    return sorted(chosen.values(), key=lambda c: c.witness.public_key)


def _load_object(data: bytes) -> dict[str, Any]:
    doc = json.loads(data)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc
