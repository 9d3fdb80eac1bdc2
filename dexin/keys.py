"""The application's master key: where it comes from, how it is created and rotated.

The vault only sees a `KeyProvider`; this module decides which one (the embedded default
`LocalKeyProvider`, from ``DEXIN_MASTER_KEY`` or the key file) and handles the key file's
life cycle, including finishing a master-key rotation that a crash interrupted.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from audit import write_atomic
from dexin.settings import Settings
from vault import (
    Keyring,
    LocalKeyProvider,
    VaultError,
    create_key_file,
    master_key_from,
    read_key_file,
)


class MasterKeyRotationRefused(VaultError):
    advice = "Rotate the key where DEXIN_MASTER_KEY is kept, or use a key file."

    def __init__(self) -> None:
        super().__init__("the master key comes from DEXIN_MASTER_KEY; dexin cannot replace it")


def _pending(settings: Settings) -> Path:
    return settings.master_key_file.with_name(settings.master_key_file.name + ".new")


def _finish_interrupted_rotation(settings: Settings) -> None:
    """If the keyring was already re-wrapped under ``<key file>.new``, complete the swap."""
    pending = _pending(settings)
    if settings.master_key_hex or not pending.exists() or not settings.vault_dir.exists():
        return
    keyring = settings.vault_dir / "keyring.json"
    new_id = LocalKeyProvider(read_key_file(pending)).key_id
    if keyring.exists() and json.loads(keyring.read_text())["master_key_id"] == new_id:
        os.replace(pending, settings.master_key_file)
    else:
        pending.unlink()


def key_provider(settings: Settings) -> LocalKeyProvider:
    """The key provider for this data directory (raises `MasterKeyMissing` when there is none)."""
    _finish_interrupted_rotation(settings)
    return LocalKeyProvider(master_key_from(settings.master_key_hex, settings.master_key_file))


def ensure_master_key(settings: Settings) -> tuple[LocalKeyProvider, Path | None]:
    """The key provider, creating a key file first when no key is configured.

    Returns the provider and the path of a key file it created (None if it created none).
    """
    if settings.master_key_hex or settings.master_key_file.exists():
        return key_provider(settings), None
    key = create_key_file(settings.master_key_file)
    return LocalKeyProvider(key), settings.master_key_file


def rotate_master_key(settings: Settings, keyring: Keyring) -> LocalKeyProvider:
    """Replace the key file's master key and re-wrap every data key under the new one.

    Order: write ``<file>.new``; save the re-wrapped keyring (the commit point); move the new
    file into place. `key_provider` completes the last step if a crash interrupts it.
    """
    if settings.master_key_hex:
        raise MasterKeyRotationRefused()
    pending = _pending(settings)
    pending.unlink(missing_ok=True)
    new_key = secrets.token_bytes(32)
    write_atomic(pending, new_key.hex().encode() + b"\n", mode=0o600)
    provider = LocalKeyProvider(new_key)
    keyring.rewrap(provider).save()
    os.replace(pending, settings.master_key_file)
    return provider
