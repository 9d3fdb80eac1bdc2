"""What is in the vault: per provider, its key version, file size, contributions and rows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from vault.store import Vault, alias, provider_key_name


class ProviderStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str
    key_version: int
    file: str
    file_bytes: int
    contributions: int
    rows: dict[str, int]


class VaultStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    root: str
    master_key_id: str
    schema_digest: str
    retention_cutoff: str
    providers: list[ProviderStatus]
    total_rows: int
    excluded_by_retention: int


def vault_status(vault: Vault) -> VaultStatus:
    providers = [_provider_status(vault, p.id) for p in vault.registry.providers]
    visible = sum(
        vault.query(f"SELECT count(*) FROM src.{t.name}")[0][0] for t in vault.registry.tables
    )
    total = sum(sum(p.rows.values()) for p in providers)
    return VaultStatus(
        root=str(vault.config.root),
        master_key_id=vault.keyring.master_key_id,
        schema_digest=vault.registry.digest,
        retention_cutoff=vault.retention_cutoff.isoformat(),
        providers=providers,
        total_rows=total,
        excluded_by_retention=total - visible,
    )


def _provider_status(vault: Vault, provider: str) -> ProviderStatus:
    a = alias(provider)
    path = vault.current_file(provider)
    rows = {
        t.name: vault.query(f"SELECT count(*) FROM {a}.{t.name}")[0][0]
        for t in vault.registry.tables_of(provider)
    }
    return ProviderStatus(
        provider=provider,
        key_version=vault.keyring.version(provider_key_name(provider)),
        file=path.name,
        file_bytes=path.stat().st_size if path.exists() else 0,
        contributions=vault.query(f"SELECT count(*) FROM {a}.contributions")[0][0],
        rows=rows,
    )
