"""Witnessing while the gateway runs: collect cosignatures, anchor them, off the request path.

Witnesses (auditors, other authorities) run `dexin audit witness --follow` elsewhere, with
their own state and key. They fetch the checkpoint the gateway is collecting cosignatures
for (`target`), check it against their pinned log key and their last cosigned checkpoint,
and post a cosignature (`submit`). Every `interval` seconds a background thread runs one
round (`audit.witnessing.anchor_pending`): the newest checkpoint whose cosignatures reach
the ledger's witness threshold is aggregated and checked — the BLS pairings (about a
second) run in a child process, so request threads never wait on them for the GIL — then
anchored on the ledger (which the gateway owns; `Web3Ledger` serialises its own access) and
the bundle stored. A failed round is logged and retried at the next one; it never touches
a request.

Why a *target* and not simply the latest checkpoint: the log checkpoints every few seconds
while it grows, so two witnesses polling the latest checkpoint at different moments would
rarely cosign the same one. The target stays fixed until it is anchored (or a witness
cosigned something newer), then moves to the latest checkpoint.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from audit import (
    BundleStore,
    Checkpoint,
    Cosignature,
    CosignatureBundle,
    MerkleLog,
    PendingCosignatures,
    RoundResult,
    SignedCheckpoint,
    WitnessPolicy,
    WitnessPublicKey,
    aggregate_valid,
    anchor_pending,
    verify_possession,
)
from governance.anchoring import LedgerAnchorer
from governance.audit_trail import AuditTrail
from governance.metrics import Metrics
from ledger import Ledger, WitnessSet

__all__ = ["SubmitRefused", "Witnessing", "running"]

log = logging.getLogger("governance.witnessing")
POLICY_CACHE_SECONDS = 5.0
BLS_TIMEOUT_SECONDS = 120.0


def ignore_interrupts() -> None:
    """A pool worker's initializer: ignore SIGINT. A Ctrl-C at the terminal reaches the whole
    process group; the gateway decides how to stop (`Witnessing.stop` shuts the pool down),
    so the worker must not die on it mid-task and print a KeyboardInterrupt traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class SubmitRefused(Exception):
    """A cosignature the gateway will not keep; ``reason`` is a fixed code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Witnessing:
    """The gateway's witnessing state over one Merkle log and the ledger."""

    def __init__(
        self,
        audit_log: MerkleLog[Any],
        ledger: Ledger,
        interval: float,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()  # rounds by outcome, their duration
        folder = audit_log.directory / "cosignatures"
        self._log = audit_log
        self._pending = PendingCosignatures(folder / "pending")
        self._bundles = BundleStore(folder)
        self._ledger = ledger
        self._anchorer = LedgerAnchorer(ledger)
        self._interval = interval
        self._lock = threading.Lock()
        self._round = threading.Lock()  # one round at a time
        self._target: int | None = None
        self._policy: tuple[WitnessPolicy, float] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self.last_result: RoundResult | None = None

    # -- what witnesses call (through the routes) ------------------------------------------

    def target(self) -> SignedCheckpoint | None:
        """The checkpoint cosignatures are being collected for, if any."""
        with self._lock:
            size = self._choose_target()
        return None if size is None else self._log.checkpoints().load(size)

    def submit(self, cosignature: Cosignature) -> None:
        """Keep a cosignature for the next round after the cheap checks (the BLS check is
        the round's). Raises SubmitRefused: ``no_such_checkpoint``, ``already_anchored``,
        ``witness_not_registered``; ledger errors pass through."""
        if cosignature.size not in self._log.checkpoints().sizes():
            raise SubmitRefused("no_such_checkpoint")
        if cosignature.size <= self.anchored_size():
            raise SubmitRefused("already_anchored")
        if cosignature.witness.public_key not in self.witness_policy().public_keys:
            raise SubmitRefused("witness_not_registered")
        self._pending.submit(cosignature)

    def register(self, key: WitnessPublicKey, proof: bytes, threshold: int | None) -> WitnessSet:
        """Add a witness to the ledger's set (the gateway owns the ledger) once its proof of
        possession verifies (in the child process); then set the threshold if given. Raises
        SubmitRefused (``invalid_witness_threshold``, checked first), CosignatureError (bad
        proof), ContractRevertError (``WitnessExists``), LedgerError."""
        witnesses = len(self._ledger.witness_set().public_keys) + 1
        if threshold is not None and not 1 <= threshold <= witnesses:
            raise SubmitRefused("invalid_witness_threshold")
        future = self._executor().submit(verify_possession, key, proof)
        future.result(timeout=BLS_TIMEOUT_SECONDS)
        self._ledger.add_witness(key.public_key)
        if threshold is not None:
            self._ledger.set_witness_threshold(threshold)
        self._policy = None
        return self._ledger.witness_set()

    def anchored_size(self) -> int:
        return max(self._bundles.sizes(), default=0)

    def witness_policy(self) -> WitnessPolicy:
        """The ledger's witness set, read at most every few seconds."""
        now = time.monotonic()
        if self._policy is None or now - self._policy[1] > POLICY_CACHE_SECONDS:
            self._policy = (self._anchorer.witness_policy(), now)
        return self._policy[0]

    # -- the round ---------------------------------------------------------------------------

    def run_round(self) -> RoundResult:
        """One round, now (the background thread calls this; tests may too)."""
        with self._round:
            result = anchor_pending(self._log.checkpoints(), self._pending, self._bundles,
                                    self._anchorer, self._aggregate)  # fmt: skip
        with self._lock:
            self._choose_target()
        self.last_result = result
        return result

    def _aggregate(
        self, checkpoint: Checkpoint, cosignatures: Sequence[Cosignature]
    ) -> tuple[CosignatureBundle | None, list[Cosignature]]:
        future = self._executor().submit(aggregate_valid, checkpoint, list(cosignatures))
        return future.result(timeout=BLS_TIMEOUT_SECONDS)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:  # rounds and registrations may both start it
            if self._stop.is_set():
                raise RuntimeError("witnessing has stopped")
            if self._pool is None:  # spawn: never fork a process that has request threads
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=context, initializer=ignore_interrupts
                )
            return self._pool

    def _choose_target(self) -> int | None:
        """Keep the target until it is anchored; move it forward to a newer checkpoint a
        witness already cosigned, or to the latest one once it is anchored."""
        anchored, issued = self.anchored_size(), set(self._log.checkpoints().sizes())
        newest_pending = max((n for n in self._pending.sizes() if n in issued), default=0)
        if self._target is not None and self._target > anchored:
            self._target = max(self._target, newest_pending)
            return self._target
        latest = max(issued, default=0)
        self._target = max(latest, newest_pending) if latest > anchored else None
        return self._target

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="witnessing", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=BLS_TIMEOUT_SECONDS)
        with self._lock:
            pool = self._pool
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            started = time.monotonic()
            try:
                result = self.run_round()
            except Exception as exc:  # logged, retried next round; requests never see it
                self.metrics.round_done("failed", time.monotonic() - started)
                log.warning("witnessing round failed: %s: %s", type(exc).__name__, exc)
                continue
            self.metrics.round_done(result.status, time.monotonic() - started)
            if result.status == "anchored":
                log.info("checkpoint %s anchored with %d cosignatures: %s",
                         result.size, len(result.signers), result.reference)  # fmt: skip
            for name in result.rejected:
                log.warning("a bad cosignature attributed to witness %s was set aside", name)


@contextmanager
def running(
    trail: AuditTrail, ledger: Ledger, interval: float, metrics: Metrics | None = None
) -> Iterator[Witnessing]:
    """Witnessing for the gateway's lifetime; no background rounds when ``interval`` is 0
    (``DEXIN_WITNESS_INTERVAL``: submissions are still kept, for `dexin audit anchor` once
    the gateway stops)."""
    witnessing = Witnessing(trail.log, ledger, interval, metrics)
    if interval > 0:
        witnessing.start()
    try:
        yield witnessing
    finally:
        witnessing.stop()
