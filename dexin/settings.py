"""One `Settings`, built once from the environment and passed in; nothing else reads env vars.

- ``DEXIN_HOME``: the data directory holding all state of the embedded default (vault,
  ledger, control plane, audit log, wrapped keys). Default: ``.dexin`` under the working
  directory. Two data directories never share anything.
- ``DEXIN_MASTER_KEY``: the master key as 64 hex characters. When unset, the key file is used.
- ``DEXIN_MASTER_KEY_FILE``: the master key file (mode 0600), by default
  ``$DEXIN_HOME/secrets/master.key``, outside the vault's files.
- ``DEXIN_AS_OF``: the day retention is computed against (YYYY-MM-DD); today if unset.
- ``DEXIN_MEMORY_LIMIT``: DuckDB's memory limit for the vault (default 3GB).
- ``DEXIN_LEDGER``: ``embedded`` (default: an in-process EVM under ``$DEXIN_HOME/ledger``) or
  ``jsonrpc``; then ``DEXIN_LEDGER_RPC_URL`` names the node (Besu, anvil),
  ``DEXIN_LEDGER_FUNDING_KEY`` (hex) may pay for deployment and accounts, and
  ``DEXIN_LEDGER_CONTRACT`` joins an existing deployment.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class Settings:
    home: Path
    master_key_file: Path
    master_key_hex: str | None = field(default=None, repr=False)
    as_of: dt.date | None = None
    memory_limit: str = "3GB"
    ledger_backend: Literal["embedded", "jsonrpc"] = "embedded"
    ledger_rpc_url: str | None = None
    ledger_funding_key_hex: str | None = field(default=None, repr=False)
    ledger_contract: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("DEXIN_HOME") or (cwd or Path.cwd()) / ".dexin").absolute()
        key_file = env.get("DEXIN_MASTER_KEY_FILE")
        as_of = env.get("DEXIN_AS_OF")
        return cls(
            home=home,
            master_key_file=Path(key_file).absolute()
            if key_file
            else home / "secrets" / "master.key",
            master_key_hex=env.get("DEXIN_MASTER_KEY") or None,
            as_of=dt.date.fromisoformat(as_of) if as_of else None,
            memory_limit=env.get("DEXIN_MEMORY_LIMIT", "3GB"),
            ledger_backend="jsonrpc" if env.get("DEXIN_LEDGER") == "jsonrpc" else "embedded",
            ledger_rpc_url=env.get("DEXIN_LEDGER_RPC_URL") or None,
            ledger_funding_key_hex=env.get("DEXIN_LEDGER_FUNDING_KEY") or None,
            ledger_contract=env.get("DEXIN_LEDGER_CONTRACT") or None,
        )

    @property
    def vault_dir(self) -> Path:
        return self.home / "vault"

    @property
    def ledger_dir(self) -> Path:
        return self.home / "ledger"

    @property
    def key_source(self) -> str:
        return "DEXIN_MASTER_KEY" if self.master_key_hex else str(self.master_key_file)
