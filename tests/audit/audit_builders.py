"""Builders shared by the audit-log tests: entries, a filled log, witnesses, an export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.anchor import InMemoryAnchorer
from audit.checkpoint import SignedCheckpoint
from audit.cosign import WitnessPolicy
from audit.entry import AuditEntry
from audit.log import AuditLog, LogOptions
from audit.note import NoteSigner
from audit.witness import BundleStore, Witness, witness_round

ORIGIN = "dexin.test/audit"
T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def entry(i: int, **overrides: object) -> AuditEntry:
    """A plausible allowed score request number ``i``."""
    fields: dict[str, object] = {
        "actor": "bank:yuyao-rural",
        "role": "requester",
        "action": "score",
        "computation": "credit_score.v1",
        "purpose": "loan-application",
        "access_request": f"apr-{i % 3}",
        "consent": f"con-{i % 5}",
        "subject": f"{i % 5:032x}",
        "decision": "allow",
        "result_digest": f"{i:064x}",
        "request_id": f"req-{i}",
    }
    fields.update(overrides)
    return AuditEntry.create(time=T0 + dt.timedelta(seconds=i), **fields)  # type: ignore[arg-type]


def fill(log: AuditLog, start: int, stop: int) -> None:
    for i in range(start, stop):
        log.append(entry(i))


@dataclass
class World:
    """A log with checkpoints at 40, 100 and 130, witnessed and anchored at 100 and 130."""

    directory: Path
    signer: NoteSigner
    witnesses: list[Witness]
    anchorer: InMemoryAnchorer


def build_world(root: Path) -> World:
    signer = NoteSigner.generate(ORIGIN)
    witnesses = [Witness.init(root / "w" / n, n, signer.verifier()) for n in ("w1", "w2")]
    keys = frozenset(w.public.public_key for w in witnesses)
    anchorer = InMemoryAnchorer(WitnessPolicy(2, keys))
    options = LogOptions(checkpoint_every=10**9, checkpoint_interval=3600)
    with AuditLog.open(root / "audit", signer, options) as log:
        for stop in (40, 100, 130):
            fill(log, log.size, stop)
            signed = log.checkpoint_now()
            assert isinstance(signed, SignedCheckpoint)
            if stop > 40:
                store = BundleStore(root / "audit" / "cosignatures")
                witness_round(signed, witnesses, log.consistency_proof, anchorer, store)
    return World(root / "audit", signer, witnesses, anchorer)


def witnessed_data_directory(settings: Any, entries: int, more: int = 0) -> None:
    """A data directory (``dexin.settings.Settings``) with a vault keyring, a log of
    ``entries`` entries cosigned by witnesses w1 and w2 (registered on its ledger, threshold
    2) and anchored at that size, then ``more`` entries and a checkpoint over them."""
    from dexin.app import (
        load_or_create_log_key,
        open_audit_log,
        open_ledger,
        vault_config,
        witness_dir,
    )
    from dexin.keys import key_provider
    from governance.anchoring import LedgerAnchorer, register_witness
    from vault.registry import load_registry
    from vault.store import Vault

    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    log_key = load_or_create_log_key(settings).verifier()
    witnesses = [Witness.init(witness_dir(settings, n), n, log_key) for n in ("w1", "w2")]
    with (
        open_ledger(settings) as ledger,
        open_audit_log(settings, LogOptions(checkpoint_every=10**6)) as log,
    ):
        for w in witnesses:
            register_witness(ledger, w.public, w.proof_of_possession())
        ledger.set_witness_threshold(2)
        fill(log, 0, entries)
        signed = log.checkpoint_now()
        assert signed is not None
        store = BundleStore(settings.audit_dir / "cosignatures")
        witness_round(signed, witnesses, log.consistency_proof, LedgerAnchorer(ledger), store)
        if more:
            fill(log, entries, entries + more)
            log.checkpoint_now()
