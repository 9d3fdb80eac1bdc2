"""Audit-log benchmark: durable appends/s with group commit, proof time, verification time.

    .venv/bin/python bench/audit.py [--entries 1000000] [--threads 1,8,64,256]

1. Durable appends per second (every ``append`` returns after fdatasync) for several numbers
   of appending threads; one thread is the baseline (one fsync per entry), and the ratio
   shows what group commit buys.
2. A log of ``--entries`` entries is built (64 threads), cosigned by two witnesses and
   anchored in memory; inclusion and consistency proofs are timed at that size.
3. ``verify`` of the whole log: from the live directory and from an export.
Targets: >= 10,000 appends/s; inclusion proof <= 1 ms; verify 1M entries <= 10 s.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

# this file is named like the package it measures: keep its folder off the import path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from audit import (  # noqa: E402  # noqa: E402  # noqa: E402  # noqa: E402
    AuditEntry,
    AuditLog,
    BundleStore,
    InMemoryAnchorer,
    LogOptions,
    LogReader,
    NoteSigner,
    Trust,
    Witness,
    WitnessPolicy,
    export_log,
    load_export,
    snapshot_log,
    verify_snapshot,
    witness_round,
)

ORIGIN = "dexin.bench/audit"


def _entry(i: int) -> AuditEntry:
    return AuditEntry.create(
        actor="bank:yuyao-rural", role="requester", action="score", computation="credit_score.v1",
        purpose="loan-application", access_request=f"apr-{i % 97}", consent=f"con-{i}",
        subject=f"{i:032x}", decision="allow", result_digest=f"{i:064x}", request_id=f"req-{i}",
    )  # fmt: skip


def _append(log: AuditLog, threads: int, total: int) -> float:
    """Append ``total`` entries from ``threads`` threads; return durable appends/s."""
    per = total // threads

    def work(worker: int) -> None:
        for i in range(per):
            log.append(_entry(worker * per + i))

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return per * threads / (time.perf_counter() - start)


def bench_appends(root: Path, signer: NoteSigner, counts: list[int]) -> None:
    print("durable appends/s (fdatasync before append returns)")
    baseline = 0.0
    for threads in counts:
        directory = root / f"appends-{threads}"
        with AuditLog.open(directory, signer) as log:
            rate = _append(log, threads, 2000 if threads == 1 else 20_000)
            per_sync = log.size / max(log.commits, 1)
        baseline = baseline or rate
        print(f"  {threads:3d} threads: {rate:9,.0f} appends/s ({rate / baseline:4.1f}x one thread), "
              f"{per_sync:5.1f} entries per fdatasync")  # fmt: skip
        shutil.rmtree(directory)


def build(root: Path, signer: NoteSigner, entries: int) -> InMemoryAnchorer:
    witnesses = [Witness.init(root / "w" / n, n, signer.verifier()) for n in ("w1", "w2")]
    anchorer = InMemoryAnchorer(WitnessPolicy(2, frozenset(w.public.public_key for w in witnesses)))
    options = LogOptions(checkpoint_every=100_000, checkpoint_interval=3600)
    start = time.perf_counter()
    with AuditLog.open(root / "audit", signer, options) as log:
        rate = _append(log, 64, entries)
        signed = log.checkpoint_now()
        assert signed is not None
        print(f"built {log.size:,} entries in {time.perf_counter() - start:.1f} s ({rate:,.0f}/s)")
        bundles = BundleStore(root / "audit" / "cosignatures")
        begin = time.perf_counter()
        witness_round(signed, witnesses, log.consistency_proof, anchorer, bundles)
        print(
            f"witness round (2 BLS cosignatures, aggregate check, anchor): {time.perf_counter() - begin:.2f} s"
        )
        bench_proofs(log)
    return anchorer


def bench_proofs(log: AuditLog) -> None:
    rng = random.Random(6962)
    indices = [rng.randrange(log.size) for _ in range(10_000)]
    start = time.perf_counter()
    for index in indices:
        log.inclusion_proof(index)
    inclusion = (time.perf_counter() - start) / len(indices)
    olds = [rng.randrange(1, log.size) for _ in range(2000)]
    start = time.perf_counter()
    for old in olds:
        log.consistency_proof(old)
    consistency = (time.perf_counter() - start) / len(olds)
    print(
        f"inclusion proof at {log.size:,}: {inclusion * 1e6:.0f} µs; consistency proof: {consistency * 1e6:.0f} µs"
    )


def bench_verify(root: Path, signer: NoteSigner, anchorer: InMemoryAnchorer) -> None:
    trust = Trust(log_key=signer.verifier())
    with LogReader(root / "audit") as reader:
        start = time.perf_counter()
        verdict = verify_snapshot(snapshot_log(reader), trust, anchorer=anchorer)
        print(
            f"verify live log: {verdict.entries:,} entries in {time.perf_counter() - start:.2f} s"
        )
        start = time.perf_counter()
        export_log(reader, root / "export")
        print(f"export: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    verdict = verify_snapshot(load_export(root / "export"), trust, anchorer=anchorer)
    print(f"verify export:   {verdict.entries:,} entries in {time.perf_counter() - start:.2f} s "
          f"({len(verdict.checkpoints)} checkpoints, {len(verdict.cosigned)} cosigned)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--threads", default="1,8,64,256")
    args = parser.parse_args()
    signer = NoteSigner.generate(ORIGIN)
    root = Path(tempfile.mkdtemp(prefix="dexin-bench-audit-"))
    try:
        bench_appends(root, signer, [int(t) for t in args.threads.split(",")])
        if args.entries:
            anchorer = build(root, signer, args.entries)
            bench_verify(root, signer, anchorer)
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
