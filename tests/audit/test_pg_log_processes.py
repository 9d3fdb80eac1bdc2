"""Several OS processes append to one PostgreSQL audit log; one is killed mid-batch.

Workers are forked before this process opens any connection, and each opens its own log.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from audit_builders import ORIGIN, entry
from naive_merkle import leaf, mth
from pg_support import URL, execute, fresh_schema

from audit.entry import decode_entry
from audit.log import LogOptions
from audit.merkle import verify_inclusion
from audit.note import NoteSigner
from audit.pg_log import PgAuditLog

WORKERS, ROUNDS, BURST = 4, 4, 8
OPTIONS = LogOptions(checkpoint_every=50, checkpoint_interval=0.2)  # they checkpoint as they go
FORK = multiprocessing.get_context("fork")


def _signer(tmp_path: Path) -> NoteSigner:
    """The one log key every worker holds (``$DEXIN_HOME/audit/log.key`` in a deployment)."""
    NoteSigner.generate(ORIGIN).save(tmp_path / "log.key")
    return NoteSigner.load(tmp_path / "log.key")


def _worker(schema: str, home: str, key: str, worker: int) -> list[tuple[int, str, str]]:
    """Append ROUNDS bursts of BURST entries (each burst submitted at once: group commit)
    and one lone append; return (index, leaf hash, request id) of each receipt."""
    signer = NoteSigner.load(Path(key))
    found = []
    with PgAuditLog.open(URL, signer, OPTIONS, directory=Path(home), schema=schema) as log:
        for r in range(ROUNDS):
            made = [entry(0, request_id=f"w{worker}-{r}-{k}") for k in range(BURST)]
            pending = [log.submit(e) for e in made]
            for p, e in zip(pending, made, strict=True):
                p.batch.wait()
                receipt = log.receipt(p)
                found.append((receipt.index, receipt.leaf_hash.hex(), e.request_id))
        receipt = log.append(entry(0, request_id=f"w{worker}-lone"))
        found.append((receipt.index, receipt.leaf_hash.hex(), f"w{worker}-lone"))
    return found


def test_workers_append_concurrently_with_contiguous_indexes(tmp_path: Path) -> None:
    signer = _signer(tmp_path)
    total = WORKERS * (ROUNDS * BURST + 1)
    with fresh_schema() as schema:
        args = [
            (schema, str(tmp_path / f"w{w}"), str(tmp_path / "log.key"), w) for w in range(WORKERS)
        ]
        with FORK.Pool(WORKERS) as pool:
            receipts = [r for found in pool.starmap(_worker, args) for r in found]
        assert sorted(index for index, _, _ in receipts) == list(range(total))
        with PgAuditLog.open(URL, signer, OPTIONS, directory=tmp_path, schema=schema) as log:
            signed = log.checkpoint_now()  # later than every receipt
            assert signed is not None and signed.checkpoint.size == total
            signed.verify(signer.verifier())
            root = signed.checkpoint.root
            for index, leaf_hex, request_id in receipts:
                proof = log.inclusion_proof(index, total)
                verify_inclusion(bytes.fromhex(leaf_hex), index, total, proof, root)
                assert decode_entry(log.entry(index))[1].request_id == request_id
            for size in log.checkpoints().sizes():  # what the workers signed on the way
                log.checkpoints().load(size).verify(signer.verifier())
                assert log.checkpoints().load(size).checkpoint.root == log.root(size)


def _appender(schema: str, home: str, key: str, done: Synchronized[int]) -> None:
    """Append bursts of 200 for ever, counting the committed ones; killed by the test."""
    signer = NoteSigner.load(Path(key))
    log = PgAuditLog.open(URL, signer, OPTIONS, directory=Path(home), schema=schema)
    for r in range(10**6):
        pending = [log.submit(entry(k, request_id=f"r{r}-{k}")) for k in range(200)]
        for p in pending:
            p.batch.wait()
            log.receipt(p)
        with done.get_lock():
            done.value += 1


def test_a_worker_killed_mid_batch_leaves_the_log_consistent(tmp_path: Path) -> None:
    signer = _signer(tmp_path)
    with fresh_schema() as schema:
        done = FORK.Value("i", 0)
        child = FORK.Process(
            target=_appender,
            args=(schema, str(tmp_path / "child"), str(tmp_path / "log.key"), done),
        )
        child.start()
        try:
            while done.value < 3 and child.is_alive():
                child.join(0.05)
            assert child.is_alive(), "the appender died by itself"
        finally:
            os.kill(child.pid or 0, signal.SIGKILL)
            child.join()
        assert child.exitcode == -signal.SIGKILL
        with PgAuditLog.open(URL, signer, OPTIONS, directory=tmp_path, schema=schema) as log:
            size = log.size
            assert size >= 3 * 200
            rows = execute(schema, "SELECT count(*), min(idx), max(idx) FROM audit_entries")
            assert rows == [(size, 0, size - 1)]  # no hole, nothing beyond the head
            payloads = [log.entry(i) for i in range(size)]
            assert [decode_entry(p)[0] for p in payloads] == list(range(size))
            assert log.root() == mth([leaf(p) for p in payloads])
            assert log.append(entry(0)).index == size  # appends continue where it stopped
            signed = log.checkpoint_now()
            assert signed is not None and signed.checkpoint.root == log.root(size + 1)
