"""Audit-log benchmark: durable appends/s with group commit, proof time, verification time.

    .venv/bin/python bench/audit.py [--entries 1000000] [--threads 1,8,64,256]
        [--backend file,pg] [--processes 1,2,4] [--process-threads 8] [--seconds 3]

1. Durable appends per second (every ``append`` returns after fdatasync) for several numbers
   of appending threads; one thread is the baseline (one fsync per entry), and the ratio
   shows what group commit buys. With ``--backend pg`` also the PostgreSQL log
   (`audit.PgAuditLog`: ``append`` returns once its transaction committed), in a fresh schema
   of ``--pg-url`` dropped afterwards: ``--threads`` threads in this process, then
   ``--processes`` OS processes of ``--process-threads`` threads each, every process with its
   own log on the same schema (as answer workers are); each configuration runs
   ``--seconds``, and each figure is printed beside the file log's one-thread rate measured
   in the same run, as a ratio.
2. A log of ``--entries`` entries is built (64 threads), cosigned by two witnesses and
   anchored in memory; inclusion and consistency proofs are timed at that size.
3. ``verify`` of the whole log: from the live directory and from an export.
Targets: >= 10,000 appends/s; inclusion proof <= 1 ms; verify 1M entries <= 10 s.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

# this file is named like the package it measures: keep its folder off the import path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from sqlalchemy import text  # noqa: E402

from audit import (  # noqa: E402
    AuditEntry,
    AuditLog,
    BundleStore,
    InMemoryAnchorer,
    LogOptions,
    LogReader,
    NoteSigner,
    PgAuditLog,
    PgStore,
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
PG_URL = os.environ.get("DEXIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
FORK = multiprocessing.get_context("fork")  # workers open their own log after the fork


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


def _append_for(
    log: AuditLog | PgAuditLog, threads: int, seconds: float, first: int
) -> tuple[int, float, float]:
    """Append from ``threads`` threads for ``seconds``; (appended, start, end)."""
    counts = [0] * threads
    deadline = 0.0

    def work(worker: int) -> None:
        i = first + worker * 10_000_000
        while time.perf_counter() < deadline:
            log.append(_entry(i))
            i += 1
            counts[worker] += 1

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    start = time.perf_counter()
    deadline = start + seconds
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts), start, time.perf_counter()


def bench_appends(root: Path, signer: NoteSigner, counts: list[int]) -> float:
    """Print the file log's rates; return its one-thread rate (the baseline)."""
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
    return baseline


def file_baseline(root: Path, signer: NoteSigner) -> float:
    with AuditLog.open(root / "appends-baseline", signer) as log:
        rate = _append(log, 1, 2000)
    shutil.rmtree(root / "appends-baseline")
    print(f"file log, durable appends/s, one thread: {rate:,.0f} appends/s")
    return rate


@contextlib.contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A schema of its own in ``url``'s database, dropped afterwards."""
    schema = f"bench_audit_{secrets.token_hex(6)}"
    admin = PgStore.connect(url)
    try:
        with admin.engine.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        admin.dispose()  # no connection of this process outlives into a forked worker
    try:
        yield schema
    finally:
        with admin.engine.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _pg_worker(
    url: str, schema: str, key: Path, home: Path, threads: int, seconds: float,
    worker: int, start: Barrier, results: multiprocessing.Queue[tuple[int, int, float, float] | str],
) -> None:  # fmt: skip
    """One answer worker: its own log on the shared schema, ``threads`` appending threads."""
    try:
        signer = NoteSigner.load(key)
        with PgAuditLog.open(url, signer, directory=home, schema=schema) as log:
            start.wait(timeout=60)  # every worker open before any appends
            done, begin, end = _append_for(log, threads, seconds, worker * 1_000_000_000)
        results.put((done, log.commits, begin, end))
    except BaseException as exc:
        start.abort()
        results.put(f"worker {worker}: {type(exc).__name__}: {exc}")


