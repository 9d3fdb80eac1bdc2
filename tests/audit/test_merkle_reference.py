"""The fast code in audit.merkle agrees with the naive RFC 9162 transcription."""

import random

import naive_merkle as naive
import pytest

from audit import merkle

SMALL_SIZES = range(65)
LARGE_SIZES = sorted(random.Random(6962).sample(range(65, 3000), 4))


def leaves(n: int) -> list[bytes]:
    return [naive.leaf(b"entry %d" % i) for i in range(n)]


def test_hashing_matches_reference() -> None:
    assert merkle.leaf_hash(b"abc") == naive.leaf(b"abc")
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == naive.node(b"L" * 32, b"R" * 32)
    assert naive.mth([]) == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", [*SMALL_SIZES, *LARGE_SIZES])
def test_root_matches_reference(size: int) -> None:
    hashes = leaves(size)
    assert merkle.root(hashes) == naive.mth(hashes)


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_every_inclusion_proof_matches_reference(size: int) -> None:
    hashes = leaves(size)
    for index in range(size):
        assert merkle.inclusion_proof(hashes, index) == naive.path(index, hashes)


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_every_consistency_proof_matches_reference(size: int) -> None:
    hashes = leaves(size)
    assert merkle.consistency_proof(hashes, 0) == []
    for old_size in range(1, size + 1):
        assert merkle.consistency_proof(hashes, old_size) == naive.proof(old_size, hashes)


@pytest.mark.parametrize("size", LARGE_SIZES)
def test_sampled_proofs_match_reference_for_larger_trees(size: int) -> None:
    hashes = leaves(size)
    rng = random.Random(size)
    for index in [0, size - 1, *rng.sample(range(size), 3)]:
        assert merkle.inclusion_proof(hashes, index) == naive.path(index, hashes)
    for old_size in [1, size - 1, size, *rng.sample(range(1, size), 3)]:
        assert merkle.consistency_proof(hashes, old_size) == naive.proof(old_size, hashes)


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_every_reference_proof_verifies(size: int) -> None:
    hashes = leaves(size)
    tree_root = naive.mth(hashes)
    for index in range(size):
        merkle.verify_inclusion(hashes[index], index, size, naive.path(index, hashes), tree_root)
    merkle.verify_consistency(0, size, [], merkle.EMPTY_ROOT, tree_root)
    for old_size in range(1, size + 1):
        old_root = naive.mth(hashes[:old_size])
        proof = naive.proof(old_size, hashes)
        merkle.verify_consistency(old_size, size, proof, old_root, tree_root)


@pytest.mark.parametrize("size", [*SMALL_SIZES, *LARGE_SIZES])
def test_frontier_holds_the_perfect_subtree_roots(size: int) -> None:
    hashes = leaves(size)
    frontier = merkle.Frontier()
    for leaf_hash in hashes:
        frontier.append(leaf_hash)
    assert frontier.size == size
    assert list(frontier.hashes) == naive.perfect_subtree_roots(hashes)
    assert frontier.root() == naive.mth(hashes)


def test_frontier_extend_in_uneven_batches_matches_reference() -> None:
    hashes = leaves(5000)
    rng = random.Random(9162)
    frontier, start = merkle.Frontier(), 0
    while start < len(hashes):
        stop = min(len(hashes), start + rng.choice([0, 1, 2, 3, 7, 64, 100, 1000]))
        frontier.extend(hashes[start:stop])
        start = stop
        assert frontier.root() == naive.mth(hashes[:start])
    assert list(frontier.hashes) == naive.perfect_subtree_roots(hashes)


def test_root_of_more_than_one_chunk_matches_reference() -> None:
    size = (1 << 16) + 3  # crosses the level-by-level chunk size of audit.merkle
    hashes = leaves(size)
    k = 1 << 16
    assert merkle.root(hashes) == naive.node(naive.mth(hashes[:k]), naive.mth(hashes[k:]))
