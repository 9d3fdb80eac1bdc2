"""The application layer: wires settings, keys, the registry and the vault together.

Core packages never read settings or the environment; everything they need is built here,
once, and passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dexin.keys import key_provider
from dexin.settings import Settings
from vault.registry import Registry, load_registry
from vault.store import Vault, VaultConfig


def vault_config(settings: Settings) -> VaultConfig:
    return VaultConfig(
        root=settings.vault_dir, memory_limit=settings.memory_limit, as_of=settings.as_of
    )


@contextmanager
def open_vault(settings: Settings, registry: Registry | None = None) -> Iterator[Vault]:
    """Open this data directory's vault (the one owner process; see `vault.store`)."""
    with Vault.open(
        vault_config(settings), registry or load_registry(), key_provider(settings)
    ) as v:
        yield v
