"""The application layer: wires settings, keys, the registry, the vault and the ledger.

Core packages never read settings or the environment; everything they need is built here,
once, and passed in.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretBytes

from dexin.keys import key_provider
from dexin.settings import Settings
from ledger import Ledger, LedgerConfig, open_ledger_reader
from ledger import open_ledger as _open_ledger
from vault.errors import VaultBusy
from vault.keys import Keyring
from vault.registry import Registry, load_registry
from vault.store import APP_SECRET_PREFIX, Vault, VaultConfig


def vault_config(settings: Settings) -> VaultConfig:
    return VaultConfig(
        root=settings.vault_dir, memory_limit=settings.memory_limit, as_of=settings.as_of
    )


@contextmanager
def open_vault(settings: Settings, registry: Registry | None = None) -> Iterator[Vault]:
    """Open this data directory's vault (the one owner process; see `vault.store`)."""
    config = vault_config(settings)
    with Vault.open(config, registry or load_registry(), key_provider(settings)) as vault:
        yield vault


def ledger_secret(settings: Settings) -> bytes:
    """The secret that seals the ledger's role keys: random, kept wrapped in the keyring."""
    keyring = Keyring.load(vault_config(settings).keyring, key_provider(settings))
    return keyring.unwrap(f"{APP_SECRET_PREFIX}ledger")


def ledger_config(settings: Settings) -> LedgerConfig:
    funding = settings.ledger_funding_key_hex
    return LedgerConfig(
        data_dir=settings.ledger_dir,
        key_secret=SecretBytes(ledger_secret(settings)),
        backend=settings.ledger_backend,
        rpc_url=settings.ledger_rpc_url,
        funding_key=SecretBytes(bytes.fromhex(funding.removeprefix("0x"))) if funding else None,
        contract_address=settings.ledger_contract,
    )


@contextmanager
def open_ledger(settings: Settings) -> Iterator[Ledger]:
    """Open the configured ledger. The embedded chain lives in this process only, so like the
    vault it has one owner process at a time (`VaultBusy` names the ledger directory)."""
    config = ledger_config(settings)
    settings.ledger_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(settings.ledger_dir / ".lock", "a+", encoding="ascii") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VaultBusy(str(settings.ledger_dir)) from None
        ledger = _open_ledger(config)
        try:
            yield ledger
        finally:
            ledger.close()


@contextmanager
def open_ledger_view(settings: Settings) -> Iterator[Ledger]:
    """A read-only view of this data directory's ledger that needs no ownership: it works
    while the gateway (or another command) owns the embedded chain, and sees each block
    as soon as the owner commits it. Writes raise LedgerReadOnlyError; a data directory
    without a ledger raises LedgerConfigError (nothing is created)."""
    ledger = open_ledger_reader(ledger_config(settings))
    try:
        yield ledger
    finally:
        ledger.close()
