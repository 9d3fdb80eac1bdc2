"""`SigningKeys`: the response-signing key, rotatable while the gateway runs.

Each key belongs to an epoch. Epoch 0 is the key the gateway has always derived; epoch N is
derived with HKDF from the same application secret under its own label, so no new secret is
stored anywhere. ``$DEXIN_HOME/gateway/signing-keys.json`` records the epochs and which one
signs::

    {"current": 2, "epochs": [{"epoch": 0, "activated_at": null},
                              {"epoch": 1, "activated_at": "2026-11-22T05:40:00+00:00"}, …]}

`rotate` (``dexin admin rotate-signing-key``) appends the next epoch and makes it current, by
an atomic replace of the file; a running gateway notices within a second and signs every
later answer with the new key. ``GET /v1/keys`` publishes every epoch's public key, newest
first: retired keys never sign again, but a bank must still be able to verify an answer it
kept, offline, years later. Each JWS names its key (``kid``, the RFC 7638 thumbprint).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import write_atomic
from governance.credentials import hkdf
from governance.signing import ResponseSigner

FILE = "signing-keys.json"
RECHECK_SECONDS = 1.0


def signing_key(app_secret: bytes, epoch: int) -> Ed25519PrivateKey:
    """The Ed25519 key of ``epoch`` (epoch 0: the gateway's original key)."""
    info = b"dexin.gateway.signing-key.v1"
    if epoch:
        info += b"/epoch-%d" % epoch
    return Ed25519PrivateKey.from_private_bytes(hkdf(app_secret, info))


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"current": 0, "epochs": [{"epoch": 0, "activated_at": None}]}
    doc = json.loads(path.read_text(encoding="utf-8"))
    epochs = [int(e["epoch"]) for e in doc["epochs"]]
    if int(doc["current"]) not in epochs or epochs != sorted(set(epochs)) or epochs[0] != 0:
        raise ValueError(f"{path}: epochs must rise from 0 and include the current one")
    return dict(doc)


def rotate(app_secret: bytes, directory: Path) -> ResponseSigner:
    """Make a new epoch current; returns its signer (its ``jwk`` names the new ``kid``)."""
    path = directory / FILE
    doc = _read(path)
    epoch = max(int(e["epoch"]) for e in doc["epochs"]) + 1
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    doc["epochs"].append({"epoch": epoch, "activated_at": now})
    doc["current"] = epoch
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Public: epoch numbers and dates (each epoch's key is derived, never stored).
    write_atomic(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"), mode=0o644)
    return ResponseSigner(signing_key(app_secret, epoch))


class SigningKeys:
    """What the gateway signs with (``sign``) and publishes (``jwks``), following the file."""

    def __init__(self, app_secret: bytes, directory: Path) -> None:
        self._secret = app_secret
        self._path = directory / FILE
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._checked = 0.0
        self._load()

    def _load(self) -> None:
        doc = _read(self._path)
        self._signers = {
            int(e["epoch"]): ResponseSigner(signing_key(self._secret, int(e["epoch"])))
            for e in doc["epochs"]
        }
        self._current = self._signers[int(doc["current"])]
        self._stamp = self._path.stat().st_mtime if self._path.exists() else None

    def _fresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < RECHECK_SECONDS:
            return
        with self._lock:
            self._checked = now
            stamp = self._path.stat().st_mtime if self._path.exists() else None
            if stamp != self._stamp:
                self._load()

    @property
    def current(self) -> ResponseSigner:
        self._fresh()
        return self._current

    def sign(self, body: bytes) -> str:
        """The detached JWS over ``body`` with the current epoch's key."""
        return self.current.sign(body)

    def jwks(self) -> dict[str, Any]:
        self._fresh()
        return {"keys": [self._signers[e].jwk for e in sorted(self._signers, reverse=True)]}
