"""SqliteAtomicDB: a batch commits whole or not at all; unbatched writes ride the next batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger._embedded.kvstore import SqliteAtomicDB


def test_batch_commits_all_keys_in_one_transaction(tmp_path: Path) -> None:
    db = SqliteAtomicDB(tmp_path / "kv.sqlite")
    with db.atomic_batch() as batch:
        batch[b"a"] = b"1"
        batch[b"b"] = b"2"
        assert batch[b"a"] == b"1"
    db.close()
    reopened = SqliteAtomicDB(tmp_path / "kv.sqlite")
    assert (reopened[b"a"], reopened[b"b"]) == (b"1", b"2")
    reopened.close()


def test_a_failed_batch_leaves_nothing(tmp_path: Path) -> None:
    db = SqliteAtomicDB(tmp_path / "kv.sqlite")
    db[b"keep"] = b"x"
    with pytest.raises(RuntimeError), db.atomic_batch() as batch:
        batch[b"a"] = b"1"
        del batch[b"keep"]
        raise RuntimeError("boom")
    assert b"a" not in db
    assert db[b"keep"] == b"x"
    db.close()


def test_unbatched_writes_are_visible_and_durable_after_the_next_batch(tmp_path: Path) -> None:
    db = SqliteAtomicDB(tmp_path / "kv.sqlite")
    db[b"node"] = b"trie"
    assert db[b"node"] == b"trie"
    with db.atomic_batch() as batch:
        batch[b"head"] = b"block"
    del db[b"node"]
    assert b"node" not in db
    with pytest.raises(KeyError):
        del db[b"missing"]
    db.close()
    reopened = SqliteAtomicDB(tmp_path / "kv.sqlite")
    assert reopened[b"head"] == b"block"
    assert b"node" not in reopened
    reopened.close()
