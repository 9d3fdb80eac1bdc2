"""The ledger's one configuration object, built by the application and passed in.

The ledger reads no environment variables: the application passes the data directory
(``$DEXIN_HOME/ledger``), the node URL and the secret that encrypts role keys at rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretBytes, field_validator, model_validator

MIN_SECRET_BYTES = 32


class LedgerConfig(BaseModel):
    """How to reach (or run) the chain and where the ledger keeps its keys.

    - ``backend="embedded"`` (default): an in-process py-evm chain stored under
      ``data_dir/chain.sqlite``; nothing to start.
    - ``backend="jsonrpc"``: any Ethereum JSON-RPC node at ``rpc_url``. ``funding_key``
      pays for deployment and funds new role accounts; leave it out on a free-gas network
      (Besu with a zero base fee). ``contract_address`` joins an existing deployment.

    ``key_secret`` (at least 32 bytes, not all one value) derives the key that encrypts role
    keys in ``data_dir/keys.json``; a placeholder secret is refused (fail closed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path
    key_secret: SecretBytes
    backend: Literal["embedded", "jsonrpc"] = "embedded"
    rpc_url: str | None = None
    funding_key: SecretBytes | None = None
    contract_address: str | None = None
    durable: bool = True
    request_timeout: float = Field(default=10.0, gt=0)
    receipt_timeout: float = Field(default=30.0, gt=0)
    priority_fee_wei: int = Field(default=0, ge=0)

    @field_validator("key_secret")
    @classmethod
    def _strong_secret(cls, value: SecretBytes) -> SecretBytes:
        raw = value.get_secret_value()
        if len(raw) < MIN_SECRET_BYTES or len(set(raw)) == 1:
            raise ValueError(f"key_secret must be at least {MIN_SECRET_BYTES} non-constant bytes")
        return value

    @model_validator(mode="after")
    def _backend_needs(self) -> LedgerConfig:
        if self.backend == "jsonrpc" and not self.rpc_url:
            raise ValueError("the jsonrpc backend needs rpc_url")
        return self
