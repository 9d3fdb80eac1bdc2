"""Properties: every proof emitted verifies; every flipped bit makes verification fail.

The one flip that cannot fail is in the new root of a consistency check from the empty
tree: the empty tree is a prefix of every tree, so its proof is empty and binds nothing.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from audit import errors, merkle

CHECKS = settings(max_examples=150, deadline=None, database=None)
MAX_SIZE = 300


def tree(seed: int, size: int) -> list[bytes]:
    return [merkle.leaf_hash(b"%d/%d" % (seed, i)) for i in range(size)]


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    flipped = bytearray(value)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@st.composite
def inclusions(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(1, MAX_SIZE))
    return tree(draw(st.integers(0, 2**16)), size), draw(st.integers(0, size - 1))


@st.composite
def consistencies(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(0, MAX_SIZE))
    return tree(draw(st.integers(0, 2**16)), size), draw(st.integers(0, size))


bits = st.integers(0, 2**20)


@CHECKS
@given(inclusions())
def test_every_inclusion_proof_verifies(case: tuple[list[bytes], int]) -> None:
    hashes, index = case
    proof = merkle.inclusion_proof(hashes, index)
    merkle.verify_inclusion(hashes[index], index, len(hashes), proof, merkle.root(hashes))


@CHECKS
@given(inclusions(), st.sampled_from(["leaf", "proof", "root"]), bits, bits)
def test_any_flipped_bit_fails_inclusion(
    case: tuple[list[bytes], int], target: str, element: int, bit: int
) -> None:
    hashes, index = case
    leaf, root = hashes[index], merkle.root(hashes)
    proof = merkle.inclusion_proof(hashes, index)
    if target == "leaf":
        leaf = flip(leaf, bit)
    elif target == "root":
        root = flip(root, bit)
    elif proof:
        element %= len(proof)
        proof[element] = flip(proof[element], bit)
    else:
        return
    try:
        merkle.verify_inclusion(leaf, index, len(hashes), proof, root)
    except errors.RootMismatchError:
        return
    raise AssertionError("a flipped bit verified")


@CHECKS
@given(consistencies())
def test_every_consistency_proof_verifies(case: tuple[list[bytes], int]) -> None:
    hashes, old_size = case
    proof = merkle.consistency_proof(hashes, old_size)
    old_root, new_root = merkle.root(hashes[:old_size]), merkle.root(hashes)
    merkle.verify_consistency(old_size, len(hashes), proof, old_root, new_root)


@CHECKS
@given(consistencies(), st.sampled_from(["old", "new", "proof"]), bits, bits)
def test_any_flipped_bit_fails_consistency(
    case: tuple[list[bytes], int], target: str, element: int, bit: int
) -> None:
    hashes, old_size = case
    proof = merkle.consistency_proof(hashes, old_size)
    old_root, new_root = merkle.root(hashes[:old_size]), merkle.root(hashes)
    if target == "old":
        old_root = flip(old_root, bit)
    elif target == "new" and old_size > 0:
        new_root = flip(new_root, bit)
    elif target == "proof" and proof:
        element %= len(proof)
        proof[element] = flip(proof[element], bit)
    else:
        return
    try:
        merkle.verify_consistency(old_size, len(hashes), proof, old_root, new_root)
    except errors.RootMismatchError:
        return
    raise AssertionError("a flipped bit verified")


@CHECKS
@given(inclusions(), st.integers(1, MAX_SIZE))
def test_a_proof_fails_for_every_other_index(case: tuple[list[bytes], int], shift: int) -> None:
    # Not so for other sizes: (index 0, size 3) and (0, 4) hash alike, so a root binds its
    # size only through the signed checkpoint that carries both.
    hashes, index = case
    if len(hashes) == 1:
        return
    other = (index + shift % (len(hashes) - 1) + 1) % len(hashes)
    proof, root = merkle.inclusion_proof(hashes, index), merkle.root(hashes)
    try:
        merkle.verify_inclusion(hashes[index], other, len(hashes), proof, root)
    except errors.ProofError:
        return
    raise AssertionError("a proof verified for another leaf index")


@CHECKS
@given(st.lists(st.integers(0, 70), max_size=12), st.integers(0, 2**16))
def test_frontier_batches_do_not_change_the_root(batches: list[int], seed: int) -> None:
    hashes = tree(seed, sum(batches))
    frontier, start = merkle.Frontier(), 0
    for count in batches:
        if count % 2:
            frontier.extend(hashes[start : start + count])
        else:
            for leaf_hash in hashes[start : start + count]:
                frontier.append(leaf_hash)
        start += count
    assert frontier.size == len(hashes)
    assert frontier.root() == merkle.root(hashes)
