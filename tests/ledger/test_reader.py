"""A read-only view of the embedded ledger works while another process owns and writes it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ledger import (
    AnchorKind,
    DeploymentError,
    LedgerConfig,
    LedgerConfigError,
    LedgerReadOnlyError,
    Role,
    open_ledger,
    open_ledger_reader,
)
from ledger.testing import UNSAFE_ANVIL_DEV_KEY

# a second process owns the chain and anchors; it prints each root once the anchor is mined
_WRITER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from pydantic import SecretBytes
    from ledger import AnchorKind, LedgerConfig, Role, open_ledger
    config = LedgerConfig(data_dir=Path(sys.argv[1]), key_secret=SecretBytes(bytes.fromhex(sys.argv[2])))
    ledger = open_ledger(config)
    ledger.ensure_account("gateway", Role.GATEWAY)
    for i in range(int(sys.argv[3])):
        root = os.urandom(32)
        ledger.anchor(AnchorKind.AUDIT_LOG, root, i + 1, bytes(32))
        print(root.hex(), i + 1, flush=True)
    sys.stdin.read()  # hold the chain open until the test is done reading
    ledger.close()
""")


def test_reader_sees_each_block_the_owner_commits(embedded_config: LedgerConfig) -> None:
    owner = open_ledger(embedded_config)
    owner.ensure_account("gateway", Role.GATEWAY)
    first = os.urandom(32)
    owner.anchor(AnchorKind.AUDIT_LOG, first, 1, bytes(32))
    reader = open_ledger_reader(embedded_config)
    try:
        assert reader.get_anchor(first).size == 1
        height = reader.status().height
        second = os.urandom(32)
        owner.anchor(AnchorKind.AUDIT_LOG, second, 2, bytes(32))
        assert reader.verify_anchor(second, kind=AnchorKind.AUDIT_LOG, size=2,
                                    metadata_digest=bytes(32)).size == 2  # fmt: skip
        assert reader.status().height == height + 1
        assert reader.status() == owner.status()
        assert [e.name for e in reader.events(0)] == [e.name for e in owner.events(0)]
        assert reader.witness_set() == owner.witness_set()
    finally:
        reader.close()
        owner.close()


def test_reader_refuses_every_write(embedded_config: LedgerConfig) -> None:
    open_ledger(embedded_config).close()
    reader = open_ledger_reader(embedded_config)
    try:
        with pytest.raises(LedgerReadOnlyError) as info:
            reader.anchor(AnchorKind.AUDIT_LOG, os.urandom(32), 1, bytes(32), signer="admin")
        assert info.value.operation == "anchor"
        with pytest.raises(LedgerReadOnlyError):
            reader.ensure_account("auditor", Role.AUDITOR)
        with pytest.raises(LedgerReadOnlyError):
            reader.set_witness_threshold(1)
        assert "auditor" not in (embedded_config.data_dir / "keys.json").read_text()
    finally:
        reader.close()
    again = open_ledger(embedded_config)  # nothing the reader did broke the chain
    again.close()


def test_reader_of_a_missing_ledger_is_a_clear_error(embedded_config: LedgerConfig) -> None:
    with pytest.raises(LedgerConfigError):
        open_ledger_reader(embedded_config)
    open_ledger(embedded_config).close()
    (embedded_config.data_dir / "deployment.json").unlink()
    with pytest.raises(DeploymentError):
        open_ledger_reader(embedded_config)


def test_reader_follows_a_writer_process(embedded_config: LedgerConfig) -> None:
    secret = embedded_config.key_secret.get_secret_value().hex()
    args = [sys.executable, "-c", _WRITER, str(embedded_config.data_dir), secret, "12"]
    writer = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdin is not None
    try:
        first = writer.stdout.readline().split()
        reader = open_ledger_reader(embedded_config)
        seen = [first]
        for line in writer.stdout:  # read while the writer is still committing blocks
            seen.append(line.split())
            root, size = seen[-1]
            assert reader.get_anchor(bytes.fromhex(root)).size == int(size)
            if len(seen) == 12:
                break
        for root, size in seen:
            assert reader.get_anchor(bytes.fromhex(root)).size == int(size)
        assert reader.anchor_counts()["audit_log"] == 12
        reader.close()
    finally:
        writer.stdin.close()
        assert writer.wait(timeout=60) == 0
        writer.stdout.close()


def test_a_reader_of_a_json_rpc_ledger_simply_connects(tmp_path: Path, anvil_url: str) -> None:
    config = LedgerConfig(backend="jsonrpc", rpc_url=anvil_url, data_dir=tmp_path / "ledger",
                          key_secret=os.urandom(32), funding_key=UNSAFE_ANVIL_DEV_KEY)  # fmt: skip
    owner = open_ledger(config)
    owner.ensure_account("gateway", Role.GATEWAY)
    reader = open_ledger_reader(config)
    try:
        root = os.urandom(32)
        owner.anchor(AnchorKind.AUDIT_LOG, root, 3, bytes(32))
        assert reader.get_anchor(root).size == 3
        with pytest.raises(LedgerReadOnlyError):
            reader.anchor(AnchorKind.AUDIT_LOG, os.urandom(32), 1, bytes(32), signer="gateway")
    finally:
        reader.close()
        owner.close()
