"""The embedded chain persists: a restart keeps everything and does not replay history."""

from __future__ import annotations

import json
import os
import time

import pytest

from ledger import (
    AnchorKind,
    DeploymentError,
    KeyStoreError,
    LedgerConfig,
    Role,
    open_ledger,
)


def test_restart_keeps_anchors_roles_and_deployment(embedded_config: LedgerConfig) -> None:
    ledger = open_ledger(embedded_config)
    ledger.ensure_account("provider", Role.PROVIDER)
    root, digest = os.urandom(32), os.urandom(32)
    receipt = ledger.anchor(AnchorKind.CONTRIBUTION, root, 42, digest)
    before = ledger.status()
    ledger.close()

    again = open_ledger(embedded_config)
    try:
        assert again.status() == before
        anchor = again.verify_anchor(root, kind=AnchorKind.CONTRIBUTION, size=42,
                                     metadata_digest=digest)  # fmt: skip
        assert anchor.tx_hash == receipt.tx_hash
        assert again.role_of(again.identity("provider").address) == Role.PROVIDER
        again.anchor(AnchorKind.CONTRIBUTION, os.urandom(32), 1, os.urandom(32))
        assert again.status().height == before.height + 1
    finally:
        again.close()


def test_restart_time_does_not_grow_with_history(embedded_config: LedgerConfig) -> None:
    ledger = open_ledger(embedded_config)
    ledger.ensure_account("provider", Role.PROVIDER)
    ledger.close()
    first = _open_seconds(embedded_config)
    ledger = open_ledger(embedded_config)
    for _ in range(60):
        ledger.anchor(AnchorKind.CONTRIBUTION, os.urandom(32), 1, os.urandom(32))
    ledger.close()
    later = _open_seconds(embedded_config)
    assert later < max(5 * first, 0.5)


def _open_seconds(config: LedgerConfig) -> float:
    start = time.perf_counter()
    open_ledger(config).close()
    return time.perf_counter() - start


def test_wrong_secret_is_refused(embedded_config: LedgerConfig) -> None:
    open_ledger(embedded_config).close()
    wrong = LedgerConfig(data_dir=embedded_config.data_dir, key_secret=os.urandom(32))
    with pytest.raises(KeyStoreError) as caught:
        open_ledger(wrong)
    assert caught.value.label == "admin"


def test_a_recorded_address_without_our_code_is_refused(embedded_config: LedgerConfig) -> None:
    open_ledger(embedded_config).close()
    record = embedded_config.data_dir / "deployment.json"
    doc = json.loads(record.read_text())
    doc["address"] = "0x" + "11" * 20
    record.write_text(json.dumps(doc))
    with pytest.raises(DeploymentError):
        open_ledger(embedded_config)


def test_keys_are_encrypted_at_rest(embedded_config: LedgerConfig) -> None:
    ledger = open_ledger(embedded_config)
    account = ledger._keys.account("admin")
    ledger.close()
    stored = (embedded_config.data_dir / "keys.json").read_bytes()
    assert bytes(account.key).hex().encode() not in stored
    assert bytes(account.key) not in stored
    assert (embedded_config.data_dir / "keys.json").stat().st_mode & 0o077 == 0
