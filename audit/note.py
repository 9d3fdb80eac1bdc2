"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, and verifier keys.

A signed note is a text ending in a newline, a blank line, then signature lines
``— <key name> base64(key ID || signature)`` (em dash U+2014). The text ends at the *last*
blank line. Ed25519 signatures (type 0x01) sign the text, final newline included;
the key ID is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``. A verifier key (vkey) is
``<name>+<hex key ID>+base64(0x01 || public key)``.

Verification follows the spec's rules: signatures from unknown keys (name *and* ID) are
ignored; a known key's signature that fails rejects the note; a note with no verified
signature from a known key is rejected. Failures raise ``SignatureError`` or ``NoteError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.errors import NoteError, SignatureError
from audit.files import check_secret, write_secret

__all__ = [
    "ED25519",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "key_id",
    "parse_note",
    "signature_line",
    "verify_any",
]

ED25519 = b"\x01"
MAX_SIGNATURES = 100
_DASH = "\u2014 "


def key_id(name: str, algorithm: bytes, public_key: bytes) -> bytes:
    """The 4-byte key ID ``SHA-256(name || 0x0A || algorithm || public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + algorithm + public_key).digest()[:4]


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key's ``name``, its 4-byte ``key_id`` and the signature."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return signature_line(self.name, self.key_id + self.signature)


@dataclass(frozen=True)
class Note:
    """A parsed signed note: its ``text`` (with the final newline) and signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        """The note's wire form (text, blank line, one line per signature)."""
        return self.text + "\n" + "".join(s.line() + "\n" for s in self.signatures)

    def with_signature(self, signature: NoteSignature) -> Note:
        return Note(self.text, (*self.signatures, signature))


def signature_line(name: str, blob: bytes) -> str:
    return f"{_DASH}{name} {base64.b64encode(blob).decode()}"


def parse_note(data: str | bytes) -> Note:
    """Parse a signed note's wire form; raises NoteError if malformed (signed-note §Format)."""
    text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("control character in note")
    cut = text.rfind("\n\n")
    if cut < 0 or not text.endswith("\n"):
        raise NoteError("no blank line before the signatures")
    lines = text[cut + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return Note(text[: cut + 1], tuple(_parse_signature(line) for line in lines))


def _parse_signature(line: str) -> NoteSignature:
    if not line.startswith(_DASH):
        raise NoteError("signature line does not start with an em dash")
    name, _, blob = line[len(_DASH) :].partition(" ")
    _check_name(name)
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error:
        raise NoteError("signature is not base64") from None
    if len(raw) < 5:
        raise NoteError("signature too short")
    return NoteSignature(name, raw[:4], raw[4:])


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError("key name empty or containing a space or '+'")


class NoteSigner:
    """An Ed25519 note signer: a key ``name`` and a private key."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = private_key
        self.public_key = private_key.public_key().public_bytes_raw()
        self.key_id = key_id(name, ED25519, self.public_key)

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> NoteSigner:
        """Load a key file written by ``save`` (``<name>\\n<PKCS#8 PEM>``)."""
        name, _, pem = check_secret(path).decode("ascii").partition("\n")
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise NoteError("key file does not hold an Ed25519 key")
        return cls(name, key)

    def save(self, path: Path) -> None:
        """Write the key file with mode 0600 (never overwrites an existing file)."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_secret(path, self.name.encode() + b"\n" + pem)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.public_key)

    def sign(self, text: str) -> NoteSignature:
        """Sign a note text (which must end in a newline)."""
        if not text.endswith("\n"):
            raise NoteError("note text must end with a newline")
        return NoteSignature(self.name, self.key_id, self._key.sign(text.encode()))


class NoteVerifier:
    """A trusted Ed25519 verifier key (name and 32-byte public key)."""

    def __init__(self, name: str, public_key: bytes) -> None:
        _check_name(name)
        if len(public_key) != 32:
            raise NoteError("Ed25519 public key must be 32 bytes")
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, ED25519, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``name+hex(key ID)+base64(0x01 || key)``; raises NoteError if inconsistent."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a vkey has three '+'-separated parts")
        try:
            raw = base64.b64decode(parts[2], validate=True)
            wanted = bytes.fromhex(parts[1])
        except (binascii.Error, ValueError):
            raise NoteError("vkey key ID or key is not hex / base64") from None
        if raw[:1] != ED25519:
            raise NoteError("vkey is not an Ed25519 key")
        verifier = cls(parts[0], raw[1:])
        if verifier.key_id != wanted:
            raise NoteError("vkey key ID does not match its key")
        return verifier

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(ED25519 + self.public_key).decode()}"

    def verify(self, note: Note) -> None:
        """Check ``note`` carries a valid signature by this key (signed-note §Signatures).

        Raises SignatureError if a signature by this key fails or none is present.
        """
        found = [s for s in note.signatures if s.name == self.name and s.key_id == self.key_id]
        if not found:
            raise SignatureError(self.name, "no signature by this key")
        for signature in found:
            try:
                self._key.verify(signature.signature, note.text.encode())
            except InvalidSignature:
                raise SignatureError(self.name, "signature does not verify") from None


def verify_any(note: Note, verifiers: Sequence[NoteVerifier]) -> None:
    """Accept the note if every known key's signature verifies and at least one exists."""
    known = [v for v in verifiers if any(s.key_id == v.key_id for s in note.signatures)]
    if not known:
        raise SignatureError(",".join(v.name for v in verifiers), "no signature by a known key")
    for verifier in known:
        verifier.verify(note)
