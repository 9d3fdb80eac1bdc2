"""Checkpoints (signed tree heads) in the C2SP tlog-checkpoint format, and their history.

The note text is exactly three lines (c2sp.org/tlog-checkpoint §Note text): the origin,
the tree size in decimal without leading zeros, and the base64 RFC 6962 root; no extension
lines. It is a C2SP signed note signed by the log's Ed25519 key whose name is the origin.

The history is a directory of ``<size, 20 digits>.note`` files, one per size, each written
atomically; sizes only grow, and the log never signs two roots for one size.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

from audit.errors import CheckpointError, NoteError
from audit.files import write_atomic
from audit.merkle import HASH_SIZE
from audit.note import Note, NoteSigner, NoteVerifier, parse_note

__all__ = ["Checkpoint", "CheckpointHistory", "SignedCheckpoint"]

_SIZE = re.compile(r"0|[1-9][0-9]*")
_FILE = re.compile(r"[0-9]{20}\.note")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: ``origin``, ``size`` and ``root`` (32 bytes)."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The checkpoint's note text (three lines, final newline included)."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a note text; raises CheckpointError unless it is a valid checkpoint body."""
        lines = text.split("\n")
        if len(lines) != 4 or lines[3] != "" or not lines[0]:
            raise CheckpointError(None, "a checkpoint has exactly origin, size and root lines")
        if not _SIZE.fullmatch(lines[1]):
            raise CheckpointError(None, "tree size is not a decimal without leading zeros")
        try:
            root = base64.b64decode(lines[2], validate=True)
        except binascii.Error:
            raise CheckpointError(int(lines[1]), "root hash is not base64") from None
        if len(root) != HASH_SIZE:
            raise CheckpointError(int(lines[1]), "root hash is not 32 bytes")
        return cls(lines[0], int(lines[1]), root)

    def sign(self, signer: NoteSigner) -> SignedCheckpoint:
        """Sign with the log's key; the key name must be the origin (tlog-checkpoint)."""
        if signer.name != self.origin:
            raise CheckpointError(self.size, "the log key's name must equal the origin")
        text = self.text()
        return SignedCheckpoint(self, Note(text, (signer.sign(text),)))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with its signed note (the log's signature, maybe others)."""

    checkpoint: Checkpoint
    note: Note

    @classmethod
    def parse(cls, data: str | bytes) -> SignedCheckpoint:
        """Parse a signed checkpoint; raises CheckpointError or NoteError. Does NOT verify."""
        note = parse_note(data)
        return cls(Checkpoint.from_text(note.text), note)

    def verify(self, log_key: NoteVerifier) -> None:
        """Check the log's signature and that its key name is the origin; raises."""
        if log_key.name != self.checkpoint.origin:
            raise CheckpointError(self.checkpoint.size, "origin differs from the log key's name")
        log_key.verify(self.note)

    def render(self) -> str:
        return self.note.render()


class CheckpointHistory:
    """The directory of every checkpoint the log issued (``<size:020d>.note``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, size: int) -> Path:
        return self.directory / f"{size:020d}.note"

    def sizes(self) -> list[int]:
        """Sizes of the stored checkpoints, ascending (temporary files are ignored)."""
        if not self.directory.exists():
            return []
        return sorted(int(p.name[:20]) for p in self.directory.iterdir() if _FILE.fullmatch(p.name))

    def load(self, size: int) -> SignedCheckpoint:
        """Parse (without verifying) the checkpoint of ``size``; raises CheckpointError."""
        try:
            signed = SignedCheckpoint.parse(self.path(size).read_bytes())
        except FileNotFoundError:
            raise CheckpointError(size, "no checkpoint of this size") from None
        except NoteError as exc:
            raise CheckpointError(size, f"malformed note: {exc.reason}") from None
        if signed.checkpoint.size != size:
            raise CheckpointError(size, "file name and tree size differ")
        return signed

    def latest(self) -> SignedCheckpoint | None:
        sizes = self.sizes()
        return self.load(sizes[-1]) if sizes else None

    def store(self, signed: SignedCheckpoint) -> Path:
        """Write a checkpoint durably; raises CheckpointError if a different one exists."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(signed.checkpoint.size)
        if path.exists() and self.load(signed.checkpoint.size).checkpoint != signed.checkpoint:
            raise CheckpointError(signed.checkpoint.size, "a different root exists for this size")
        write_atomic(path, signed.render().encode(), mode=0o644)
        return path
