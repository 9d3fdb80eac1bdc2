"""Configuration fails closed; the key store seals keys to their label."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from ledger import KeyStoreError, LedgerConfig
from ledger.keystore import KeyStore


@pytest.mark.parametrize("secret", [b"", b"short", bytes(32), b"x" * 64])
def test_placeholder_secrets_are_refused(tmp_path: Path, secret: bytes) -> None:
    with pytest.raises(ValidationError):
        LedgerConfig(data_dir=tmp_path, key_secret=secret)


def test_jsonrpc_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        LedgerConfig(data_dir=tmp_path, key_secret=os.urandom(32), backend="jsonrpc")


def test_secret_never_appears_in_repr(tmp_path: Path) -> None:
    secret = os.urandom(32)
    config = LedgerConfig(data_dir=tmp_path, key_secret=secret)
    assert secret.hex() not in repr(config) and str(secret) not in repr(config)


def test_keys_round_trip_and_bind_their_label(tmp_path: Path) -> None:
    secret, path = os.urandom(32), tmp_path / "keys.json"
    store = KeyStore(path, secret)
    alice, bob = store.create("alice"), store.create("bob")
    assert KeyStore(path, secret).account("alice").address == alice.address
    doc = json.loads(path.read_text())
    doc["keys"]["alice"], doc["keys"]["bob"] = doc["keys"]["bob"], doc["keys"]["alice"]
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyStoreError):
        KeyStore(path, secret).account("alice")
    assert bob.address != alice.address


def test_duplicate_and_missing_labels(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json", os.urandom(32))
    store.create("alice")
    with pytest.raises(KeyStoreError):
        store.create("alice")
    with pytest.raises(KeyStoreError):
        store.account("nobody")
