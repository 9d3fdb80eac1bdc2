"""The log's storage: durable appends, group commit, reopening, torn tails, proofs, readers."""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path

import pytest
from audit_builders import ORIGIN, entry, fill

from audit import merkle
from audit.errors import LogBusyError, LogClosedError, LogCorruptError, OutOfRangeError
from audit.log import AuditLog, LogOptions
from audit.note import NoteSigner
from audit.reader import LogReader
from audit.records import encode_record
from audit.tree import FileLevels, MemoryLevels, StoredTree


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


def _leaves(log: AuditLog) -> list[bytes]:
    return [merkle.leaf_hash(log.entry(i)) for i in range(log.size)]


def test_appends_are_numbered_and_reopen_intact(tmp_path: Path, signer: NoteSigner) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        receipts = [log.append(entry(i)) for i in range(5)]
        root = log.root()
    assert [r.index for r in receipts] == list(range(5))
    with AuditLog.open(tmp_path, signer) as log:
        assert log.size == 5 and log.root() == root
        assert receipts[3].leaf_hash == merkle.leaf_hash(log.entry(3))
        assert log.latest_checkpoint() is not None


def test_concurrent_appenders_share_commits(tmp_path: Path, signer: NoteSigner) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        threads = [threading.Thread(target=fill, args=(log, 0, 50)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert log.size == 400
        indices = sorted(merkle.leaf_hash(log.entry(i)) for i in range(400))
        assert len(set(indices)) == 400


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 31, 64, 100])
def test_stored_proofs_equal_the_reference(tmp_path: Path, signer: NoteSigner, size: int) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        fill(log, 0, size)
        leaves = _leaves(log)
        assert log.root() == merkle.root(leaves)
        for index in range(size):
            assert log.inclusion_proof(index) == merkle.inclusion_proof(leaves, index)
        for old in range(size + 1):
            assert log.consistency_proof(old) == merkle.consistency_proof(leaves, old)


def test_memory_and_file_trees_agree(tmp_path: Path) -> None:
    memory, stored = StoredTree(MemoryLevels()), StoredTree(FileLevels(tmp_path, writable=True))
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(77)]
    memory.extend(leaves)
    stored.extend(leaves)
    for size in range(1, 78):
        assert memory.root(size) == stored.root(size) == merkle.root(leaves[:size])
        assert stored.inclusion_proof(size - 1, size) == merkle.inclusion_proof(
            leaves[:size], size - 1
        )


def test_out_of_range_requests_raise(tmp_path: Path, signer: NoteSigner) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        fill(log, 0, 3)
        with pytest.raises(OutOfRangeError):
            log.inclusion_proof(3)
        with pytest.raises(OutOfRangeError):
            log.entry(3)


def test_a_second_writer_is_refused_but_readers_are_not(tmp_path: Path, signer: NoteSigner) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        fill(log, 0, 10)
        log.checkpoint_now()
        with pytest.raises(LogBusyError):
            AuditLog.open(tmp_path, signer)
        with LogReader(tmp_path) as reader:
            assert len(list(reader.entries())) == 10
            assert reader.entry(4, 10) == log.entry(4)


def test_append_after_close_is_refused(tmp_path: Path, signer: NoteSigner) -> None:
    log = AuditLog.open(tmp_path, signer)
    log.close()
    with pytest.raises(LogClosedError):
        log.append(entry(0))


@pytest.mark.parametrize(
    "tail",
    [
        b"\x00\x00",
        encode_record(b"{}")[:-1],
        b"\x00" * 64,
        encode_record(b"x")[:4] + b"\xff\xff\xff\xff" + b"x",
    ],
    ids=["partial-header", "partial-record", "zeros", "bad-checksum"],
)
def test_a_torn_tail_is_cut_and_kept_aside(tmp_path: Path, signer: NoteSigner, tail: bytes) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        fill(log, 0, 6)
        root = log.root()
    with (tmp_path / "entries.log").open("ab") as f:
        f.write(tail)
    (tmp_path / "derived.json").unlink()  # as after a crash: derived files not trusted
    with AuditLog.open(tmp_path, signer) as log:
        assert log.size == 6 and log.root() == root
        log.append(entry(6))
    assert list(tmp_path.glob("entries.log.torn-*"))


def test_derived_files_are_rebuilt_from_the_entries(tmp_path: Path, signer: NoteSigner) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        fill(log, 0, 20)
        root = log.root()
    (tmp_path / "derived.json").write_text('{"size": 0, "offset": 8}')
    for path in (tmp_path / "tree").iterdir():
        os.truncate(path, path.stat().st_size // 2)
    with AuditLog.open(tmp_path, signer) as log:
        assert log.size == 20 and log.root() == root


def test_lost_acknowledged_entries_are_detected(tmp_path: Path, signer: NoteSigner) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        fill(log, 0, 10)
    os.truncate(tmp_path / "entries.log", 100)
    with pytest.raises(LogCorruptError):
        AuditLog.open(tmp_path, signer)


def test_checkpoints_follow_the_cadence(tmp_path: Path, signer: NoteSigner) -> None:
    options = LogOptions(checkpoint_every=10, checkpoint_interval=3600)
    with AuditLog.open(tmp_path, signer, options) as log:
        for i in range(35):
            log.append(entry(i))
        log.checkpoint_now()
        sizes = log.checkpoints().sizes()
    assert sizes[-1] == 35 and len(sizes) >= 4
    assert all(b - a >= 10 for a, b in itertools.pairwise(sizes[:-1]))


def test_missing_derived_files_are_rebuilt(tmp_path: Path, signer: NoteSigner) -> None:
    with AuditLog.open(tmp_path, signer) as log:
        fill(log, 0, 33)
        root = log.root()
    for path in (tmp_path / "tree").iterdir():
        path.unlink()
    (tmp_path / "offsets.bin").unlink()
    with AuditLog.open(tmp_path, signer) as log:
        assert log.size == 33 and log.root() == root
        assert log.inclusion_proof(32) == merkle.inclusion_proof(_leaves(log), 32)


def test_an_empty_log_can_be_read_and_verified(tmp_path: Path, signer: NoteSigner) -> None:
    from audit.export import snapshot_log
    from audit.verify import Trust, verify_snapshot

    AuditLog.open(tmp_path, signer).close()
    with LogReader(tmp_path) as reader:
        verdict = verify_snapshot(
            snapshot_log(reader), Trust(log_key=signer.verifier()), require_anchor=False
        )
    assert verdict.entries == 0 and verdict.checkpoints == [0]
