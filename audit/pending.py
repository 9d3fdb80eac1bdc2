"""Cosignatures submitted by witnesses and not yet aggregated: ``cosignatures/pending``.

Layout: ``pending/<size:020d>/<witness key ID hex>.<signature digest>.json``, each
``{"witness": vkey, "size": n, "signature": base64}``; ``pending/<size>/bundle.json`` is an
aggregate about to be anchored (written first, so a round interrupted after anchoring
anchors the same bundle again, idempotently, instead of a different one the ledger would
refuse). A submission never replaces another: whoever can post could otherwise overwrite a
witness's genuine cosignature with a forged one. Distinct submissions for one witness and
checkpoint are kept side by side, up to `MAX_PER_WITNESS` (`TooManySubmissions` beyond);
BLS signatures are deterministic, so a witness's genuine one is always the same file.
Nothing here is trusted: the witnessing round checks every signature (BLS) before it is
aggregated, and moves a bad one to ``pending/<size>/rejected/``, freeing its place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import shutil
from pathlib import Path

from audit.cosign import Cosignature, CosignatureBundle, WitnessPublicKey
from audit.errors import CosignatureError, NoteError
from audit.files import write_atomic

__all__ = [
    "PendingCosignatures",
    "TooManySubmissions",
    "cosignature_document",
    "parse_cosignature",
]

SIGNATURE_BYTES = 96
MAX_PER_WITNESS = 8
_BUNDLE = "bundle.json"


class TooManySubmissions(CosignatureError):
    """A witness already has `MAX_PER_WITNESS` distinct unchecked cosignatures pending for
    this checkpoint; the next round checks them and sets the bad ones aside."""


def cosignature_document(cosignature: Cosignature) -> dict[str, object]:
    """The JSON a witness submits (and the store keeps) for one cosignature."""
    return {
        "witness": cosignature.witness.vkey(),
        "size": cosignature.size,
        "signature": base64.b64encode(cosignature.signature).decode(),
    }


def parse_cosignature(doc: object) -> Cosignature:
    """Parse a submitted cosignature document; raises CosignatureError if malformed (the
    signature itself is not checked here: that costs a pairing)."""
    try:
        assert isinstance(doc, dict)
        key = WitnessPublicKey.from_vkey(str(doc["witness"]))
        size, signature = doc["size"], base64.b64decode(str(doc["signature"]), validate=True)
    except (AssertionError, KeyError, NoteError, binascii.Error, ValueError):
        raise CosignatureError(0, "malformed cosignature document") from None
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise CosignatureError(0, "a cosignature names a positive checkpoint size")
    if len(signature) != SIGNATURE_BYTES:
        raise CosignatureError(size, f"a BLS signature has {SIGNATURE_BYTES} bytes")
    return Cosignature(key, size, signature)


class PendingCosignatures:
    """The pending store under ``directory`` (``<log>/cosignatures/pending``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def submit(self, cosignature: Cosignature) -> Path:
        """Keep ``cosignature`` beside any other submission for its witness and checkpoint;
        raises TooManySubmissions when that witness has `MAX_PER_WITNESS` pending."""
        folder = self._folder(cosignature.size)
        key = cosignature.witness.key_id.hex()
        digest = hashlib.sha256(cosignature.signature).hexdigest()[:16]
        path = folder / f"{key}.{digest}.json"
        if not path.exists() and len(list(folder.glob(f"{key}.*.json"))) >= MAX_PER_WITNESS:
            raise TooManySubmissions(cosignature.size, "too many pending cosignatures")
        data = json.dumps(cosignature_document(cosignature)).encode()
        for attempt in (1, 2):  # a round may remove the folder between mkdir and write
            folder.mkdir(parents=True, exist_ok=True)
            try:
                write_atomic(path, data, mode=0o644)
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        return path

    def sizes(self) -> list[int]:
        """Checkpoint sizes with submitted cosignatures, ascending."""
        if not self.directory.exists():
            return []
        names = (p.name for p in self.directory.iterdir() if p.is_dir())
        return sorted(int(n) for n in names if len(n) == 20 and n.isdigit())

    def load(self, size: int) -> list[Cosignature]:
        """Every well-formed cosignature of ``size`` (malformed files are set aside)."""
        found = []
        for path in sorted(self._folder(size).glob("*.json")):
            if path.name == _BUNDLE:
                continue
            try:
                cosignature = parse_cosignature(json.loads(path.read_bytes()))
            except (CosignatureError, ValueError):
                self._set_aside(path)
                continue
            if cosignature.size == size:
                found.append(cosignature)
        return found

    def prepare(self, bundle: CosignatureBundle) -> None:
        """Record the aggregate about to be anchored for ``bundle.size``."""
        folder = self._folder(bundle.size)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / _BUNDLE, bundle.to_json(), mode=0o644)

    def prepared(self, size: int) -> CosignatureBundle | None:
        """The aggregate recorded for ``size`` by an earlier round, if any."""
        path = self._folder(size) / _BUNDLE
        return CosignatureBundle.from_json(path.read_bytes()) if path.exists() else None

    def reject(self, size: int, cosignature: Cosignature) -> None:
        """Move this cosignature of ``size`` to ``rejected/`` (its signature is bad)."""
        digest = hashlib.sha256(cosignature.signature).hexdigest()[:16]
        path = self._folder(size) / f"{cosignature.witness.key_id.hex()}.{digest}.json"
        if path.exists():
            self._set_aside(path)

    def discard(self, size: int) -> None:
        """Forget the pending cosignatures of checkpoint ``size``."""
        shutil.rmtree(self._folder(size), ignore_errors=True)

    def discard_through(self, size: int) -> None:
        """Forget every pending cosignature of a checkpoint of at most ``size`` entries."""
        for old in self.sizes():
            if old <= size:
                self.discard(old)

    def _folder(self, size: int) -> Path:
        return self.directory / f"{size:020d}"

    def _set_aside(self, path: Path) -> None:
        rejected = path.parent / "rejected"
        rejected.mkdir(exist_ok=True)
        path.replace(rejected / path.name)