def _pg_processes(
    url: str, schema: str, root: Path, key: Path, processes: int, threads: int, seconds: float
) -> tuple[float, float]:
    """Appends/s and entries per commit of ``processes`` workers on one schema."""
    start = FORK.Barrier(processes)
    results: multiprocessing.Queue[tuple[int, int, float, float] | str] = FORK.Queue()
    args = (url, schema, key)
    workers = [
        FORK.Process(
            target=_pg_worker,
            args=(*args, root / f"worker-{w}", threads, seconds, w, start, results),
        )
        for w in range(processes)
    ]
    for w in workers:
        w.start()
    try:
        found = [results.get(timeout=seconds + 120) for _ in workers]
    finally:
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()
    failed = [f for f in found if isinstance(f, str)]
    if failed:
        raise RuntimeError("; ".join(failed))
    done = [f for f in found if not isinstance(f, str)]
    total = sum(d[0] for d in done)
    elapsed = max(d[3] for d in done) - min(d[2] for d in done)
    return total / elapsed, total / max(sum(d[1] for d in done), 1)


def bench_pg_appends(
    root: Path, url: str, baseline: float, counts: list[int], processes: list[int],
    process_threads: int, seconds: float,
) -> None:  # fmt: skip
    """The PostgreSQL log's durable appends/s, each figure against the file log's one thread."""
    print(f"PostgreSQL log, durable appends/s (transaction committed before append returns), "
          f"{seconds:g} s each, fresh schema each; ratio to the file log's one thread "
          f"({baseline:,.0f} appends/s, this run)")  # fmt: skip
    key = root / "pg-log.key"
    NoteSigner.generate(ORIGIN).save(key)
    signer = NoteSigner.load(key)  # the one log key every worker holds
    for threads in counts:
        with fresh_schema(url) as schema:
            with PgAuditLog.open(url, signer, directory=root / "pg", schema=schema) as log:
                done, begin, end = _append_for(log, threads, seconds, 0)
                commits = log.commits
            rate = done / (end - begin)
        print(f"  in this process, {threads:3d} threads: {rate:9,.0f} appends/s "
              f"({rate / baseline:5.2f}x file one thread), {done / max(commits, 1):5.1f} entries per commit")  # fmt: skip
    for n in processes:
        with fresh_schema(url) as schema:
            rate, per_commit = _pg_processes(url, schema, root, key, n, process_threads, seconds)
        print(f"  {n} worker process{'es' if n > 1 else '  '} x {process_threads} threads: {rate:9,.0f} appends/s "
              f"({rate / baseline:5.2f}x file one thread), {per_commit:5.1f} entries per commit")  # fmt: skip


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
    parser.add_argument("--backend", default="file", help="file, pg or file,pg")
    parser.add_argument("--processes", default="1,2,4", help="pg: numbers of worker processes")
    parser.add_argument("--process-threads", type=int, default=8, help="pg: threads per process")
    parser.add_argument("--seconds", type=float, default=3.0, help="pg: time per configuration")
    parser.add_argument("--pg-url", default=PG_URL, help="pg: a database to make schemas in")
    args = parser.parse_args()
    backends = args.backend.split(",")
    if not set(backends) <= {"file", "pg"}:
        parser.error("--backend takes file, pg or file,pg")
    threads = [int(t) for t in args.threads.split(",")]
    signer = NoteSigner.generate(ORIGIN)
    root = Path(tempfile.mkdtemp(prefix="dexin-bench-audit-"))
    try:
        if "file" in backends:
            baseline = bench_appends(root, signer, threads)
        else:
            baseline = file_baseline(root, signer)
        if "pg" in backends:
            processes = [int(p) for p in args.processes.split(",") if p]
            bench_pg_appends(
                root, args.pg_url, baseline, threads, processes, args.process_threads, args.seconds
            )
        if args.entries:
            anchorer = build(root, signer, args.entries)
            bench_verify(root, signer, anchorer)
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
