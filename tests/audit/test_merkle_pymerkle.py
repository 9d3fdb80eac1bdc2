"""audit.merkle agrees with an independent implementation, pymerkle 7.

pymerkle's ``InmemoryTree(algorithm="sha256")`` hashes as RFC 6962 only with its default
"security" on (the 0x00 leaf and 0x01 node prefixes); ``disable_security=True`` drops them
and gives other roots. pymerkle counts leaves from 1 and starts its paths with the leaf
hash itself. Its consistency proofs are not RFC 9162's PROOF (it splits a range at the old
size differently), so for those we check that it accepts our roots, not equal paths.
"""

import random

import pymerkle
import pytest

from audit import errors, merkle

SIZES = [*range(1, 65), *sorted(random.Random(7).sample(range(65, 1500), 3))]


def entries(n: int) -> list[bytes]:
    return [b"row digest %d" % i for i in range(n)]


@pytest.fixture(scope="module")
def tree() -> pymerkle.InmemoryTree:
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for data in entries(max(SIZES)):
        tree.append_entry(data)
    return tree


@pytest.fixture(scope="module")
def hashes() -> list[bytes]:
    return [merkle.leaf_hash(data) for data in entries(max(SIZES))]


def test_pymerkle_defaults_are_rfc6962(tree: pymerkle.InmemoryTree, hashes: list[bytes]) -> None:
    assert tree.security and tree.algorithm == "sha256"
    assert pymerkle.InmemoryTree(algorithm="sha256").get_root() == merkle.EMPTY_ROOT
    assert all(tree.get_leaf(i + 1) == hashes[i] for i in range(len(hashes)))


def test_pymerkle_without_prefixes_is_not_rfc6962(hashes: list[bytes]) -> None:
    bare = pymerkle.InmemoryTree(algorithm="sha256", disable_security=True)
    for data in entries(4):
        bare.append_entry(data)
    assert bare.get_root() != merkle.root(hashes[:4])


@pytest.mark.parametrize("size", SIZES)
def test_roots_agree(tree: pymerkle.InmemoryTree, hashes: list[bytes], size: int) -> None:
    assert tree.get_root(size) == merkle.root(hashes[:size])


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_proofs_agree(
    tree: pymerkle.InmemoryTree, hashes: list[bytes], size: int
) -> None:
    tree_root = merkle.root(hashes[:size])
    for index in random.Random(size).sample(range(size), min(size, 8)):
        theirs = tree.prove_inclusion(index + 1, size)
        assert theirs.path == [hashes[index], *merkle.inclusion_proof(hashes[:size], index)]
        merkle.verify_inclusion(hashes[index], index, size, theirs.path[1:], tree_root)


@pytest.mark.parametrize("size", SIZES)
def test_pymerkle_consistency_proofs_accept_our_roots(
    tree: pymerkle.InmemoryTree, hashes: list[bytes], size: int
) -> None:
    new_root = merkle.root(hashes[:size])
    for old_size in random.Random(size).sample(range(1, size + 1), min(size, 8)):
        old_root = merkle.root(hashes[:old_size])
        proof = tree.prove_consistency(old_size, size)
        proof.verify(old_root, new_root, prior_size=old_size, later_size=size)
        if old_size < size:
            with pytest.raises(pymerkle.InvalidProof):
                proof.verify(new_root, new_root)


def test_our_verifier_rejects_pymerkle_inclusion_paths_for_other_leaves(
    tree: pymerkle.InmemoryTree, hashes: list[bytes]
) -> None:
    path = tree.prove_inclusion(3, 10).path[1:]
    with pytest.raises(errors.RootMismatchError):
        merkle.verify_inclusion(hashes[3], 2, 10, path, merkle.root(hashes[:10]))
