"""The PostgreSQL audit log gives the file log's bytes, fails closed, and exports for auditors.

Each test runs in a fresh schema of the test database (`pg_support`), dropped afterwards.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from audit_builders import ORIGIN, entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive_merkle import leaf, mth
from pg_support import URL, execute, fresh_schema

from audit.anchor import InMemoryAnchorer
from audit.cosign import WitnessPolicy
from audit.entry import decode_entry
from audit.errors import LogCorruptError, LogUnavailableError, OutOfRangeError
from audit.export import export_log, load_export, write_export
from audit.log import AppendReceipt, AuditLog, LogOptions
from audit.merkle import verify_inclusion
from audit.note import NoteSigner
from audit.pending import PendingCosignatures
from audit.pg_log import PgAuditLog
from audit.reader import LogReader
from audit.verify import Trust, verify_snapshot
from audit.witness import BundleStore, Witness
from audit.witnessing import anchor_pending
from governance.audit_trail import AuditAppendError, AuditTrail

QUIET = LogOptions(checkpoint_every=10**9, checkpoint_interval=3600)
SIGNER = NoteSigner.generate(ORIGIN)


def open_pg(schema: str, directory: Path, signer: NoteSigner = SIGNER) -> PgAuditLog:
    return PgAuditLog.open(URL, signer, QUIET, directory=directory, schema=schema)


def append_batches(log: AuditLog | PgAuditLog, batches: list[int]) -> list[AppendReceipt]:
    """Submit each batch at once (one group commit, or a few) and wait for all of it."""
    receipts, i = [], 0
    for n in batches:
        pending = [log.submit(entry(i + k)) for k in range(n)]
        for p in pending:
            p.batch.wait()
        receipts += [log.receipt(p) for p in pending]  # type: ignore[arg-type]
        i += n
    return receipts


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.integers(1, 24), min_size=1, max_size=4))
def test_roots_proofs_and_checkpoints_are_the_file_logs(batches: list[int]) -> None:
    with (
        fresh_schema() as schema,
        tempfile.TemporaryDirectory() as tmp,
        open_pg(schema, Path(tmp) / "pg") as pg,
        AuditLog.open(Path(tmp) / "f", SIGNER, QUIET) as f,
    ):
        assert append_batches(pg, batches) == append_batches(f, batches)
        n = sum(batches)
        assert pg.size == f.size == n
        assert [pg.entry(i) for i in range(n)] == [f.entry(i) for i in range(n)]
        for size in range(n + 1):
            assert pg.root(size) == f.root(size)
            for index in range(size):
                assert pg.inclusion_proof(index, size) == f.inclusion_proof(index, size)
                assert pg.consistency_proof(index, size) == f.consistency_proof(index, size)
        signed_pg, signed_f = pg.checkpoint_now(), f.checkpoint_now()
        assert signed_pg is not None and signed_f is not None
        assert signed_pg.render() == signed_f.render()  # the same note, byte for byte
        assert pg.root() == mth([leaf(pg.entry(i)) for i in range(n)])  # the naive MTH


def test_a_failed_transaction_raises_and_leaves_no_index_hole(tmp_path: Path) -> None:
    with fresh_schema() as schema, open_pg(schema, tmp_path) as log:
        trail = AuditTrail(log)
        for i in range(5):
            assert trail.append(entry(i)).index == i
        execute(schema, "ALTER TABLE audit_entries ADD CONSTRAINT refuse CHECK (idx < 5) NOT VALID")
        with pytest.raises(LogUnavailableError):
            log.append(entry(5))
        pending = [log.submit(entry(6 + k)) for k in range(3)]  # a whole batch is refused
        for p in pending:
            p.batch.wait()
            with pytest.raises(LogUnavailableError):
                log.receipt(p)
        with pytest.raises(AuditAppendError):  # what the gateway answers 503 for
            trail.append(entry(9))
        assert log.size == 5
        execute(schema, "ALTER TABLE audit_entries DROP CONSTRAINT refuse")
        assert log.append(entry(10)).index == 5  # the log stays open; no index was used
        assert execute(schema, "SELECT count(*), max(idx) FROM audit_entries") == [(6, 5)]
        assert decode_entry(log.entry(5))[1].request_id == "req-10"


def test_reopening_keeps_the_log_and_refuses_another_key(tmp_path: Path) -> None:
    with fresh_schema() as schema:
        with open_pg(schema, tmp_path) as log:
            append_batches(log, [7, 3])
            signed = log.checkpoint_now()
        with open_pg(schema, tmp_path) as again:
            assert again.size == 10 and again.latest_checkpoint() == signed
            assert again.root() == signed.checkpoint.root if signed else False
            assert again.append(entry(10)).index == 10
            with pytest.raises(OutOfRangeError):
                again.inclusion_proof(0, 12)
        with pytest.raises(LogCorruptError):  # a worker holding another key cannot sign here
            open_pg(schema, tmp_path, NoteSigner.generate(ORIGIN))
        execute(schema, "UPDATE audit_entries SET leaf_hash = sha256('x'::bytea) WHERE idx = 3")
        with pytest.raises(LogCorruptError):  # stored leaves no longer give the checkpoint
            open_pg(schema, tmp_path)


def test_export_and_verify_pass_on_a_pg_log_and_match_the_file_logs(tmp_path: Path) -> None:
    witnesses = [Witness.init(tmp_path / "w" / n, n, SIGNER.verifier()) for n in ("w1", "w2")]
    policy = WitnessPolicy(2, frozenset(w.public.public_key for w in witnesses))
    anchorer = InMemoryAnchorer(policy)
    with fresh_schema() as schema, open_pg(schema, tmp_path / "pg") as pg:
        with AuditLog.open(tmp_path / "f", SIGNER, QUIET) as f:
            for stop in (40, 100, 130):
                append_batches(pg, [stop - pg.size])
                append_batches(f, [stop - f.size])
                f.checkpoint_now()
                signed = pg.checkpoint_now()
                assert signed is not None
            assert signed is not None
            folder = pg.directory / "cosignatures"  # witnesses submit, as to the gateway
            pending = PendingCosignatures(folder / "pending")
            for w in witnesses:
                pending.submit(w.cosign(signed, pg.consistency_proof(0, 130)))
            result = anchor_pending(pg.checkpoints(), pending, BundleStore(folder), anchorer)
            assert (result.status, result.size) == ("anchored", 130)
            append_batches(pg, [5])  # not yet checkpointed: outside the snapshot
        write_export(pg.snapshot(), tmp_path / "export-pg", "postgresql")
        trust = Trust(log_key=SIGNER.verifier(), witnesses=policy)
        verdict = verify_snapshot(load_export(tmp_path / "export-pg"), trust, anchorer=anchorer)
        assert (verdict.entries, verdict.checkpoints, verdict.cosigned) == (
            130,
            [40, 100, 130],
            [130],
        )
    with LogReader(tmp_path / "f") as reader:
        export_log(reader, tmp_path / "export-f")
    for name in (
        "entries.jsonl",
        "leaves.bin",
        *(f"checkpoints/{s:020d}.note" for s in (40, 100, 130)),
    ):
        assert (tmp_path / "export-pg" / name).read_bytes() == (
            tmp_path / "export-f" / name
        ).read_bytes()


def test_the_setting_selects_the_backend_and_the_file_log_stays_the_default(
    tmp_path: Path,
) -> None:
    from dexin.app import open_audit_log
    from dexin.settings import Settings

    home = {"DEXIN_HOME": str(tmp_path / "home")}
    with open_audit_log(Settings.from_env(home)) as default:
        assert isinstance(default, AuditLog)
    with fresh_schema() as schema:
        url = f"{URL}?options={quote(f'-csearch_path={schema}')}"
        settings = Settings.from_env(home | {"DEXIN_AUDIT_DATABASE_URL": url})
        assert url not in repr(settings)  # a URL may hold a password
        with open_audit_log(settings) as log:
            assert isinstance(log, PgAuditLog)
            assert log.append(entry(0)).index == 0
        assert execute(schema, "SELECT count(*) FROM audit_entries") == [(1,)]


def test_an_unreachable_database_is_refused_with_an_audit_error(tmp_path: Path) -> None:
    closed_port = "postgresql://postgres@127.0.0.1:1/test"  # nothing listens on port 1
    with pytest.raises(LogUnavailableError):
        PgAuditLog.open(closed_port, SIGNER, QUIET, directory=tmp_path)


def test_each_worker_proves_the_others_entries(tmp_path: Path) -> None:
    """Two logs on one database, as two workers: their entries interleave, and each serves
    sizes, entries, proofs and checkpoints covering the other's."""
    with (
        fresh_schema() as schema,
        open_pg(schema, tmp_path / "a") as a,
        open_pg(schema, tmp_path / "b") as b,
    ):
        made = [(a if i % 3 else b).append(entry(i)) for i in range(30)]
        assert [r.index for r in made] == list(range(30))
        assert a.size == b.size == 30 and a.root() == b.root()
        signed = b.checkpoint_now()
        assert signed is not None and a.latest_checkpoint() == signed
        assert a.checkpoints().sizes() == b.checkpoints().sizes() == [30]
        for r in made:
            verify_inclusion(
                r.leaf_hash, r.index, 30, a.inclusion_proof(r.index, 30), signed.checkpoint.root
            )
            assert leaf(b.entry(r.index)) == r.leaf_hash
        a.append(entry(30))
        assert b.consistency_proof(30, 31) == a.consistency_proof(30)


def test_appends_resume_by_themselves_after_the_connections_are_cut(tmp_path: Path) -> None:
    """As after a PostgreSQL restart: every connection of the log is terminated server-side;
    the next append reconnects (the pool pings before use) and no index is lost."""
    with fresh_schema() as schema:
        name = f"dexin-audit-{schema}"
        url = f"{URL}?application_name={name}"
        with PgAuditLog.open(url, SIGNER, QUIET, directory=tmp_path, schema=schema) as log:
            append_batches(log, [5])
            cut = execute(schema, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  f"WHERE application_name = '{name}'")  # fmt: skip
            assert cut and all(row == (True,) for row in cut)
            assert log.append(entry(5)).index == 5
            assert log.size == 6 and log.entry(5) == entry(5).encode(5)
